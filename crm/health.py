"""Liveness of the database(s) and the broker, for ``/healthz``."""

from __future__ import annotations

from django.conf import settings
from django.db import connections


def database_state(alias: str) -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure means "down"; the reason goes to the log, not the page
        return "down"
    return "ok"


def broker_state() -> str:
    from crm.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "ok"  # tasks run in-process: no broker to reach
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        return "down"
    return "ok"


def health() -> dict[str, str]:
    return {
        "database": database_state("default"),
        "keys_database": database_state("keys"),
        "broker": broker_state(),
    }
