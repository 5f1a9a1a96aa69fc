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

**The card's own values.** The survivor keeps its values, except the fields the caller names
in ``take_from_duplicate`` (``TAKEABLE_FIELDS``, checked before anything is written): the
values an edit may change (``merge_policies.MERGEABLE_FIELDS``) are set from the duplicate
through the survivor's fields, so encrypted ones are encrypted again under the survivor's
key and bound to its row, never copied as ciphertext. The owner (his team with him), the
service stage and the status (``ACTION_FIELDS``) are taken by their own actions on the
card, in the merge's transaction and under their own rules: an owner change, a stage move
(the duplicate's responsible user) and a status change, each with its history row and its
event. The kind is never taken (it decides which fields a card has).
``customer_merge_preview`` shows both cards masked, what differs and what the merge would
do, for the page and the API to confirm before merging.

**Locks.** Both cards are locked in id order, so two opposite merges (A into B, B into A)
queue instead of deadlocking; the second finds a merged card and is refused.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.services import record_event
from crm import search_index
from crm.fields import EncryptedMixin, is_unavailable, open_all
from crm.models import User
from crm.permissions import require_perm
from crm.personal_data import masked_value, shown_value
from crm.templatetags.formatting import labelled
from customers import events, merge_policies, search
from customers import permissions as perms
from customers.merge_policies import (
    COMBINE,
    COMPANION_FIELDS,
    INDIVIDUAL_ONLY_FIELDS,
    KEEP_SURVIVORS,
    MERGEABLE_FIELDS,
    MOVE,
    ORGANISATION_ONLY_FIELDS,
    REFUSE_IF_CONFLICT,
)
from customers.models import Customer
from customers.selectors import CustomerLink, customer_links
from customers.services.cards import (
    _reverification_due,
    _save,
    _validate_card,
    check_duplicates,
    customer_access_revoke,
)
from customers.services.records import stage_move
from customers.services.workspace import (
    customer_owner_change,
    customer_status_change,
    may_act_on,
    may_reopen,
    status_needs_reason,
    status_transition_refusal,
)

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
        # Both cards' rows in one query per rule (a fixed number of queries per model).
        rows = link.model._default_manager.filter(
            **{f"{link.field.name}__in": [survivor.pk, duplicate.pk]}
        ).order_by("pk")
        if condition is not None:
            rows = rows.filter(condition)
        theirs, ours = [], []
        for row in rows:
            owner_id = getattr(row, link.field.attname)
            (theirs if str(owner_id) == str(survivor.pk) else ours).append(row)
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
    """Refused when either card is merged already; the message names that card's code."""
    for side, card in (("survivor", survivor), ("duplicate", duplicate)):
        if card.status == Customer.Status.MERGED:
            message = _(
                "Card %(code)s was merged already: a merged card cannot take part in a merge."
            ) % {"code": card.code}
            raise ValidationError({side: [message]})


# --- the card's own values: which survive ----------------------------------------------

# The card's values a merge takes through the card's own action, under that action's rules
# (an owner change, a stage move, a status change), rather than by setting the field. Kept
# here, not in ``card_fields``/``merge_policies``: an edit of the card never sets them.
ACTION_FIELDS = ("owner", "stage", "status")
# Every name ``take_from_duplicate`` accepts. The preview also compares the kind (never
# taken: it decides which fields a card has) and the team (it follows the owner).
TAKEABLE_FIELDS = (*MERGEABLE_FIELDS, *ACTION_FIELDS)
PREVIEW_FIELDS = (
    "name",
    "kind",
    "status",
    "owner",
    "team",
    "business_type",
    "stage",
    "tier",
    *(f for f in MERGEABLE_FIELDS if f not in ("name", "business_type", "tier")),
)
STAGE_PERMISSION = "customers.add_stagemove"
_PERSONAL = frozenset(
    f.name for f in Customer._meta.concrete_fields if isinstance(f, EncryptedMixin)
)


def _model_has(name: str) -> bool:
    try:
        Customer._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def _applies(name: str, card: Customer) -> bool:
    """Whether ``name`` is a value a card of this kind holds."""
    if name in ORGANISATION_ONLY_FIELDS:
        return card.kind == Customer.Kind.ORGANISATION
    if name in INDIVIDUAL_ONLY_FIELDS:
        return card.kind == Customer.Kind.INDIVIDUAL
    return True


def _columns(name: str) -> list[str]:
    """The attributes that hold one mergeable value (a foreign key's id; an amount's
    currency with it)."""
    names = [name, *(c for c in COMPANION_FIELDS.get(name, ()) if _model_has(c))]
    return [Customer._meta.get_field(n).attname for n in names]


def _values(card: Customer, name: str) -> tuple:
    return tuple(getattr(card, attname) for attname in _columns(name))


def _blank(value):
    return "" if value is None else value


def _differs(survivor: Customer, duplicate: Customer, name: str) -> bool:
    ours, theirs = _values(survivor, name), _values(duplicate, name)
    if any(is_unavailable(v) for v in (*ours, *theirs)):
        # An erased or unreadable value differs from anything but its own token.
        return [getattr(v, "token", v) for v in ours] != [getattr(v, "token", v) for v in theirs]
    return [_blank(v) for v in ours] != [_blank(v) for v in theirs]


def _owner_refusal(actor: User, survivor: Customer, duplicate: Customer) -> str:
    """The owner change's rules (``workspace.customer_owner_change``): a manager gives a
    card within the teams he manages, the general manager across teams; the new owner is an
    active sales rep or manager."""
    from customers.selectors import owner_candidates

    if not perms.can_reassign(actor, survivor):
        return _("You may not reassign this customer.")
    if not owner_candidates(actor).filter(pk=duplicate.owner_id).exists():
        return _(
            "The duplicate's owner cannot be made owner by you: choose an active sales rep "
            "or manager of your own team (the general manager: of any team)."
        )
    return ""


def _as_owned(survivor: Customer, duplicate: Customer, owner_taken: bool) -> Customer:
    """The survivor as the merge leaves it for the stage and status rules: with the
    duplicate's owner when that is taken too (an unsaved copy)."""
    if not owner_taken:
        return survivor
    future = copy.copy(survivor)
    future.owner_id = duplicate.owner_id
    return future


def _stage_refusal(
    actor: User, survivor: Customer, duplicate: Customer, *, owner_taken: bool
) -> str:
    """The stage move's rules (``records.stage_move``), the duplicate's responsible user
    named as responsible: he must be active and work on the surviving card."""
    if duplicate.stage_id is None:
        return _("The duplicate has no service stage.")
    if not duplicate.stage.is_active:
        return _("The duplicate's service stage is no longer in use.")
    if not actor.has_perm(STAGE_PERMISSION):
        return _("You may not move cards between stages.")
    responsible = duplicate.stage_owner
    if (
        responsible is None
        or not responsible.is_active
        or not may_act_on(responsible, _as_owned(survivor, duplicate, owner_taken))
    ):
        return _("The duplicate's stage has no responsible user who works on the surviving card.")
    return ""


def _status_refusal(
    actor: User, survivor: Customer, duplicate: Customer, *, owner_taken: bool
) -> str:
    """The status change's rules (``workspace.customer_status_change``): an allowed
    transition from the survivor's status; a closed card reopened by its team's manager or
    the general manager. (The reason it needs is the merge's: checked when merging.)"""
    from_status, to_status = survivor.status, duplicate.status
    refusal = status_transition_refusal(from_status, to_status)
    if refusal:
        return refusal
    if from_status == Customer.Status.CLOSED and not actor.has_perm(perms.VIEW_ALL):
        owner_id = (duplicate if owner_taken else survivor).owner_id
        manager = User.objects.filter(pk=owner_id).values_list("team__manager_id", flat=True)
        if not may_reopen(actor, manager.first()):
            return _("Only a manager may reopen a closed card.")
    return ""


def _take_refusal(
    name: str,
    survivor: Customer,
    duplicate: Customer,
    *,
    actor: User,
    owner_taken: bool = False,
) -> str:
    """Why the duplicate's value of ``name`` cannot be taken ("" if it can). The owner,
    stage and status follow their own actions' rules, for ``actor``; the stage and status
    are judged with the duplicate's owner when ``owner_taken``."""
    if name == "kind":
        return _("The kind decides which fields a card has: it is not taken in a merge.")
    if name == "team":
        return _("The team follows the owner: take the owner to take it.")
    if name == "owner":
        return _owner_refusal(actor, survivor, duplicate)
    if name == "stage":
        return _stage_refusal(actor, survivor, duplicate, owner_taken=owner_taken)
    if name == "status":
        return _status_refusal(actor, survivor, duplicate, owner_taken=owner_taken)
    if name not in MERGEABLE_FIELDS:
        return _("This field cannot be taken from the duplicate.")
    if not _applies(name, survivor):
        return _("This field does not apply to the surviving card.")
    if any(is_unavailable(v) for v in _values(duplicate, name)):
        return _("The duplicate's value cannot be read (erased or damaged); it cannot be taken.")
    return ""


def _field_label(name: str) -> str:
    """The card's label for a field ("Service stage"), the name as given when the card has
    no such field (an unknown name sent to the API)."""
    try:
        return str(capfirst(Customer._meta.get_field(name).verbose_name))
    except FieldDoesNotExist:
        return name


@dataclass(frozen=True)
class Taken:
    """What the survivor takes from the duplicate: values set through its fields, and the
    targets of the card's own actions (owner, stage and its responsible user, status),
    read before the duplicate is closed as merged."""

    values: dict[str, object]
    actions: dict[str, object]

    @property
    def names(self) -> list[str]:
        return sorted([*self.values, *self.actions])


def _take_check(
    actor: User, survivor: Customer, duplicate: Customer, names, *, reason: str = ""
) -> Taken:
    """What to take from the duplicate, validated; nothing is written.

    Raises ``ValidationError`` under ``take_from_duplicate`` naming each refused field
    (an unknown name, the kind or team, a value of another kind of card, an unreadable
    value, an owner, stage or status that its own action's rules refuse), or under the
    field itself for a value the card's rules refuse.
    """
    if names is None:
        return Taken(values={}, actions={})
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ValidationError(
            {"take_from_duplicate": [_("Give a list of field names.")]}, code="invalid"
        )
    wanted = list(dict.fromkeys(names))
    owner_taken = "owner" in wanted and _differs(survivor, duplicate, "owner")
    refused = []
    for name in wanted:
        if name in ACTION_FIELDS and not _differs(survivor, duplicate, name):
            continue  # the same on both cards: nothing to take, no rule to apply
        why = _take_refusal(name, survivor, duplicate, actor=actor, owner_taken=owner_taken)
        # The status change's rule: leaving the active trade, or reopening, says why.
        if (
            not why
            and name == "status"
            and not (reason or "").strip()
            and status_needs_reason(survivor.status, duplicate.status)
        ):
            why = _("Say why the status changes.")
        if why:
            refused.append(labelled(_field_label(name), why))
    if refused:
        raise ValidationError({"take_from_duplicate": refused}, code="invalid")
    differing = [name for name in wanted if _differs(survivor, duplicate, name)]
    actions = {}
    if "owner" in differing:
        actions["owner"] = duplicate.owner
    if "stage" in differing:
        actions["stage"] = (duplicate.stage, duplicate.stage_owner)
    if "status" in differing:
        actions["status"] = duplicate.status
    taken = {name: getattr(duplicate, name) for name in differing if name not in ACTION_FIELDS}
    personal = {name: value for name, value in taken.items() if name in _PERSONAL}
    if personal:
        # The card's own rules (a name is required, a phone or e-mail well formed), as an
        # edit of the survivor would apply them to the same values.
        # Only a taken name is checked (a survivor's erased name does not block the rest).
        card_name = taken.get("name", survivor.name or "-")
        checked = _validate_card(survivor.kind, {**personal, "name": card_name})
        taken.update({field_name: checked[field_name] for field_name in personal})
    return Taken(values=taken, actions=actions)


def _take_by_actions(actor: User, survivor: Customer, actions: dict, reason: str) -> None:
    """Take the owner, stage and status through the card's own actions, in this order (the
    stage's responsible user and a reopening are judged with the new owner), each with its
    history row and its event. They check their rules again on the locked card: a refusal
    rolls the whole merge back."""
    if "owner" in actions:
        customer_owner_change(
            actor=actor, customer_id=survivor.pk, owner=actions["owner"], reason=reason
        )
    if "stage" in actions:
        to_stage, responsible = actions["stage"]
        stage_move(
            actor=actor,
            customer_id=survivor.pk,
            to_stage=to_stage,
            responsible=responsible,
            note=reason,
        )
    if "status" in actions:
        customer_status_change(
            actor=actor, customer_id=survivor.pk, to_status=actions["status"], reason=reason
        )


def _take_apply(actor: User, survivor: Customer, duplicate: Customer, taken: dict) -> None:
    """Set the taken values on the survivor (saved by the caller). Encrypted values are set
    as clear values through the field, so its save encrypts them under the survivor's key,
    bound to the survivor's row: a ciphertext never moves between rows."""
    if taken.get("phone"):
        # The duplicate (merged now) holds no digests any more; a third card may.
        check_duplicates(user=actor, phone=taken["phone"], exclude_pk=survivor.pk)
    for name, value in taken.items():
        model_field = Customer._meta.get_field(name)
        if model_field.is_relation:
            setattr(survivor, model_field.attname, getattr(duplicate, model_field.attname))
        else:
            setattr(survivor, name, value)
        for companion in _columns(name)[1:]:
            setattr(survivor, companion, getattr(duplicate, companion))
    if "name" in taken:
        search.organisation_name_set(survivor)
    if "tier" in taken:
        survivor.reverification_due = _reverification_due(
            survivor.tier, timezone.localdate(survivor.reverified_at or timezone.now())
        )


# --- the plan: what moves, stays, combines or refuses ------------------------------------


def _plan(survivor: Customer, duplicate: Customer):
    """(link, conflicts) per link, and the refused conflicts per model."""
    plan = []
    refused: dict[type[models.Model], int] = {}
    for link in customer_links():
        conflicts = _conflicts(link, survivor, duplicate)
        if conflicts and link.policy.action in (MOVE, REFUSE_IF_CONFLICT):
            refused[link.model] = refused.get(link.model, 0) + len(conflicts)
        plan.append((link, conflicts))
    return plan, refused


def _pair(actor: User, survivor_id, duplicate_id) -> None:
    require_perm(actor, perms.MERGE, _("You are not allowed to merge customers."))
    if str(survivor_id) == str(duplicate_id):
        raise ValidationError({"duplicate": [_("Choose two different cards.")]})
    perms.access_customer(actor, survivor_id, action="change")
    perms.access_customer(actor, duplicate_id, action="change")


@search_index.atomic()
def customer_merge(
    *,
    actor: User,
    survivor_id: int,
    duplicate_id: int,
    reason: str = "",
    take_from_duplicate: list[str] | None = None,
) -> dict[str, int]:
    """Merge the duplicate card into the survivor; returns the rows moved per model.

    ``take_from_duplicate`` names the card's fields (``TAKEABLE_FIELDS``) whose value the
    survivor takes from the duplicate; every other value of the survivor stays. The owner
    (with his team), the stage and the status are taken by an owner change, a stage move
    (the duplicate's responsible user) and a status change, with their rules, history rows
    and events, in this transaction. The audit event names the fields taken, never their
    values.

    Raises ``ValidationError`` listing the conflicting records (model names and counts)
    when a policy refuses, or the fields that cannot be taken, before anything is written;
    a refusal of one of the card's actions afterwards rolls the whole merge back.
    """
    _pair(actor, survivor_id, duplicate_id)
    # Locked in id order whichever card survives: opposite merges queue, never deadlock.
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[survivor_id, duplicate_id])
        .order_by("pk")
    }
    survivor, duplicate = locked[int(survivor_id)], locked[int(duplicate_id)]
    _refuse_merged_cards(survivor, duplicate)
    take = _take_check(actor, survivor, duplicate, take_from_duplicate, reason=reason)
    taken = take.values
    # Every history row the merge writes carries the user's own reason (or none): the
    # timeline tells a merge by the card closed as merged, never by the reason's words.
    note = (reason or "").strip()

    plan, refused = _plan(survivor, duplicate)
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
    _take_apply(actor, survivor, duplicate, taken)
    survivor.version += 1
    if taken:
        survivor.full_clean(exclude=["data_key_id"], validate_constraints=False)
    _save(survivor, actor, note)
    if _PERSONAL & set(taken):
        search.customer_digests_write(survivor)
    _take_by_actions(actor, survivor, take.actions, note)
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
            # Names only: the values are personal data (DESIGN §3).
            "taken_from_duplicate": take.names,
        },
    )
    return moved


