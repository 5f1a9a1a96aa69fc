"""Rewriting stored ciphertexts: master-key rotation and the upgrade to the bound format.

* ``keys_rotate`` re-wraps data keys and re-encrypts the values kept directly under a
  retired master key. Values under a subject's data key need no change for that: only the
  wrapping of their data key depends on the master key.
* ``values_reencrypt`` rewrites every value still in the first format (``enc1``, bound
  only to its key id) in the current one, bound to its model, field and row.

Both walk every model with encrypted fields, history tables included, in batches of rows
ordered by primary key, each batch in its own transaction; a run that stops part-way is
resumed by running it again, because only values still to be rewritten are selected.
Values whose data key was destroyed stay as they are: nobody can read them any more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction
from django.db.models.functions import Cast

from crm import auditing, encryption
from crm.fields import ROW_UID_FIELD, EncryptedMixin, value_context

BATCH_SIZE = 500

Progress = Callable[[str], None]


@dataclass
class RotationReport:
    data_keys: int = 0
    values: int = 0


@dataclass
class ReencryptionReport:
    values: int = 0
    erased: int = 0
    unreadable: int = 0
    per_model: dict[str, int] = field(default_factory=dict)


def encrypted_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]


def models_with_encrypted_fields() -> Iterator[type[models.Model]]:
    """Every installed model (history models included) whose rows hold ciphertexts.

    A model whose rows may never be changed (the audit trail) says so with
    ``encrypted_values_frozen = True`` and is left alone.
    """
    for model in apps.get_models():
        if encrypted_fields(model) and not getattr(model, "encrypted_values_frozen", False):
            yield model


def _stale_rows(model, model_field, prefixes: tuple[str, ...], exclude_prefix: str = ""):
    raw = Cast(model_field.attname, models.TextField())
    condition = models.Q()
    for prefix in prefixes:
        condition |= models.Q(raw_value__startswith=prefix)
    rows = model._default_manager.annotate(raw_value=raw).filter(condition)
    if exclude_prefix:
        rows = rows.exclude(raw_value__startswith=exclude_prefix)
    return rows


def _rewrite(
    model,
    model_field,
    prefixes: tuple[str, ...],
    exclude_prefix: str,
    report: ReencryptionReport,
    batch_size: int,
) -> int:
    """Rewrite the selected values of one column in batches; returns how many changed."""
    changed = 0
    last_pk = None
    pk_name = model._meta.pk.attname
    while True:
        rows = _stale_rows(model, model_field, prefixes, exclude_prefix).order_by(pk_name)
        if last_pk is not None:
            rows = rows.filter(**{f"{pk_name}__gt": last_pk})
        batch = list(rows.values_list(pk_name, ROW_UID_FIELD, "raw_value")[:batch_size])
        if not batch:
            return changed
        with transaction.atomic():
            for pk, row_uid, token in batch:
                context = value_context(model, model_field.name, row_uid)
                try:
                    new_token = encryption.reencrypt(token, context=context)
                except encryption.DataKeyDestroyed:
                    report.erased += 1
                    continue
                except encryption.DecryptionError:
                    report.unreadable += 1
                    continue
                model._default_manager.filter(**{pk_name: pk}).update(
                    **{model_field.attname: new_token}
                )
                changed += 1
        encryption.clear_key_cache()  # keys of one batch at a time in memory
        last_pk = batch[-1][0]


def values_reencrypt(
    *, progress: Progress = lambda message: None, batch_size: int = BATCH_SIZE
) -> ReencryptionReport:
    """Rewrite every first-format value in the current, place-bound format."""
    report = ReencryptionReport()
    legacy = (f"{encryption.LEGACY_PREFIX}$",)
    for model in models_with_encrypted_fields():
        label = model._meta.label_lower
        for model_field in encrypted_fields(model):
            remaining = _stale_rows(model, model_field, legacy).count()
            if not remaining:
                continue
            progress(f"{label}.{model_field.name}: {remaining} values to rewrite")
            count = _rewrite(model, model_field, legacy, "", report, batch_size)
            report.values += count
            report.per_model[label] = report.per_model.get(label, 0) + count
            progress(f"{label}.{model_field.name}: {count} rewritten")
    auditing.record(
        action=auditing.VALUES_REENCRYPTED,
        data={
            "values": report.values,
            "erased": report.erased,
            "unreadable": report.unreadable,
            "per_model": report.per_model,
        },
    )
    return report


def legacy_values_remaining() -> int:
    """How many values are still in the first format (0 once ``reencrypt`` has run)."""
    legacy = (f"{encryption.LEGACY_PREFIX}$",)
    return sum(
        _stale_rows(model, model_field, legacy).count()
        for model in models_with_encrypted_fields()
        for model_field in encrypted_fields(model)
    )


def keys_rotate(*, progress: Progress = lambda message: None) -> RotationReport:
    report = RotationReport()
    report.data_keys = encryption.data_keys_rewrap()
    progress(f"data keys re-wrapped: {report.data_keys}")
    current_id = encryption.current_master_key().key_id
    under_master = tuple(
        f"{prefix}${encryption.MASTER_PREFIX}"
        for prefix in (encryption.PREFIX, encryption.LEGACY_PREFIX)
    )
    current = f"{encryption.PREFIX}${encryption.MASTER_PREFIX}{current_id}$"
    scratch = ReencryptionReport()
    for model in models_with_encrypted_fields():
        count = sum(
            _rewrite(model, model_field, under_master, current, scratch, BATCH_SIZE)
            for model_field in encrypted_fields(model)
        )
        report.values += count
        if count:
            progress(f"{model._meta.label}: {count} values re-encrypted")
    auditing.record(
        action=auditing.KEYS_ROTATED,
        data={"data_keys": report.data_keys, "values": report.values, "master_key": current_id},
    )
    return report
