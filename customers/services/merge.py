"""Merging two cards of the same customer (a manager's action).

Every record that points at the duplicate card moves to the surviving card: the
relations are walked from Django's model metadata, so records of apps built later
(credit, complaints, sales) move too without this module knowing them. Moved rows are
re-encrypted under the survivor's data key. The duplicate's own history stays readable
(its data key is kept) and shows on the survivor's timeline. Where the survivor already
has the one row a unique rule allows (the same custom attribute, the same campaign), the
survivor's row wins and the duplicate's row is kept in history only; the merge event
counts such rows.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import record_event
from crm import search_index
from crm.fields import open_all
from crm.models import User
from customers import events, search
from customers import permissions as perms
from customers.models import (
    Customer,
    CustomerGroupObjectPermission,
    CustomerUserObjectPermission,
    VisitPlanEntry,
)
from customers.services.cards import _save


def _relations():
    for relation in Customer._meta.related_objects:
        if relation.related_model is Customer:
            continue
        if relation.one_to_many or relation.one_to_one:
            yield relation


def child_counts(customer: Customer) -> dict[str, int]:
    """Rows pointing at ``customer``, per model (used by the merge and its tests)."""
    return {
        relation.related_model._meta.label_lower: relation.related_model._default_manager.filter(
            **{relation.field.name: customer}
        ).count()
        for relation in _relations()
    }


def _move(row, field_name: str, survivor: Customer, actor: User, reason: str) -> bool:
    """Point ``row`` at the survivor (re-encrypting it); False if a unique rule forbids."""
    setattr(row, field_name, survivor)
    if any(f.name == "data_key_id" for f in row._meta.concrete_fields):
        open_all(row)  # read under the duplicate's key before it changes
        row.data_key_id = survivor.data_key_id
    if (
        isinstance(row, VisitPlanEntry)
        and row.status == VisitPlanEntry.Status.ACTIVE
        and VisitPlanEntry.objects.filter(
            rep_id=row.rep_id, customer=survivor, status=VisitPlanEntry.Status.ACTIVE
        ).exists()
    ):
        row.status = VisitPlanEntry.Status.CANCELLED
        row.removed_reason = reason
    try:
        with transaction.atomic():
            if hasattr(row, "history"):
                _save(row, actor, reason)
            else:
                row.save()
    except IntegrityError:
        return False
    return True


@search_index.atomic()
def customer_merge(
    *, actor: User, survivor_id: int, duplicate_id: int, reason: str = ""
) -> dict[str, int]:
    """Merge the duplicate card into the survivor; returns the rows moved per model."""
    if not actor.has_perm(perms.MERGE):
        raise PermissionDenied(_("You are not allowed to merge customers."))
    if str(survivor_id) == str(duplicate_id):
        raise ValidationError({"duplicate": [_("Choose two different cards.")]})
    perms.access_customer(actor, survivor_id, action="change")
    perms.access_customer(actor, duplicate_id, action="change")
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update().filter(pk__in=[survivor_id, duplicate_id])
    }
    survivor, duplicate = locked[int(survivor_id)], locked[int(duplicate_id)]
    if Customer.Status.MERGED in (survivor.status, duplicate.status):
        raise ValidationError({"duplicate": [_("A merged card cannot take part in a merge.")]})
    note = f"merged {duplicate.code} into {survivor.code}"
    moved: dict[str, int] = {}
    kept_in_history: dict[str, int] = {}
    for relation in _relations():
        model = relation.related_model
        label = model._meta.label_lower
        rows = list(model._default_manager.filter(**{relation.field.name: duplicate}))
        for row in rows:
            if model in (CustomerUserObjectPermission, CustomerGroupObjectPermission):
                holder = (
                    {"user_id": row.user_id}
                    if hasattr(row, "user_id")
                    else {"group_id": row.group_id}
                )
                if model.objects.filter(
                    content_object=survivor, permission_id=row.permission_id, **holder
                ).exists():
                    row.delete()
                    continue
            if _move(row, relation.field.name, survivor, actor, note):
                moved[label] = moved.get(label, 0) + 1
            else:
                row_id = row.pk
                row.delete()  # the survivor's row wins; this one stays in history
                search_index.digests_delete_for_objects(label, [row_id])
                kept_in_history[label] = kept_in_history.get(label, 0) + 1

    duplicate.status = Customer.Status.MERGED
    duplicate.merged_into = survivor
    duplicate.version += 1
    _save(duplicate, actor, note)
    # The merged card keeps no digests (its phone must not block a new card); the moved
    # rows' digests now belong to the survivor's key, so a purge of the survivor reaches
    # them.
    search.customer_digests_write(duplicate)
    search_index.digests_rekey(duplicate.data_key_id, survivor.data_key_id)
    survivor.version += 1
    _save(survivor, actor, note)
    record_event(
        action=events.CUSTOMER_MERGED,
        actor=actor,
        obj=survivor,
        reason=reason,
        data={
            "duplicate_id": duplicate.pk,
            "duplicate_code": duplicate.code,
            "moved": moved,
            "kept_in_history": kept_in_history,
        },
    )
    return moved
