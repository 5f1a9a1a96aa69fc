"""Custom attributes: when an attribute becomes personal, so do the values already kept.

An admin who marks an attribute personal or sensitive says its values name or describe a
person: the values kept in clear until then move into the encrypted column, under each
customer's key, and the clear copies are scrubbed from history too. Made not personal
again, the values come back in clear (values whose key was destroyed stay empty).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import record_event
from crm import encryption
from crm.fields import is_unavailable
from crm.models import User
from crm.permissions import require_perm
from customers import events
from customers.models import CustomAttribute, CustomAttributeValue
from customers.services.cards import _save

BATCH_SIZE = 500


def _values_in_batches(attribute: CustomAttribute):
    rows = CustomAttributeValue.objects.filter(attribute=attribute).order_by("pk")
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:BATCH_SIZE])
        if not batch:
            return
        encryption.data_keys_preload(row.data_key_id for row in batch)
        yield from batch
        last = batch[-1].pk


@transaction.atomic
def custom_attribute_save(*, actor: User, attribute: CustomAttribute) -> dict[str, int]:
    """Save an attribute; re-home its values if it became personal or stopped being so."""
    permission = (
        "customers.change_customattribute" if attribute.pk else "customers.add_customattribute"
    )
    require_perm(actor, permission, _("You are not allowed to change custom attributes."))
    previous = (
        CustomAttribute.objects.select_for_update().filter(pk=attribute.pk).first()
        if attribute.pk
        else None
    )
    attribute.full_clean()
    _save(attribute, actor)
    moved = {"encrypted": 0, "decrypted": 0}
    if previous is None or previous.is_personal == attribute.is_personal:
        return moved
    for row in _values_in_batches(attribute):
        if attribute.is_personal and row.value:
            row.secret_value, row.value = row.value, ""
            moved["encrypted"] += 1
        elif not attribute.is_personal and row.secret_value:
            clear = row.secret_value
            row.value = "" if is_unavailable(clear) else str(clear)
            row.secret_value = ""
            moved["decrypted"] += 1
        else:
            continue
        _save(row, actor, update_fields=["value", "secret_value", "updated_at"])
    if attribute.is_personal:
        # The clear copies in history go too: a personal value is never kept in clear.
        CustomAttributeValue.history.filter(attribute_id=attribute.pk).exclude(value="").update(
            value=""
        )
    record_event(
        action=events.ATTRIBUTE_SENSITIVITY_CHANGED,
        actor=actor,
        obj=attribute,
        data={"sensitivity": attribute.sensitivity, **moved},
    )
    return moved
