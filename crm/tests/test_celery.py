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


def test_eager_delays_racing_in_threads_leave_the_join_guard_raised():
    """The race that made the test above fail in CI when it ran after a thread test."""
    from celery._state import task_join_will_block
    from celery.result import denied_join_result

    first, second = denied_join_result(), denied_join_result()
    first.__enter__()  # thread A enters its eager apply
    second.__enter__()  # thread B enters while A is inside
    first.__exit__(None, None, None)  # A leaves and lowers the guard
    second.__exit__(None, None, None)  # B leaves and restores "raised"
    assert task_join_will_block()


def test_each_test_starts_with_the_join_guard_lowered():
    """Runs after the one above: the shared fixture lowered the guard it left raised."""
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
