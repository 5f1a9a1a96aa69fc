"""A real task through the real broker to a real worker (CI runs it on Redis)."""

import os
import uuid

import pytest
from django.conf import settings

from crm.tasks import health_ping

BROKER = os.environ.get("CELERY_BROKER_URL", "")


def test_task_runs_in_process_without_a_broker():
    token = uuid.uuid4().hex
    assert health_ping.delay(token).get()["token"] == token


@pytest.mark.celery_worker
@pytest.mark.skipif(
    not BROKER and not os.environ.get("CRM_REQUIRE_BROKER_TESTS"),
    reason="needs CELERY_BROKER_URL (set in CI)",
)
def test_task_goes_through_the_broker_to_a_worker():
    assert BROKER, "CRM_REQUIRE_BROKER_TESTS is set but CELERY_BROKER_URL is not"
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    assert not settings.CELERY_TASK_ALWAYS_EAGER
    app.conf.task_always_eager = False
    token = uuid.uuid4().hex
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = health_ping.delay(token)
        answer = result.get(timeout=20)
    assert answer["token"] == token
    assert result.backend.__class__.__name__ == "RedisBackend"
