"""Shared pytest set-up.

* Every database test may use both aliases (``default`` and ``keys``): customers'
  data keys live in the second one.
* Celery runs eagerly unless a test is marked ``celery_worker``.
"""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and "databases" not in marker.kwargs:
            item.add_marker(
                pytest.mark.django_db(*marker.args, databases="__all__", **marker.kwargs),
                append=False,
            )


@pytest.fixture(autouse=True)
def _eager_celery(request):
    from crm.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    from crm.encryption import clear_key_cache

    clear_key_cache()
    yield
    clear_key_cache()