# --- the preview (read only) --------------------------------------------------------------


@dataclass(frozen=True)
class FieldComparison:
    """One field of both cards as the card shows it to the user (personal values masked)."""

    name: str
    label: str
    survivor: object
    duplicate: object
    differs: bool
    # Offered as a choice ("keep the survivor's / take the duplicate's"); else ``note``
    # says why not.
    mergeable: bool
    personal: bool
    note: str = ""
    # For a choice taken by the card's own action (owner, stage, status): what taking it does.
    hint: str = ""


@dataclass(frozen=True)
class RecordsToMove:
    """The duplicate's rows of one model and what the merge does with them."""

    label: str  # app_label.model
    name: str  # the model's plural name, translated
    count: int
    kept: int  # stay on the merged card (the survivor holds the same)
    combined: int  # folded into the survivor's row by the model's policy
    refused: int  # conflicts that refuse the merge


@dataclass
class MergePreview:
    survivor: Customer
    duplicate: Customer
    fields: list[FieldComparison] = dataclasses.field(default_factory=list)
    records: list[RecordsToMove] = dataclasses.field(default_factory=list)
    refusal: str = ""  # the message the merge would refuse with ("" if it would go ahead)

    @property
    def differing(self) -> list[str]:
        return [f.name for f in self.fields if f.differs]

    @property
    def choosable(self) -> list[str]:
        return [f.name for f in self.fields if f.differs and f.mergeable]


