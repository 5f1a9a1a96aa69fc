"""Master-key rotation: re-wrap data keys, re-encrypt values kept under a master key.

Values under a subject's data key need no change: only the wrapping of their data key
depends on the master key. History tables are included, so a retired master key can be
removed from FIELD_ENCRYPTION_KEYS once this has run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models.functions import Cast

from crm import auditing, encryption
from crm.fields import EncryptedMixin


@dataclass
class RotationReport:
    data_keys: int = 0
    values: int = 0


def encrypted_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]


def _rotate_model(model, current_id: str) -> int:
    changed = 0
    current_prefix = f"{encryption.PREFIX}${encryption.MASTER_PREFIX}{current_id}$"
    master_prefix = f"{encryption.PREFIX}${encryption.MASTER_PREFIX}"
    for field in encrypted_fields(model):
        raw = Cast(field.attname, models.TextField())
        stale = (
            model._default_manager.annotate(raw_value=raw)
            .filter(raw_value__startswith=master_prefix)
            .exclude(raw_value__startswith=current_prefix)
            .values_list("pk", "raw_value")
        )
        for pk, token in stale.iterator(chunk_size=500):
            with transaction.atomic():
                model._default_manager.filter(pk=pk).update(
                    **{field.attname: encryption.reencrypt(token)}
                )
            changed += 1
    return changed


def keys_rotate(*, progress: Callable[[str], None] = lambda message: None) -> RotationReport:
    report = RotationReport()
    report.data_keys = encryption.data_keys_rewrap()
    progress(f"data keys re-wrapped: {report.data_keys}")
    current_id = encryption.current_master_key().key_id
    for model in apps.get_models():
        if encrypted_fields(model):
            count = _rotate_model(model, current_id)
            report.values += count
            if count:
                progress(f"{model._meta.label}: {count} values re-encrypted")
    auditing.record(
        action=auditing.KEYS_ROTATED,
        data={"data_keys": report.data_keys, "values": report.values, "master_key": current_id},
    )
    return report
