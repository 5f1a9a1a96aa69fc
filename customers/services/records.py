"""Records kept on a card: contacts, identity documents, consents, interactions, stages,
visit plans, and the upkeep job that finds overdue re-verifications."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from crm import search_index
from crm.models import User
from crm.permissions import require_perm
from customers import events, search
from customers import permissions as perms
from customers.models import (
    Consent,
    Contact,
    Customer,
    IdentityDocument,
    Interaction,
    ServiceStage,
    StageMove,
    VisitPlanEntry,
)
from customers.selectors import reverification_overdue
from customers.services.cards import (
    _refuse_raced_duplicates,
    _save,
    check_duplicates,
    clean_document_number,
    clean_phone,
    fill_contact,
    new_consent,
    new_document,
)

# --- contacts -----------------------------------------------------------------------------


@search_index.atomic()
def contact_save(
    *,
    actor: User,
    customer: Customer,
    contact: Contact | None = None,
    name: str,
    phone: str = "",
    email: str = "",
    role: str = "",
    is_primary: bool = False,
    is_guardian: bool = False,
    audit: bool = True,
) -> Contact:
    """Add a contact to the card, or change one (``contact`` given).

    ``audit=False`` is for bulk callers (the importer) that record one event for the lot.
    """
    require_perm(actor, "customers.change_contact" if contact else "customers.add_contact")
    perms.access_customer(actor, customer.pk, action="change")
    if not (name or "").strip():
        raise ValidationError({"name": [_("This field is required.")]})
    phone = clean_phone(phone)
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email.strip())
        except ValidationError as exc:
            raise ValidationError({"email": [_("Enter a valid e-mail address.")]}) from exc
    contact = fill_contact(
        contact or Contact(customer=customer, data_key_id=customer.data_key_id),
        name=name,
        phone=phone,
        email=email,
        role=role,
        is_primary=is_primary,
        is_guardian=is_guardian,
    )
    if is_primary:
        for other in customer.contacts.filter(is_primary=True).exclude(pk=contact.pk):
            other.is_primary = False
            _save(other, actor, update_fields=["is_primary", "updated_at"])
    _save(contact, actor)
    search.record_digests_write(contact)
    if audit:
        record_event(
            action=events.CONTACT_SAVED, actor=actor, obj=customer, data={"contact_id": contact.pk}
        )
    return contact


# --- identity documents -------------------------------------------------------------------


@_refuse_raced_duplicates
@transaction.atomic
def identity_document_add(
    *,
    actor: User,
    customer: Customer,
    doc_type: str,
    number: str,
    verification_method: str = "",
    verified_at: datetime.date | None = None,
    expires_on: datetime.date | None = None,
) -> IdentityDocument:
    """Record a validated identity document; refuses one held by another customer."""
    require_perm(actor, "customers.add_identitydocument")
    perms.access_customer(actor, customer.pk, action="change")
    if doc_type not in IdentityDocument.Type.values:
        raise ValidationError({"doc_type": [_("Choose a document type.")]})
    number = clean_document_number(doc_type, number)
    check_duplicates(user=actor, numbers=[number], exclude_pk=customer.pk)
    held = search_index.ids_matching(search.DOCUMENT_NUMBER, number)
    if customer.identity_documents.filter(pk__in=held).exists():
        raise ValidationError({"number": [_("This document is already on the card.")]})
    document = new_document(
        customer,
        actor,
        doc_type=doc_type,
        number=number,
        verification_method=verification_method,
        verified_at=verified_at,
        expires_on=expires_on,
    )
    _save(document, actor)
    search.record_digests_write(document)
    record_event(
        action=events.DOCUMENT_SAVED,
        actor=actor,
        obj=customer,
        data={"document_id": document.pk, "doc_type": doc_type},
    )
    return document


@transaction.atomic
def identity_document_verify(
    *, actor: User, document: IdentityDocument, method: str, expires_on=None
) -> IdentityDocument:
    """Stamp a document as verified today by ``actor``."""
    require_perm(actor, "customers.change_identitydocument")
    perms.access_customer(actor, document.customer_id, action="change")
    if method not in IdentityDocument.Method.values:
        raise ValidationError({"verification_method": [_("Choose how it was verified.")]})
    document.verification_method = method
    document.verified_by = actor
    document.verified_at = timezone.localdate()
    if expires_on:
        document.expires_on = document.reverify_due = expires_on
    _save(document, actor)
    record_event(
        action=events.DOCUMENT_SAVED,
        actor=actor,
        obj=document.customer,
        data={"document_id": document.pk, "verified": True},
    )
    return document


# --- consents -----------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    actor: User,
    customer: Customer,
    purpose: str,
    channel: str,
    policy_version: str = "",
    scope: str = "",
    guardian: Contact | None = None,
) -> Consent:
    """Record a consent. A minor's consent must come from a guardian on the card."""
    require_perm(actor, "customers.add_consent")
    perms.access_customer(actor, customer.pk, action="view")
    if not (perms.can_change(actor, customer) or actor.has_perm(perms.VIEW_ALL)):
        raise PermissionDenied(_("You may not record consents for this customer."))
    errors = {}
    if purpose not in Consent.Purpose.values:
        errors["purpose"] = [_("Choose a purpose.")]
    if channel not in Consent.Channel.values:
        errors["channel"] = [_("Choose a channel.")]
    if guardian is not None and (guardian.customer_id != customer.pk or not guardian.is_guardian):
        errors["guardian"] = [_("The guardian must be a guardian contact of this customer.")]
    if customer.is_minor and guardian is None:
        errors["guardian"] = [_("A minor's consent must be given by the guardian.")]
    if errors:
        raise ValidationError(errors)
    consent = new_consent(
        customer,
        actor,
        purpose=purpose,
        channel=channel,
        policy_version=policy_version,
        scope=scope,
        guardian=guardian,
    )
    _save(consent, actor)
    record_event(
        action=events.CONSENT_RECORDED,
        actor=actor,
        obj=customer,
        data={"consent_id": consent.pk, "purpose": purpose},
    )
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User | None, consent: Consent, reason: str = "") -> Consent:
    """Withdraw a consent; it stops the matching processing at once.

    ``actor`` None is the customer themself (the unsubscribe link).
    """
    if actor is not None:
        require_perm(actor, "customers.change_consent")
        customer = perms.access_customer(actor, consent.customer_id, action="view")
        # Those who change the card, or an overseer acting on the person's request (the
        # DPO); a read grant never writes.
        if not (perms.can_change(actor, customer) or actor.has_perm(perms.VIEW_ALL)):
            raise perms.refuse(actor, customer, "change")
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        return consent
    consent.withdrawn_at = timezone.now()
    _save(consent, actor, reason or "withdrawn")
    record_event(
        action=events.CONSENT_WITHDRAWN,
        actor=actor,
        obj=consent.customer,
        reason=reason,
        data={"consent_id": consent.pk, "purpose": consent.purpose},
    )
    return consent


