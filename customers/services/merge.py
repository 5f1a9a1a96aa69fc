"""Merging two cards of the same customer (a manager's action).

Every row that points at the duplicate card — by a foreign key of any ``on_delete``
(``PROTECT`` included), or a many-to-many link, which is a row of its through table — moves
to the surviving card. The relations are walked from Django's model metadata, so rows of
apps built later (credit, complaints, sales) move too without this module knowing them;
what happens where both cards hold "the same" row is each model's merge policy
(``customers.merge_policies``). **A merge never deletes a row to settle a conflict**: it
refuses, listing what conflicts, before writing anything; or the duplicate's row stays
attached to the merged card; or the policy combines the two rows. The one exception is a
grant (guardian row) the survivor already holds: the duplicate's copy is redundant and is
revoked through the grant service, audited and kept in the grant's history — leaving a live
grant on the merged card would keep its holder able to read the merged card after the
survivor's grant ends.

**Keys.** Moved rows are re-encrypted under the survivor's data key (their values are
opened under the duplicate's first). Their *history* rows are not rewritten: each keeps the
``data_key_id`` (or parent) it names and its old ciphertexts, bound to the row's ``uid``, so
it still opens under the duplicate's key. That key therefore stays: the merged card keeps
it (``data_key_id``), and ``crm.key_sweep`` never deletes a key that any row, history
included, still names. Destroying it — a later purge of the merged card — shreds the moved
rows' history from before the merge with it, as intended for the person's old data.
A model whose encrypted values reach their key through a path that does not go through its
own foreign key to the card (``invoice.customer.data_key_id`` on an invoice line) is not
re-encrypted by this walk: give such rows their own ``data_key_id`` column.

**Locks.** Both cards are locked in id order, so two opposite merges (A into B, B into A)
queue instead of deadlocking; the second finds a merged card and is refused.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.services import record_event
from crm import search_index
from crm.fields import EncryptedMixin, open_all
from crm.models import User
from crm.permissions import require_perm
from customers import events, merge_policies, search
from customers import permissions as perms
from customers.merge_policies import COMBINE, KEEP_SURVIVORS, MOVE, REFUSE_IF_CONFLICT
from customers.models import Customer
from customers.selectors import CustomerLink, customer_links
from customers.services.cards import _save, customer_access_revoke

# --- conflicts ----------------------------------------------------------------------------


def _unique_rules(link: CustomerLink) -> list[tuple[tuple[str, ...], models.Q | None]]:
    """(other fields, condition) of each rule that allows a row once per customer."""
    meta = link.model._meta
    name = link.field.name
    rules: list[tuple[tuple[str, ...], models.Q | None]] = []
    if link.field.unique:
        rules.append(((), None))
    for fields in meta.unique_together:
        if name in fields:
            rules.append((tuple(f for f in fields if f != name), None))
    for constraint in meta.total_unique_constraints + [
        c
        for c in meta.constraints
        if isinstance(c, models.UniqueConstraint) and c.condition is not None and c.fields
    ]:
        if name in constraint.fields:
            others = tuple(f for f in constraint.fields if f != name)
            rules.append((others, constraint.condition))
    policy = link.policy
    if policy.same_row:
        rules.append((tuple(policy.same_row), policy.where))
    return rules


def _conflicts(
    link: CustomerLink, survivor: Customer, duplicate: Customer
) -> dict[int, models.Model]:
    """The duplicate's rows that the survivor already holds: duplicate row id -> its
    counterpart on the survivor."""
    found: dict[int, models.Model] = {}
    for others, condition in _unique_rules(link):
        attnames = [link.model._meta.get_field(f).attname for f in others]
        theirs, ours = link.rows(survivor), link.rows(duplicate)
        if condition is not None:
            theirs, ours = theirs.filter(condition), ours.filter(condition)
        held = {}
        for row in theirs:
            key = tuple(getattr(row, a) for a in attnames)
            if None not in key:  # NULLs never collide in a unique rule
                held.setdefault(key, row)
        if not held:
            continue
        for row in ours:
            key = tuple(getattr(row, a) for a in attnames)
            if key in held and row.pk not in found:
                found[row.pk] = held[key]
    return found


def _refusal(refused: dict[type[models.Model], int]) -> ValidationError:
    listed = "; ".join(
        f"{capfirst(model._meta.verbose_name_plural)}: {count}" for model, count in refused.items()
    )
    message = ngettext(
        "The cards cannot be merged: both hold a record that a customer may have only "
        "once. Resolve it first (%(conflicts)s).",
        "The cards cannot be merged: both hold records that a customer may have only "
        "once. Resolve them first (%(conflicts)s).",
        sum(refused.values()),
    ) % {"conflicts": listed}
    return ValidationError(message, code="merge_conflict")


# --- moving -------------------------------------------------------------------------------


def _rekey(row, duplicate: Customer, survivor: Customer) -> None:
    """Open ``row``'s values under the duplicate's key and name the survivor's key, so the
    next save re-encrypts them (keys reached through the card follow the new link)."""
    encrypted = [f for f in row._meta.concrete_fields if isinstance(f, EncryptedMixin)]
    if not encrypted:
        return
    open_all(row)
    for field in encrypted:
        column = field.subject_key_field
        under_duplicate = (
            column and "." not in column and str(getattr(row, column)) == str(duplicate.data_key_id)
        )
        if under_duplicate:
            setattr(row, column, survivor.data_key_id)


def _move(link: CustomerLink, row, survivor: Customer, duplicate: Customer, actor, note) -> None:
    _rekey(row, duplicate, survivor)
    setattr(row, link.field.name, survivor)
    try:
        with transaction.atomic():
            if hasattr(row, "history"):
                _save(row, actor, note)
            else:
                row.save()
    except IntegrityError as error:
        # A unique rule the walk cannot read (an expression): refuse, never delete.
        raise _refusal({link.model: 1}) from error


def _repoint_merged_cards(survivor: Customer, duplicate: Customer, actor, note) -> int:
    """Cards merged earlier into the duplicate now name the survivor (their history shows
    on its timeline)."""
    count = 0
    for card in Customer.objects.filter(merged_into=duplicate).order_by("pk"):
        card.merged_into = survivor
        card.version += 1
        _save(card, actor, note)
        count += 1
    return count


def _refuse_merged_cards(survivor: Customer, duplicate: Customer) -> None:
    if Customer.Status.MERGED in (survivor.status, duplicate.status):
        raise ValidationError(
            {"duplicate": [_("A merged card cannot take part in a merge: it was merged already.")]}
        )


@search_index.atomic()
def customer_merge(
    *, actor: User, survivor_id: int, duplicate_id: int, reason: str = ""
) -> dict[str, int]:
    """Merge the duplicate card into the survivor; returns the rows moved per model.

    Raises ``ValidationError`` listing the conflicting records (model names and counts)
    when a policy refuses, before anything is written.
    """
    require_perm(actor, perms.MERGE, _("You are not allowed to merge customers."))
    if str(survivor_id) == str(duplicate_id):
        raise ValidationError({"duplicate": [_("Choose two different cards.")]})
    perms.access_customer(actor, survivor_id, action="change")
    perms.access_customer(actor, duplicate_id, action="change")
    # Locked in id order whichever card survives: opposite merges queue, never deadlock.
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[survivor_id, duplicate_id])
        .order_by("pk")
    }
    survivor, duplicate = locked[int(survivor_id)], locked[int(duplicate_id)]
    _refuse_merged_cards(survivor, duplicate)
    note = f"merged {duplicate.code} into {survivor.code}"

    plan = []
    refused: dict[type[models.Model], int] = {}
    for link in customer_links():
        conflicts = _conflicts(link, survivor, duplicate)
        if conflicts and link.policy.action in (MOVE, REFUSE_IF_CONFLICT):
            refused[link.model] = refused.get(link.model, 0) + len(conflicts)
        plan.append((link, conflicts))
    if refused:
        raise _refusal(refused)

    moved: dict[str, int] = {}
    kept: dict[str, int] = {}
    combined: dict[str, int] = {}
    for link, conflicts in plan:
        policy = link.policy
        for row in link.rows(duplicate):
            counterpart = conflicts.get(row.pk)
            if counterpart is not None:
                if policy.action == COMBINE:
                    combined[link.label] = combined.get(link.label, 0) + 1
                    may_move = policy.combine(
                        survivor_row=counterpart, duplicate_row=row, actor=actor, reason=note
                    )
                    if not may_move:
                        continue
                else:  # KEEP_SURVIVORS: the duplicate's row stays on the merged card
                    kept[link.label] = kept.get(link.label, 0) + 1
                    continue
            _move(link, row, survivor, duplicate, actor, note)
            moved[link.label] = moved.get(link.label, 0) + 1
    repointed = _repoint_merged_cards(survivor, duplicate, actor, note)

    duplicate.status = Customer.Status.MERGED
    duplicate.merged_into = survivor
    duplicate.version += 1
    _save(duplicate, actor, note)
    # The merged card keeps no digests (its phone must not block a new card); the moved
    # rows' digests now belong to the survivor's key, so a purge of the survivor reaches
    # them. The duplicate's data key itself stays (see the module's docstring).
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
            "kept_on_merged_card": kept,
            "combined": combined,
            "merged_cards_repointed": repointed,
        },
    )
    return moved


# --- the customers app's own policies (registered in CustomersConfig.ready) --------------


def _combine_attribute_values(*, survivor_row, duplicate_row, actor, reason) -> bool:
    """The survivor's value stands; where it has none, it takes the duplicate's. The
    duplicate's row stays on the merged card either way."""
    field = "secret_value" if duplicate_row.attribute.is_personal else "value"
    if not getattr(survivor_row, field) and getattr(duplicate_row, field):
        setattr(survivor_row, field, getattr(duplicate_row, field))
        _save(survivor_row, actor, reason, update_fields=[field, "updated_at"])
    return False


