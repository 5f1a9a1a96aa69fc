"""The customer card: create, change (with a version), reveal, re-verify, grant access."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from crm import encryption, search_index
from crm.blind_index import blind_index
from crm.exceptions import ConflictError
from crm.fields import change_reason_seal
from crm.ids import is_object_id
from crm.models import Counter, Team, User
from crm.permissions import require_perm
from customers import events, reveal_rules, search
from customers import permissions as perms
from customers.card_fields import EDITABLE_FIELDS, PERSONAL_FIELDS, PLAIN_FIELDS
from customers.models import (
    BusinessType,
    Consent,
    Contact,
    CustomAttribute,
    CustomAttributeValue,
    Customer,
    CustomerUserObjectPermission,
    IdentityDocument,
    ServiceStage,
    StageMove,
    Tier,
)
from customers.selectors import attributes_for
from customers.validators import (
    normalise_mainland_mobile,
    normalise_resident_id,
    normalise_social_credit_code,
    validate_mainland_mobile,
    validate_passport,
    validate_resident_id,
    validate_social_credit_code,
)

DEFAULT_REVERIFICATION_DAYS = 365


class DuplicateCustomer(ValidationError):
    """The phone, ID number or social credit code already belongs to a customer.

    The message links to the existing card only when the user may see it; otherwise it
    says only that another team holds the customer (nothing about who or where).
    """

    def __init__(self, field: str, existing: Customer, user):
        self.existing = existing
        self.visible = perms.can_see(user, existing)
        if self.visible:
            message = _(
                "This customer already exists: %(code)s. Open the existing card instead "
                "of creating a new one."
            ) % {"code": existing.code}
            self.url = reverse("customers:detail", args=[existing.pk])
        else:
            message = _("This customer is already held by another team.")
            self.url = None
        super().__init__({field: [message]})


# --- validation helpers -------------------------------------------------------------------


def clean_phone(value: str, field: str = "phone") -> str:
    """Mainland mobiles are checked strictly; landlines need an area code."""
    text = (value or "").strip()
    if not text:
        return ""
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+") and not text.startswith("+86"):
        if 8 <= len(digits) <= 15:
            return text
    elif digits.startswith("0") and 10 <= len(digits) <= 12:
        return text
    else:
        try:
            validate_mainland_mobile(text)
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from exc
        return normalise_mainland_mobile(text)
    raise ValidationError(
        {
            field: [
                _(
                    "Enter a mainland mobile number (11 digits starting 13–19), a landline "
                    "with its area code, or an international number starting with +."
                )
            ]
        }
    )


def clean_document_number(doc_type: str, number: str, field: str = "number") -> str:
    number = (number or "").strip()
    if not number:
        raise ValidationError({field: [_("Enter the document number.")]})
    validators = {
        IdentityDocument.Type.RESIDENT_ID: (validate_resident_id, normalise_resident_id),
        IdentityDocument.Type.SOCIAL_CREDIT_CODE: (
            validate_social_credit_code,
            normalise_social_credit_code,
        ),
        IdentityDocument.Type.BUSINESS_LICENCE: (
            validate_social_credit_code,
            normalise_social_credit_code,
        ),
        IdentityDocument.Type.PASSPORT: (validate_passport, lambda v: v.strip().upper()),
    }
    if doc_type in validators:
        validate, normalise = validators[doc_type]
        try:
            validate(number)
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from exc
        return normalise(number)
    return number.upper()


def document_index(number: str) -> str:
    return blind_index("id_number", number)


def _find_duplicate(
    *, phone: str = "", numbers: tuple[str, ...] = (), exclude_pk=None
) -> tuple[str, Customer | None] | None:
    """The field and the live card already holding the phone or an ID number.

    The digests are looked up in the keys database, and their rows checked to exist;
    ``(field, None)`` means a concurrent request is saving the same value right now.
    """
    live = Customer.objects.exclude(status=Customer.Status.MERGED)
    if exclude_pk:
        live = live.exclude(pk=exclude_pk)
    if phone:
        found = search_index.holders(search.CUSTOMER_PHONE, phone)
        match = live.filter(pk__in=found.ids).first()
        if match:
            return "phone", match
        if found.in_flight:
            return "phone", None
    for number in numbers:
        found = search_index.holders(search.DOCUMENT_NUMBER, number)
        document = (
            IdentityDocument.objects.filter(pk__in=found.ids)
            .exclude(customer__status=Customer.Status.MERGED)
            .exclude(customer_id=exclude_pk)
            .select_related("customer")
            .first()
        )
        if document:
            return "identity_documents", document.customer
        if found.in_flight:
            return "identity_documents", None
    return None


def check_duplicates(*, user, phone="", numbers=(), exclude_pk=None) -> None:
    found = _find_duplicate(phone=phone, numbers=tuple(numbers), exclude_pk=exclude_pk)
    if found and found[1] is None:
        raise ValidationError(
            {found[0]: [_("Another request is saving this customer right now; try again.")]}
        )
    if found:
        raise DuplicateCustomer(found[0], found[1], user)


def _reverification_due(tier: Tier | None, start: datetime.date) -> datetime.date:
    days = tier.reverification_days if tier else DEFAULT_REVERIFICATION_DAYS
    return start + datetime.timedelta(days=days)


def _save(instance, actor, reason: str = "", **kwargs):
    """Save with the acting user and reason recorded in history."""
    instance._history_user = actor
    if reason:
        instance._change_reason = change_reason_seal(instance, reason)
    instance.save(**kwargs)
    return instance


def owner_check(actor: User, owner: User, team: Team | None) -> None:
    """A rep owns what they create; managers assign within their team; the GM anywhere."""
    if owner.pk == actor.pk or actor.has_perm(perms.VIEW_ALL):
        return
    if team is not None and team.manager_id == actor.pk:
        return
    raise PermissionDenied(_("You may only assign customers to members of your own team."))


# --- rows kept on the card (one place that fills each, for every caller) ---------------


def new_document(
    customer, actor, *, doc_type, number, verification_method="", verified_at=None, expires_on=None
) -> IdentityDocument:
    """An identity document row for a validated, normalised ``number`` (not saved)."""
    return IdentityDocument(
        customer=customer,
        data_key_id=customer.data_key_id,
        doc_type=doc_type,
        number=number,
        verification_method=verification_method,
        verified_by=actor if verified_at else None,
        verified_at=verified_at,
        expires_on=expires_on,
        reverify_due=expires_on,
    )


def fill_contact(contact: Contact, *, name, phone, email, role, is_primary, is_guardian):
    """Set a contact's fields from cleaned values (not saved; its search digests are
    written after the save, ``customers.search.record_digests_write``)."""
    contact.name, contact.phone, contact.email = name.strip(), phone, (email or "").strip()
    contact.role, contact.is_primary, contact.is_guardian = role, is_primary, is_guardian
    return contact


def new_consent(
    customer, actor, *, purpose, channel, policy_version, scope="", guardian=None
) -> Consent:
    return Consent(
        customer=customer,
        data_key_id=customer.data_key_id,
        purpose=purpose,
        channel=channel,
        policy_version=policy_version or settings.CUSTOMERS["POLICY_VERSION"],
        scope=scope,
        guardian=guardian,
        recorded_by=actor,
    )


# --- create -------------------------------------------------------------------------------


@dataclass
class DocumentInput:
    doc_type: str
    number: str
    verification_method: str = ""
    verified_at: datetime.date | None = None
    expires_on: datetime.date | None = None


@dataclass
class ContactInput:
    name: str
    phone: str = ""
    email: str = ""
    role: str = ""
    is_primary: bool = False
    is_guardian: bool = False


@dataclass
class ConsentInput:
    purpose: str
    channel: str
    policy_version: str
    scope: str = ""
    given_by_guardian: bool = False


def _validate_card(kind: str, values: dict) -> dict:
    from crm import validation

    # The rules every door shares (API, forms, import): no NUL, no list where one value is
    # expected, dates within 1900-2100, bounded free texts.
    errors: dict[str, list[str]] = validation.check_values(
        values,
        max_lengths={
            "managers": validation.MANAGERS_MAX_LENGTH,
            "equipment_summary": validation.LONG_TEXT_MAX_LENGTH,
            "real_estate_summary": validation.LONG_TEXT_MAX_LENGTH,
        },
    )
    if errors:
        raise ValidationError(errors)
    if kind not in Customer.Kind.values:
        errors["kind"] = [_("Choose organisation or individual.")]
    if not (values.get("name") or "").strip():
        errors["name"] = [_("This field is required.")]
    if values.get("phone"):
        try:
            values["phone"] = clean_phone(values["phone"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if values.get("email"):
        from django.core.validators import validate_email

        try:
            validate_email(values["email"].strip())
            values["email"] = values["email"].strip()
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    birth_date = values.get("birth_date")
    if birth_date and birth_date > timezone.localdate():
        errors["birth_date"] = [_("The birth date is in the future.")]
    if errors:
        raise ValidationError(errors)
    values["name"] = values["name"].strip()
    return values


def _is_minor(birth_date) -> bool:
    if not birth_date:
        return False
    probe = Customer(kind=Customer.Kind.INDIVIDUAL, birth_date=birth_date)
    return probe.is_minor


def _refuse_raced_duplicates(func):
    """Turn the database's unique guard into the friendly duplicate message.

    The service checks for duplicates before writing; two requests racing past that check
    meet the unique constraints, and the loser gets the same answer as a plain duplicate.
    """
    import functools

    @functools.wraps(func)
    def wrapper(*args, actor, **kwargs):
        try:
            # The keys database (search digests, with their unique guard) commits after
            # the business database, and rolls back with it.
            with search_index.atomic():
                return func(*args, actor=actor, **kwargs)
        except IntegrityError:
            numbers = [d.number for d in kwargs.get("documents", ())]
            if "number" in kwargs:
                numbers.append(kwargs["number"])
            phone = kwargs.get("phone") or (kwargs.get("changes") or {}).get("phone", "")
            check_duplicates(
                user=actor,
                phone=phone,
                numbers=[_normalised_or_raw(kwargs.get("doc_type"), n) for n in numbers],
            )
            raise

    return wrapper


def _normalised_or_raw(doc_type, number):
    try:
        return clean_document_number(doc_type or IdentityDocument.Type.OTHER, number)
    except ValidationError:
        return number


@dataclass
class CustomerDraft:
    """A card that passed every check of ``customer_create``, ready to be written.

    ``values`` are the cleaned card fields; ``documents`` and ``contacts`` pair each input
    with its normalised number or phone.
    """

    kind: str
    status: str
    owner: User
    team: Team | None
    business_type: BusinessType
    tier: Tier | None
    values: dict[str, object]
    documents: list[tuple[DocumentInput, str]]
    contacts: list[tuple[ContactInput, str]]
    consents: list[ConsentInput]
    attributes: dict[str, object] | None


def _customer_create_validate(
    *,
    actor: User,
    kind: str,
    name: str,
    business_type: BusinessType,
    owner: User | None,
    tier: Tier | None,
    documents,
    contacts,
    consents,
    attributes: dict[str, object] | None,
    status: str,
    card_fields: dict[str, object],
) -> CustomerDraft:
    """Every check of a new card, without writing: permission, owner, field rules, the
    documents and contacts, a minor's guardian, duplicates. Raises ``ValidationError``
    (all field errors at once), ``DuplicateCustomer`` or ``PermissionDenied``.

    Callers still write the draft in a transaction that rolls back on a raced duplicate
    (``_refuse_raced_duplicates``): the duplicate check here reads before that write.
    """
    require_perm(actor, "customers.add_customer", _("You are not allowed to create customers."))
    unknown = set(card_fields) - set(PERSONAL_FIELDS) - set(PLAIN_FIELDS)
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in unknown})
    owner = owner or actor
    owner_check(actor, owner, owner.team)
    errors: dict[str, list[str]] = {}
    try:
        values = _validate_card(kind, {"name": name, **card_fields})
    except ValidationError as exc:
        errors.update(exc.message_dict)
        values = {"name": name, **card_fields}

    cleaned_documents = []
    for i, document in enumerate(documents):
        try:
            number = clean_document_number(document.doc_type, document.number)
        except ValidationError as exc:
            errors[f"documents[{i}].number"] = exc.message_dict.get("number", exc.messages)
            continue
        cleaned_documents.append((document, number))
    cleaned_contacts = []
    for i, contact in enumerate(contacts):
        if not contact.name.strip():
            errors[f"contacts[{i}].name"] = [_("This field is required.")]
        try:
            phone = clean_phone(contact.phone, f"contacts[{i}].phone")
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        cleaned_contacts.append((contact, phone))
    if kind == Customer.Kind.INDIVIDUAL and _is_minor(values.get("birth_date")):
        if not any(c.is_guardian for c in contacts):
            errors["contacts"] = [_("A minor's card needs a guardian among the contacts.")]
        if not any(c.purpose == Consent.Purpose.MINOR and c.given_by_guardian for c in consents):
            errors["consents"] = [_("A minor's data needs the guardian's consent.")]
    if errors:
        raise ValidationError(errors)
    check_duplicates(
        user=actor, phone=values.get("phone", ""), numbers=[n for _d, n in cleaned_documents]
    )
    seen = set()
    for _doc, number in cleaned_documents:
        if number in seen:
            raise ValidationError({"documents": [_("The same document is listed twice.")]})
        seen.add(number)
    return CustomerDraft(
        kind=kind,
        status=status,
        owner=owner,
        team=owner.team,
        business_type=business_type,
        tier=tier,
        values=values,
        documents=cleaned_documents,
        contacts=cleaned_contacts,
        consents=list(consents),
        attributes=attributes,
    )


def _customer_create_write(draft: CustomerDraft, *, actor: User, audit: bool) -> Customer:
    """Write a checked draft: the card, its key and search digests, documents, contacts,
    consents, first stage and attributes, and the audit event (unless ``audit`` is off).

    Runs inside ``customer_create``'s transactions (business and keys databases).
    """
    first_stage = ServiceStage.objects.filter(is_active=True).order_by("order").first()
    customer = Customer(
        code=f"C{Counter.next_value('customer'):07d}",
        kind=draft.kind,
        status=draft.status,
        owner=draft.owner,
        team=draft.team,
        business_type=draft.business_type,
        tier=draft.tier,
        stage=first_stage,
        stage_owner=draft.owner if first_stage else None,
        reverification_due=_reverification_due(draft.tier, timezone.localdate()),
        **draft.values,
    )
    # Duplicates were checked with a clear message; the unique guard on the search digests
    # (keys database) catches a concurrent twin (see _refuse_raced_duplicates).
    # The code comes from the counter: unique without asking the database.
    customer.full_clean(exclude=["data_key_id", "code"], validate_constraints=False)
    # The key is made last, once everything is valid, in the keys transaction that rolls
    # back with this one; a key whose row still never commits is swept (crm.key_sweep).
    customer.data_key_id = encryption.data_key_create()
    search.organisation_name_set(customer)
    _save(customer, actor)
    search.customer_digests_write(customer)

    for document, number in draft.documents:
        saved_document = _save(
            new_document(
                customer,
                actor,
                doc_type=document.doc_type,
                number=number,
                verification_method=document.verification_method,
                verified_at=document.verified_at,
                expires_on=document.expires_on,
            ),
            actor,
        )
        search.record_digests_write(saved_document)
    guardian = None
    for contact, phone in draft.contacts:
        saved = _save(
            fill_contact(
                Contact(customer=customer, data_key_id=customer.data_key_id),
                name=contact.name,
                phone=phone,
                email=contact.email,
                role=contact.role,
                is_primary=contact.is_primary,
                is_guardian=contact.is_guardian,
            ),
            actor,
        )
        search.record_digests_write(saved)
        if contact.is_guardian and guardian is None:
            guardian = saved
    for consent in draft.consents:
        _save(
            new_consent(
                customer,
                actor,
                purpose=consent.purpose,
                channel=consent.channel,
                policy_version=consent.policy_version,
                scope=consent.scope,
                guardian=guardian if consent.given_by_guardian else None,
            ),
            actor,
        )
    if first_stage:
        _save(
            StageMove(
                customer=customer,
                data_key_id=customer.data_key_id,
                to_stage=first_stage,
                responsible=draft.owner,
                moved_by=actor,
            ),
            actor,
        )
    if draft.attributes:
        attribute_values_set(actor=actor, customer=customer, values=draft.attributes, check=False)
    if audit:
        record_event(
            action=events.CUSTOMER_CREATED,
            actor=actor,
            obj=customer,
            data={
                "documents": len(draft.documents),
                "contacts": len(draft.contacts),
                "consents": len(draft.consents),
            },
        )
    return customer


@_refuse_raced_duplicates
@transaction.atomic
def customer_create(
    *,
    actor: User,
    kind: str,
    name: str,
    business_type: BusinessType,
    owner: User | None = None,
    tier: Tier | None = None,
    documents: list[DocumentInput] = (),
    contacts: list[ContactInput] = (),
    consents: list[ConsentInput] = (),
    attributes: dict[str, object] | None = None,
    status: str = Customer.Status.PROSPECT,
    audit: bool = True,
    **card_fields,
) -> Customer:
    """Create a customer card with its identity documents, contacts and consents.

    Refuses a duplicate phone, ID number or social credit code (``DuplicateCustomer``).
    A minor needs a guardian among the contacts and a guardian's consent. ``audit=False``
    is for bulk callers (the importer) that record one event for the lot.
    """
    draft = _customer_create_validate(
        actor=actor,
        kind=kind,
        name=name,
        business_type=business_type,
        owner=owner,
        tier=tier,
        documents=documents,
        contacts=contacts,
        consents=consents,
        attributes=attributes,
        status=status,
        card_fields=card_fields,
    )
    return _customer_create_write(draft, actor=actor, audit=audit)


# --- change -------------------------------------------------------------------------------


@_refuse_raced_duplicates
@transaction.atomic
def customer_update(
    *, actor: User, customer_id: int, version: int, changes: dict, reason: str = ""
) -> Customer:
    """Change card fields. A stale ``version`` raises ``ConflictError`` and changes nothing."""
    perms.access_customer(actor, customer_id, action="change")
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    if int(version) != customer.version:
        raise ConflictError()
    unknown = set(changes) - set(EDITABLE_FIELDS) - {"owner", "status"}
    if unknown:
        raise ValidationError(
            {field: [_("This field cannot be changed here.")] for field in unknown}
        )
    changed = [f for f, v in changes.items() if getattr(customer, f) != v]
    if not changed:
        return customer
    if "owner" in changes:
        owner = changes["owner"]
        owner_check(actor, owner, owner.team)
        customer.team = owner.team
    merged = {f: getattr(customer, f) for f in PERSONAL_FIELDS}
    merged.update({f: v for f, v in changes.items() if f in PERSONAL_FIELDS})
    values = _validate_card(changes.get("kind", customer.kind), merged)
    if "phone" in changed and values.get("phone"):
        check_duplicates(user=actor, phone=values["phone"], exclude_pk=customer.pk)
    for field in changed:
        setattr(customer, field, values.get(field, changes[field]))
    if "tier" in changed:
        customer.reverification_due = _reverification_due(
            customer.tier, timezone.localdate(customer.reverified_at or timezone.now())
        )
    customer.version += 1
    customer.full_clean(exclude=["data_key_id"], validate_constraints=False)
    if {"name", "kind"} & set(changed):
        search.organisation_name_set(customer)
    _save(customer, actor, reason)
    search.customer_digests_write(customer)
    record_event(
        action=events.CUSTOMER_UPDATED,
        actor=actor,
        obj=customer,
        reason=reason,
        data={"fields": sorted(changed), "version": customer.version},
    )
    return customer


# --- reveal, view, re-verify, grant -------------------------------------------------------


def customer_reveal(
    *,
    actor: User,
    customer: Customer,
    fields: list[str],
    reason: str = "",
    purpose: str | None = None,
) -> dict:
    """Clear values of the asked personal fields, for a user allowed to see them.

    ``fields`` may name card fields, ``identity_documents`` and ``contacts``. A purpose
    picked from ``workspace.REVEAL_PURPOSES`` ("other" with words in ``reason``), or else a
    typed reason, is required and recorded with the field names (never the values) in the
    audit trail.
    """
    if not perms.can_reveal(actor, customer) and not reveal_rules.allows(actor, customer, fields):
        raise perms.refuse(
            actor,
            customer,
            "reveal",
            _("You are not allowed to see this customer's data in clear."),
        )
    if purpose is not None:  # the pages always ask for a purpose; "" is none chosen
        from customers.services.workspace import reveal_reason

        reason = reveal_reason(purpose=purpose, text=reason)
    reason = (reason or "").strip()
    # Any words count (审核 as much as "check"); what is audited is the purpose.
    if not reason:
        raise ValidationError({"reason": [_("Say why you need to see the data in clear.")]})
    allowed = {*PERSONAL_FIELDS, "identity_documents", "contacts", "attributes", "interactions"}
    unknown = set(fields) - allowed
    if unknown or not fields:
        raise ValidationError({"fields": [_("Choose among: %s.") % ", ".join(sorted(allowed))]})
    clear: dict = {}
    for field in fields:
        if field == "identity_documents":
            clear[field] = [
                {"id": d.pk, "doc_type": d.doc_type, "number": d.number}
                for d in customer.identity_documents.all()
            ]
        elif field == "contacts":
            clear[field] = [
                {"id": c.pk, "name": c.name, "phone": c.phone, "email": c.email}
                for c in customer.contacts.all()
            ]
        elif field == "interactions":
            clear[field] = [
                {"id": i.pk, "occurred_at": i.occurred_at.isoformat(), "summary": i.summary}
                for i in customer.interactions.order_by("-occurred_at")[:50]
            ]
        elif field == "attributes":
            clear[field] = {
                v.attribute.code: v.display_value
                for v in customer.attribute_values.select_related("attribute")
            }
        else:
            value = getattr(customer, field)
            clear[field] = value.isoformat() if isinstance(value, datetime.date) else value
    record_event(
        action=events.CUSTOMER_REVEALED,
        actor=actor,
        obj=customer,
        reason=reason,
        data={"fields": sorted(fields), **({"purpose": purpose} if purpose else {})},
    )
    return clear


def customer_view_record(*, actor: User, customer: Customer) -> None:
    """Record that the card was opened (DESIGN §3 "Access monitoring")."""
    record_event(action=events.CUSTOMER_VIEWED, actor=actor, obj=customer)


@transaction.atomic
def customer_reverify(*, actor: User, customer_id: int, note: str = "") -> Customer:
    """One action: the card was checked with the customer; stamp who and when."""
    perms.access_customer(actor, customer_id, action="change")
    customer = (
        Customer.objects.select_for_update(of=("self",)).select_related("tier").get(pk=customer_id)
    )
    now = timezone.now()
    customer.reverified_at = now
    customer.reverified_by = actor
    customer.reverification_due = _reverification_due(customer.tier, timezone.localdate())
    customer.version += 1
    _save(customer, actor, note or "re-verified")
    record_event(
        action=events.CUSTOMER_REVERIFIED,
        actor=actor,
        obj=customer,
        reason=note,
        data={"due": customer.reverification_due.isoformat()},
    )
    return customer


@transaction.atomic
def customer_access_grant(
    *,
    actor: User,
    customer: Customer,
    user: User,
    reason: str,
    expires_at: datetime.datetime | None = None,
) -> CustomerUserObjectPermission:
    """Let ``user`` see ``customer`` (e.g. service staff on a complaint), until ``expires_at``.

    Granting again changes the expiry of the existing grant. A grant lets its holder read
    the card masked; it never lets him reveal or export in clear (DESIGN §3).
    """
    if not perms.can_grant(actor, customer):
        raise perms.refuse(actor, customer, "grant", _("You may not share this customer."))
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": [_("The expiry must be in the future.")]})
    from django.contrib.auth.models import Permission

    permission = Permission.objects.get(
        content_type__app_label="customers", codename="view_customer"
    )
    grant = (
        CustomerUserObjectPermission.objects.select_for_update()
        .filter(user=user, permission=permission, content_object=customer)
        .first()
    )
    renewed = grant is not None
    if grant is None:
        grant = CustomerUserObjectPermission(
            user=user,
            permission=permission,
            content_object=customer,
            granted_by=actor,
            expires_at=expires_at,
        )
        _save(grant, actor)
    elif grant.expires_at != expires_at or not grant.is_live:
        grant.expires_at, grant.granted_by, grant.granted_at = expires_at, actor, timezone.now()
        _save(grant, actor, update_fields=["expires_at", "granted_by", "granted_at"])
    else:
        return grant
    record_event(
        action=events.CUSTOMER_ACCESS_GRANTED,
        actor=actor,
        obj=customer,
        reason=reason,
        data={
            "user_id": user.pk,
            "grant_id": grant.pk,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "renewed": renewed,
        },
    )
    return grant


@transaction.atomic
def customer_access_revoke(
    *, actor: User, customer: Customer, grant_id: int, reason: str = ""
) -> None:
    """Withdraw a grant on ``customer`` at once; its history row keeps who had it until when."""
    if not perms.can_grant(actor, customer):
        raise perms.refuse(actor, customer, "revoke", _("You may not share this customer."))
    grant = (
        CustomerUserObjectPermission.objects.select_for_update()
        .filter(pk=grant_id, content_object=customer)
        .first()
        if is_object_id(grant_id)
        else None
    )
    if grant is None:
        raise Http404(_("No such grant."))
    user_id = grant.user_id
    grant._history_user = actor
    grant.delete()
    record_event(
        action=events.CUSTOMER_ACCESS_REVOKED,
        actor=actor,
        obj=customer,
        reason=reason,
        data={"user_id": user_id, "grant_id": int(grant_id)},
    )


# --- custom attributes --------------------------------------------------------------------


def _clean_attribute(attribute: CustomAttribute, raw) -> str:
    from crm import validation

    try:
        text = validation.clean_text(raw, max_length=validation.LONG_TEXT_MAX_LENGTH).strip()
    except ValidationError as exc:
        raise ValidationError({attribute.code: exc.messages}) from exc
    if not text:
        if attribute.required:
            raise ValidationError({attribute.code: [_("This field is required.")]})
        return ""
    if attribute.value_type == CustomAttribute.Type.NUMBER:
        try:
            float(text)
        except ValueError as exc:
            raise ValidationError({attribute.code: [_("Enter a number.")]}) from exc
    elif attribute.value_type == CustomAttribute.Type.DATE:
        try:
            datetime.date.fromisoformat(text)
        except ValueError as exc:
            raise ValidationError({attribute.code: [_("Enter a date (YYYY-MM-DD).")]}) from exc
    elif attribute.value_type == CustomAttribute.Type.CHOICE and text not in attribute.choices:
        raise ValidationError(
            {attribute.code: [_("Choose one of: %s.") % ", ".join(attribute.choices)]}
        )
    return text


@transaction.atomic
def attribute_values_set(
    *, actor: User, customer: Customer, values: dict[str, object], check: bool = True
) -> None:
    """Set custom attribute values by code; personal ones are stored encrypted."""
    if check:
        perms.access_customer(actor, customer.pk, action="change")
    available = {a.code: a for a in attributes_for(customer)}
    unknown = set(values) - set(available)
    if unknown:
        raise ValidationError({code: [_("Unknown attribute.")] for code in unknown})
    cleaned = {code: _clean_attribute(available[code], raw) for code, raw in values.items()}
    existing = {v.attribute_id: v for v in customer.attribute_values.all()}
    for code, text in cleaned.items():
        attribute = available[code]
        row = existing.get(attribute.pk) or CustomAttributeValue(
            customer=customer, attribute=attribute, data_key_id=customer.data_key_id
        )
        row.value = "" if attribute.is_personal else text
        row.secret_value = text if attribute.is_personal else ""
        _save(row, actor)
