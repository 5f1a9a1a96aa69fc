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