def _shown(card: Customer, name: str):
    """The value as the card shows it: personal values masked (an organisation's name in
    clear, as on the card), the others as they are (related rows as objects, choices as
    their stored value): the page and the API format them."""
    if name == "name" and card.kind == Customer.Kind.ORGANISATION:
        return shown_value(card.name)
    if name in _PERSONAL:
        return masked_value(card, name)
    return getattr(card, name)


_ACTION_HINTS = {
    "owner": gettext_lazy("Taken as an owner change: the owner's team comes too."),
    "stage": gettext_lazy("Taken as a stage move, with the duplicate's responsible user."),
    "status": gettext_lazy("Taken as a status change (the merge's reason is its reason)."),
}


def _preview_choice(actor: User, survivor: Customer, duplicate: Customer, name: str):
    """(why the differing ``name`` cannot be taken, what taking it does) for the preview.
    A stage or status that the card's rules allow only under the duplicate's owner may be
    chosen with the owner; the hint says so (the merge refuses it alone)."""
    note = _take_refusal(name, survivor, duplicate, actor=actor)
    if name not in ACTION_FIELDS:
        return note, ""
    hint = str(_ACTION_HINTS[name])
    if note and name != "owner" and _differs(survivor, duplicate, "owner"):
        with_owner = _take_refusal(name, survivor, duplicate, actor=actor, owner_taken=True)
        if not with_owner and not _owner_refusal(actor, survivor, duplicate):
            return "", " ".join([hint, _("Only together with the duplicate's owner.")])
    return note, "" if note else hint