def consent_withdraw_purpose(*, customer: Customer, purpose: str, reason: str) -> int:
    """Withdraw every live consent of one purpose (the customer's own request)."""
    count = 0
    for consent in customer.consents.filter(purpose=purpose, withdrawn_at__isnull=True):
        consent_withdraw(actor=None, consent=consent, reason=reason)
        count += 1
    return count


# --- interactions -------------------------------------------------------------------------


@transaction.atomic
def interaction_log(
    *,
    actor: User,
    customer: Customer,
    kind: str,
    summary: str = "",
    outcome: str = "",
    occurred_at: datetime.datetime | None = None,
    next_follow_up: datetime.date | None = None,
) -> Interaction:
    """Log a call, visit, meeting… Service staff log on customers granted to them."""
    require_perm(actor, "customers.add_interaction")
    perms.access_customer(actor, customer.pk, action="view")
    errors = {}
    if kind not in Interaction.Kind.values:
        errors["kind"] = [_("Choose a kind of interaction.")]
    if outcome and outcome not in Interaction.Outcome.values:
        errors["outcome"] = [_("Choose an outcome.")]
    if next_follow_up and next_follow_up < timezone.localdate():
        errors["next_follow_up"] = [_("The follow-up date is in the past.")]
    # Back-dated is fine (a call made on the road, logged in the evening); the future is
    # not: a planned contact is a follow-up date. A few minutes' clock skew are allowed.
    if occurred_at and occurred_at > timezone.now() + datetime.timedelta(minutes=5):
        errors["occurred_at"] = [_("An interaction cannot be in the future.")]
    from crm import validation

    errors.update(
        validation.check_values(
            {"summary": summary, "next_follow_up": next_follow_up},
            max_lengths={"summary": validation.SUMMARY_MAX_LENGTH},
        )
    )
    if errors:
        raise ValidationError(errors)
    interaction = Interaction(
        customer=customer,
        data_key_id=customer.data_key_id,
        kind=kind,
        summary=summary,
        outcome=outcome,
        occurred_at=occurred_at or timezone.now(),
        next_follow_up=next_follow_up,
        user=actor,
    )
    _save(interaction, actor)
    record_event(
        action=events.INTERACTION_LOGGED,
        actor=actor,
        obj=customer,
        data={"interaction_id": interaction.pk, "kind": kind},
    )
    return interaction


@transaction.atomic
def follow_up_done(*, actor: User, interaction: Interaction) -> Interaction:
    require_perm(actor, "customers.change_interaction")
    perms.access_customer(actor, interaction.customer_id, action="view")
    interaction.follow_up_done = True
    _save(interaction, actor, update_fields=["follow_up_done", "updated_at"])
    return interaction


# --- service stages -----------------------------------------------------------------------


