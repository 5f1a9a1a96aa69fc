"""The Celery application.

With no ``CELERY_BROKER_URL`` the settings switch tasks to eager mode, so they run
in-process; ``make run`` and the SQLite test run need no broker.
"""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _forget_unwrapped_keys(**kwargs):
    # A worker lives for days; unwrapped data keys must not outlive one task,
    # or a shredded key would stay readable in a long-lived worker.
    from crm.encryption import clear_key_cache

    clear_key_cache()


_denial_blocks: dict = {}


@task_prerun.connect
def _collect_denials(task_id=None, **kwargs):
    # Refusals raised inside a task's transactions are recorded when the task ends.
    from crm.exceptions import denials_recorded

    block = denials_recorded()
    block.__enter__()
    _denial_blocks[task_id] = block


@task_postrun.connect
def _record_denials(task_id=None, **kwargs):
    block = _denial_blocks.pop(task_id, None)
    if block is not None:
        block.__exit__(None, None, None)