def customer_merge_preview(*, actor: User, survivor_id, duplicate_id) -> MergePreview:
    """Both cards side by side (masked as on the card), which fields differ and may be
    taken from the duplicate, the duplicate's records that would move, stay or combine,
    and the conflicts that would refuse the merge. Writes nothing but the two card views
    to the audit trail; checks as the merge does (404 for a card the user may not see,
    403 for one he may not change)."""
    _pair(actor, survivor_id, duplicate_id)
    cards = {
        c.pk: c
        for c in Customer.objects.select_related(
            "owner", "team", "business_type", "tier", "stage", "stage_owner"
        )
        .filter(pk__in=[survivor_id, duplicate_id])
        .preload_keys()
    }
    survivor, duplicate = cards[int(survivor_id)], cards[int(duplicate_id)]
    _refuse_merged_cards(survivor, duplicate)
    # Both cards are shown (masked): each is a card view (DESIGN §3 "Access monitoring").
    for card in (survivor, duplicate):
        record_event(action=events.CUSTOMER_VIEWED, actor=actor, obj=card)
    preview = MergePreview(survivor=survivor, duplicate=duplicate)
    for name in PREVIEW_FIELDS:
        if not (_applies(name, survivor) or _applies(name, duplicate)):
            continue
        differs = _differs(survivor, duplicate, name)
        note, hint = _preview_choice(actor, survivor, duplicate, name) if differs else ("", "")
        preview.fields.append(
            FieldComparison(
                name=name,
                label=capfirst(Customer._meta.get_field(name).verbose_name),
                survivor=_shown(survivor, name),
                duplicate=_shown(duplicate, name),
                differs=differs,
                mergeable=differs and not note,
                personal=name in _PERSONAL,
                note=note,
                hint=hint,
            )
        )
    plan, refused = _plan(survivor, duplicate)
    for link, conflicts in plan:
        count = link.rows(duplicate).count()
        if not count:
            continue
        action = link.policy.action
        clashes = len(conflicts)
        preview.records.append(
            RecordsToMove(
                label=link.label,
                name=str(capfirst(link.model._meta.verbose_name_plural)),
                count=count,
                kept=clashes if action == KEEP_SURVIVORS else 0,
                combined=clashes if action == COMBINE else 0,
                refused=clashes if action in (MOVE, REFUSE_IF_CONFLICT) else 0,
            )
        )
    if refused:
        preview.refusal = " ".join(_refusal(refused).messages)
    return preview


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
