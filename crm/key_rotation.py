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
from crm.db_routers import KEYS_ALIAS
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
    progress: Progress = lambda message: None,
) -> int:
    """Rewrite the selected values of one column in batches; returns how many changed.

    Says after each batch how far it got (values done / values to do at the start).
    """
    changed = 0
    last_pk = None
    pk_name = model._meta.pk.attname
    label = f"{model._meta.label_lower}.{model_field.name}"
    total = _stale_rows(model, model_field, prefixes, exclude_prefix).count()
    if not total:
        return 0
    while True:
        rows = _stale_rows(model, model_field, prefixes, exclude_prefix).order_by(pk_name)
        if last_pk is not None:
            rows = rows.filter(**{f"{pk_name}__gt": last_pk})
        batch = list(rows.values_list(pk_name, ROW_UID_FIELD, "raw_value")[:batch_size])
        if not batch:
            return changed
        changed += _rewrite_batch(model, model_field, batch, report)
        encryption.clear_key_cache()  # keys of one batch at a time in memory
        last_pk = batch[-1][0]
        progress(f"{label}: {min(changed, total)}/{total} values rewritten")


def _rewrite_batch(model, model_field, batch, report: ReencryptionReport) -> int:
    """One batch of values, in one transaction: all of it is written, or none."""
    changed = 0
    pk_name = model._meta.pk.attname
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
    return changed


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
            count = _rewrite(model, model_field, legacy, "", report, batch_size, progress)
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


def _rewrap_batch(rows) -> int:
    """Re-wrap one batch of data keys under the current master key, in one transaction of
    the keys database; a key already re-wrapped by a concurrent run is left as it is."""
    from crm.models import DataKey

    changed = 0
    with transaction.atomic(using=KEYS_ALIAS):
        for key_id, wrapped, master_id in rows:
            material = encryption._open(
                encryption._master_key_by_id(master_id).material,
                bytes(wrapped),
                str(key_id).encode(),
            )
            new_master_id, new_wrapped = encryption._wrap(key_id, material)
            changed += DataKey.objects.filter(id=key_id, master_key_id=master_id).update(
                wrapped_key=new_wrapped, master_key_id=new_master_id
            )
    return changed


def data_keys_rewrap(*, progress: Progress = lambda message: None, batch_size: int = BATCH_SIZE):
    """Re-wrap every data key not yet under the current master key, in batches.

    Resumable: only keys still under another master key are selected, so a run stopped
    part-way (each batch commits on its own) continues where it stopped.
    """
    from crm.models import DataKey

    current = encryption.current_master_key().key_id
    stale = DataKey.objects.exclude(master_key_id=current)
    total = stale.count()
    done, last_id = 0, None
    while True:
        page = stale.order_by("id")
        if last_id is not None:
            page = page.filter(id__gt=last_id)
        rows = list(page.values_list("id", "wrapped_key", "master_key_id")[:batch_size])
        if not rows:
            break
        done += _rewrap_batch(rows)
        last_id = rows[-1][0]
        progress(f"data keys: {done}/{total} re-wrapped")
    return done


def keys_rotate(
    *, progress: Progress = lambda message: None, batch_size: int = BATCH_SIZE
) -> RotationReport:
    """Re-wrap the data keys and re-encrypt the values kept under an older master key.

    In batches, each committed on its own, with progress (done / total); a run stopped by
    a crash is resumed by running it again, and a complete run changes nothing more.
    """
    report = RotationReport()
    report.data_keys = data_keys_rewrap(progress=progress, batch_size=batch_size)
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
            _rewrite(model, model_field, under_master, current, scratch, batch_size, progress)
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
