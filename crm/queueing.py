"""Queue a Celery task from a service, by the task's registered name, once the
transaction commits (STYLE §3: never ``.delay()`` inside an open transaction).

Services name their tasks instead of importing them: an app's ``tasks`` module imports its
services (ids in, a service does the work), so a service importing ``tasks`` back would
close an import cycle. The name is looked up in the Celery app's registry when the
transaction commits; a process that has not imported the apps' ``tasks`` modules yet (a web
process, a management command) loads them first, as a worker does when it starts.
"""

from __future__ import annotations

from django.db import transaction


def registered_task(name: str):
    """The Celery task registered under ``name`` (``KeyError`` if no app defines it)."""
    from crm.celery import app

    if name not in app.tasks:
        app.autodiscover_tasks(force=True)  # every installed app's ``tasks`` module
    return app.tasks[name]


def enqueue_on_commit(name: str, *args) -> None:
    """Send task ``name`` with ``args`` (ids only, never personal data) after the commit.

    With no broker configured the task runs eagerly in-process (``crm.settings``), still
    after the commit. Outside a transaction it is sent at once.
    """
    transaction.on_commit(lambda: registered_task(name).delay(*args))