@transaction.atomic
def stage_move(
    *,
    actor: User,
    customer_id: int,
    to_stage: ServiceStage,
    responsible: User,
    note: str = "",
) -> StageMove:
    """Move the customer to a stage with a named responsible user; the move is recorded."""
    require_perm(actor, "customers.add_stagemove")
    perms.access_customer(actor, customer_id, action="change")
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    if not responsible.is_active:
        raise ValidationError({"responsible": [_("Choose an active user.")]})
    from customers.services.workspace import check_actor

    # Only someone who works on the card (never an auditor or an administrator).
    check_actor(responsible, customer, field="responsible")
    move = StageMove(
        customer=customer,
        data_key_id=customer.data_key_id,
        from_stage=customer.stage,
        to_stage=to_stage,
        responsible=responsible,
        moved_by=actor,
        note=note,
    )
    _save(move, actor)
    customer.stage, customer.stage_owner = to_stage, responsible
    customer.version += 1
    _save(customer, actor, f"stage: {to_stage.code}")
    record_event(
        action=events.STAGE_MOVED,
        actor=actor,
        obj=customer,
        data={"from": move.from_stage_id, "to": to_stage.pk, "responsible_id": responsible.pk},
    )
    return move


# --- visit plans --------------------------------------------------------------------------


def max_fruitless_visits() -> int:
    return settings.CUSTOMERS["VISIT_PLAN_MAX_FRUITLESS"]


@transaction.atomic
def visit_plan_add(
    *, actor: User, customer: Customer, next_visit_on: datetime.date | None = None
) -> VisitPlanEntry:
    """Put a prospect on the rep's own visit plan."""
    require_perm(actor, "customers.add_visitplanentry")
    perms.access_customer(actor, customer.pk, action="view")
    if customer.status != Customer.Status.PROSPECT:
        raise ValidationError({"customer": [_("Only prospects go on a visit plan.")]})
    if VisitPlanEntry.objects.filter(
        rep=actor, customer=customer, status=VisitPlanEntry.Status.ACTIVE
    ).exists():
        raise ValidationError({"customer": [_("This prospect is already on your plan.")]})
    entry = VisitPlanEntry(
        customer=customer, data_key_id=customer.data_key_id, rep=actor, next_visit_on=next_visit_on
    )
    _save(entry, actor)
    return entry


@transaction.atomic
def visit_record(
    *,
    actor: User,
    entry_id: int,
    outcome: str,
    summary: str = "",
    next_visit_on: datetime.date | None = None,
) -> tuple[VisitPlanEntry, Interaction]:
    """Record a planned visit's result as an interaction.

    A visit without result counts against the prospect; after the configured number of
    fruitless visits (DESIGN §6.3: 5) the prospect leaves the plan and the entry says why.
    A positive visit marks the entry won.
    """
    entry = VisitPlanEntry.objects.select_for_update().filter(pk=entry_id, rep=actor).first()
    if entry is None:
        raise ValidationError({"entry": [_("This visit is not on your plan.")]})
    if entry.status != VisitPlanEntry.Status.ACTIVE:
        raise ValidationError({"entry": [_("This prospect is no longer on your plan.")]})
    interaction = interaction_log(
        actor=actor,
        customer=entry.customer,
        kind=Interaction.Kind.VISIT,
        summary=summary,
        outcome=outcome,
    )
    limit = max_fruitless_visits()
    if outcome in (Interaction.Outcome.NO_RESULT, Interaction.Outcome.NEGATIVE):
        entry.fruitless_visits += 1
        if entry.fruitless_visits >= limit:
            entry.status = VisitPlanEntry.Status.REMOVED
            entry.removed_at = timezone.now()
            entry.removed_reason = _(
                "Left the plan after %(count)d visits without result (the limit is %(limit)d)."
            ) % {"count": entry.fruitless_visits, "limit": limit}
    elif outcome == Interaction.Outcome.POSITIVE:
        entry.status = VisitPlanEntry.Status.WON
    entry.next_visit_on = next_visit_on if entry.status == VisitPlanEntry.Status.ACTIVE else None
    _save(entry, actor)
    record_event(
        action=(
            events.VISIT_PLAN_REMOVED
            if entry.status == VisitPlanEntry.Status.REMOVED
            else events.VISIT_RECORDED
        ),
        actor=actor,
        obj=entry.customer,
        data={"entry_id": entry.pk, "fruitless_visits": entry.fruitless_visits},
    )
    return entry, interaction


# --- records upkeep -----------------------------------------------------------------------


def reverification_notify_overdue(*, today: datetime.date | None = None) -> dict[str, int]:
    """Tell each owner by e-mail how many of their cards are overdue for re-verification.

    The message carries counts and customer codes only, never personal data. The owner's
    home page lists the same cards.
    """
    per_owner = (
        reverification_overdue(today=today)
        .values("owner")
        .annotate(count=Count("pk"))
        .order_by("owner")
    )
    counts = {row["owner"]: row["count"] for row in per_owner}
    owners = User.objects.filter(pk__in=counts, is_active=True).exclude(email="")
    notified = 0
    for owner in owners:
        codes = list(
            reverification_overdue(today=today)
            .filter(owner=owner)
            .order_by("reverification_due")
            .values_list("code", flat=True)[:50]
        )
        send_mail(
            subject=_("%(count)d customer cards are due for re-verification")
            % {"count": counts[owner.pk]},
            message=_("Please re-verify these cards with the customers:") + "\n" + "\n".join(codes),
            from_email=None,
            recipient_list=[owner.email],
        )
        notified += 1
    return {"overdue": sum(counts.values()), "owners_notified": notified}
