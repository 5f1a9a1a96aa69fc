"""Data keys live and die with their rows (DESIGN §3 "Encryption at rest").

A data key is created in the keys database just before its subject's row is saved, in a
transaction that rolls back with the business one; yet a row can still fail to commit
after its key did (an import rolled back as a whole, a crash between the two commits).
Such a key protects nothing and must not linger: ``data_keys_sweep`` deletes every key
older than ``DATA_KEY_ORPHAN_HOURS`` that no row references, in any table with encrypted
values, history tables included. It runs daily (``crm.data_keys_sweep``) and by hand
(``manage.py data_keys_sweep``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone

from crm import auditing, encryption
from crm.fields import EncryptedMixin
from crm.models import DataKey

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


def key_columns() -> list[tuple[type, str]]:
    """(model, column) of every local column that holds the data key of its row's values."""
    columns = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedMixin) and field.subject_key_field:
                name = field.subject_key_field
                if "." not in name:
                    columns.add((model, model._meta.get_field(name).attname))
    return sorted(columns, key=lambda pair: (pair[0]._meta.label, pair[1]))


def _referenced(key_ids: list) -> set[str]:
    found: set[str] = set()
    for model, column in key_columns():
        rows = model._default_manager.filter(**{f"{column}__in": key_ids})
        found.update(str(value) for value in rows.values_list(column, flat=True).distinct())
    return found


def data_keys_sweep(*, older_than: timedelta | None = None) -> int:
    """Delete data keys that no row references; returns how many were deleted."""
    if older_than is None:
        older_than = timedelta(hours=settings.DATA_KEY_ORPHAN_HOURS)
    cutoff = timezone.now() - older_than
    candidates = (
        DataKey.objects.filter(created_at__lt=cutoff).order_by("id").values_list("id", flat=True)
    )
    deleted = 0
    last = None
    while True:
        page = candidates if last is None else candidates.filter(id__gt=last)
        batch = list(page[:BATCH_SIZE])
        if not batch:
            break
        last = batch[-1]
        referenced = _referenced(batch)
        orphans = [key_id for key_id in batch if str(key_id) not in referenced]
        encryption.data_keys_delete_now(orphans)
        deleted += len(orphans)
    logger.info("data keys swept: %d without a row, older than %s", deleted, older_than)
    if deleted:
        auditing.record(action=auditing.DATA_KEYS_SWEPT, data={"deleted": deleted})
    return deleted