def _combine_visit_plan_entries(*, survivor_row, duplicate_row, actor, reason) -> bool:
    """One active entry per rep and card: the duplicate's entry leaves the plan (moved
    with the reason); an earlier planned visit carries over to the survivor's entry."""
    from customers.models import VisitPlanEntry

    planned = duplicate_row.next_visit_on
    if planned and (survivor_row.next_visit_on is None or planned < survivor_row.next_visit_on):
        survivor_row.next_visit_on = planned
        _save(survivor_row, actor, reason, update_fields=["next_visit_on", "updated_at"])
    duplicate_row.status = VisitPlanEntry.Status.CANCELLED
    duplicate_row.removed_reason = reason[:300]
    return True


def _combine_grants(*, survivor_row, duplicate_row, actor, reason) -> bool:
    """The survivor's grant (and its terms) stands; the duplicate's copy is redundant and
    is revoked, audited, with the terms it had (its history row keeps them too)."""
    from customers.models import CustomerUserObjectPermission

    duplicate = duplicate_row.content_object
    if isinstance(duplicate_row, CustomerUserObjectPermission):
        customer_access_revoke(
            actor=actor, customer=duplicate, grant_id=duplicate_row.pk, reason=reason
        )
        return False
    # Group grants have no service of their own (none grants them in the product yet):
    # the same steps as ``customer_access_revoke``.
    group_id, grant_id = duplicate_row.group_id, duplicate_row.pk
    duplicate_row._history_user = actor
    duplicate_row.delete()
    record_event(
        action=events.CUSTOMER_ACCESS_REVOKED,
        actor=actor,
        obj=duplicate,
        reason=reason,
        data={"group_id": group_id, "grant_id": grant_id},
    )
    return False


def register_policies() -> None:
    """The customers app's rows (called from ``CustomersConfig.ready``)."""
    from customers.models import (
        CampaignSend,
        CustomAttributeValue,
        CustomerGroupObjectPermission,
        CustomerUserObjectPermission,
        VisitPlanEntry,
    )

    merge_policies.register(CustomAttributeValue, COMBINE, combine=_combine_attribute_values)
    merge_policies.register(VisitPlanEntry, COMBINE, combine=_combine_visit_plan_entries)
    # A campaign reached both cards: both sends are facts; each stays where it happened.
    merge_policies.register(CampaignSend, KEEP_SURVIVORS)
    merge_policies.register(CustomerUserObjectPermission, COMBINE, combine=_combine_grants)
    merge_policies.register(CustomerGroupObjectPermission, COMBINE, combine=_combine_grants)
