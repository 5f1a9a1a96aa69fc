"""Every write of the complaints app: one function per business action, ``<entity>_<verb>``.

Each checks the permission, validates (``ValidationError`` with field errors), writes in
one transaction with history (actor recorded) and one audit event, and queues
notifications on commit. Audit data holds ids, codes and field names, never a personal
value; notification texts hold codes only.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import record_event
from complaints import events, sla
from complaints import permissions as perms
from complaints.models import (
    CalendarDay,
    Category,
    Channel,
    Complaint,
    ComplaintEvent,
    ReturnVisit,
    RootCause,
    Severity,
    SlaPolicy,
    Survey,
    SurveyInvitation,
)
from crm import encryption, notifications, roles, search_index
from crm.exceptions import ConflictError
from crm.fields import change_reason_seal, open_all
from crm.models import Counter, User
from crm.permissions import require_perm
from customers import permissions as customer_perms
from customers.models import Customer, CustomerUserObjectPermission

logger = logging.getLogger(__name__)

Status = Complaint.Status

# The moves the status flow allows (DESIGN §6.4); a move back to investigating from a
# later status is a reopen.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.RECEIVED: (Status.INVESTIGATING,),
    Status.INVESTIGATING: (Status.RESOLVED,),
    Status.RESOLVED: (Status.CUSTOMER_INFORMED, Status.INVESTIGATING),
    Status.CUSTOMER_INFORMED: (Status.CLOSED, Status.INVESTIGATING),
    Status.CLOSED: (Status.INVESTIGATING,),
}
REOPEN_FROM = (Status.RESOLVED, Status.CUSTOMER_INFORMED, Status.CLOSED)
OPEN_STATUSES = (Status.RECEIVED, Status.INVESTIGATING, Status.RESOLVED, Status.CUSTOMER_INFORMED)

LOOKUP_BY = ("phone", "id_number", "code")
LOOKUP_PURPOSES = {
    "log_complaint": "log a complaint",
    "complaint_handling": "complaint handling",
    "inquiry": "answer an inquiry",
}
COMPLAINT_HANDLING = "complaint handling"

NOTIFY_ASSIGNED = "complaints.assigned"
NOTIFY_ESCALATED = "complaints.escalated"


def _setting(name: str):
    return settings.COMPLAINTS[name]


# --- helpers ------------------------------------------------------------------------------


def _save(instance, actor, reason: str = "", **kwargs):
    """Save with the acting user (and an encrypted reason) recorded in history."""
    instance._history_user = actor
    if reason:
        instance._change_reason = change_reason_seal(instance, reason)
    instance.save(**kwargs)
    return instance


def _log(complaint: Complaint, kind: str, actor, *, note: str = "", user=None, **fields):
    event = ComplaintEvent(
        complaint=complaint,
        data_key_id=complaint.data_key_id,
        kind=kind,
        actor=actor,
        user=user,
        note=note,
        **fields,
    )
    return _save(event, actor)


def _notify(*, code: str, recipients, params: dict, link: str, actor=None) -> list:
    """The shared notification block (``crm.notifications``): bell and e-mail."""
    recipients = [user for user in recipients if user is not None]
    if not recipients:
        return []
    return notifications.notify(
        code=code, recipients=recipients, params=params, link=link, actor=actor
    )


def _link(complaint: Complaint) -> str:
    return reverse("complaints:detail", args=[complaint.pk])


def _locked(complaint_id) -> Complaint:
    return (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("customer", "assignee__team", "category")
        .get(pk=complaint_id)
    )


def _clean_text(value, field: str, *, required: bool = False, max_length: int | None = None):
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: [_("This field is required.")]})
    if max_length and len(text) > max_length:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": max_length}]})
    return text


def _calendar_hours(severity: str) -> bool:
    return sla.policy_counts_calendar_hours(severity)


# --- the card access that comes with an assignment ------------------------------------------


def _view_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="customers", codename="view_customer")


def _grant_access(complaint: Complaint, actor) -> None:
    """Let the assignee see the complaint's card (masked) while the complaint is open: a
    direct guardian grant, remembered on the complaint so that closing revokes it. A grant
    the assignee already held (given by the card's owner) is left as it is and not taken
    over; one another open complaint gave him is shared (``_grant_access_in_bulk``)."""
    if complaint.customer_id is None or complaint.assignee_id is None:
        return
    _grant_access_in_bulk([complaint], complaint.assignee, actor)


def _revoke_access(complaint: Complaint, actor) -> None:
    """Withdraw the grant this complaint gave, unless another open complaint of the same
    assignee on the same card still needs it (``_revoke_access_in_bulk``)."""
    _revoke_access_in_bulk([complaint], actor)


# --- caller look-up -----------------------------------------------------------------------


def caller_lookup(*, actor: User, by: str, value: str, purpose: str) -> Customer | None:
    """The one customer whose phone, ID number or customer code is exactly ``value``.

    Never a list and never by a name fragment; the answer is shown masked. Every look-up
    is audited with its purpose (the value itself never is). A customer found this way may
    have a complaint logged for him by the same user for a while
    (``COMPLAINTS["LOOKUP_VALID_MINUTES"]``).
    """
    from customers import search
    from customers.services.cards import clean_phone

    require_perm(actor, perms.LOOKUP)
    if by not in LOOKUP_BY:
        raise ValidationError({"by": [_("Look up by phone, ID number or customer code.")]})
    if purpose not in LOOKUP_PURPOSES:
        raise ValidationError({"purpose": [_("Say why you look the caller up.")]})
    value = (value or "").strip()
    if not value:
        raise ValidationError({"value": [_("This field is required.")]})
    ids: list[int] = []
    if by == "phone":
        phone = clean_phone(value, "value")
        ids = search.customer_ids_matching(phone, search.CUSTOMER_PHONE)
    elif by == "id_number":
        # Normalised as the digests are (spaces and dashes out, upper case).
        number = value
        ids = search.customer_ids_matching(number, search.DOCUMENT_NUMBER)
    else:
        ids = list(Customer.objects.filter(code=value.upper()).values_list("pk", flat=True))
    customer = (
        Customer.objects.select_related("owner", "team", "business_type")
        .filter(pk__in=ids)
        .exclude(status=Customer.Status.MERGED)
        .order_by("pk")
        .first()
        if ids
        else None
    )
    record_event(
        action=events.CALLER_LOOKED_UP,
        actor=actor,
        obj=customer,
        content_type=None if customer else ContentType.objects.get_for_model(Customer),
        object_id=None if customer else "",
        data={"by": by, "purpose": purpose, "found": customer is not None},
    )
    return customer


def _looked_up_recently(actor, customer_id) -> bool:
    since = timezone.now() - datetime.timedelta(minutes=_setting("LOOKUP_VALID_MINUTES"))
    return AuditEvent.objects.filter(
        actor_id=actor.pk,
        action=events.CALLER_LOOKED_UP,
        occurred_at__gte=since,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer_id),
    ).exists()


def customer_for_complaint(actor, customer_id) -> Customer:
    """The customer a complaint is logged for: one the user sees, or one he has just
    looked up by an exact identifier; anything else is 404 (audited)."""
    if str(customer_id).isdigit() and _looked_up_recently(actor, customer_id):
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is not None and customer.status != Customer.Status.MERGED:
            return customer
    return customer_perms.access_customer(actor, customer_id)


# --- receipt ------------------------------------------------------------------------------


def _repeat_of(customer_id, category_id, received_at, exclude_pk=None) -> Complaint | None:
    """The latest earlier complaint of the customer in the same category within the
    repeat window (``COMPLAINTS["REPEAT_DAYS"]``)."""
    if customer_id is None:
        return None
    since = received_at - datetime.timedelta(days=_setting("REPEAT_DAYS"))
    earlier = Complaint.objects.filter(
        customer_id=customer_id,
        category_id=category_id,
        kind=Complaint.Kind.COMPLAINT,
        received_at__gte=since,
        received_at__lte=received_at,
    )
    if exclude_pk is not None:
        earlier = earlier.exclude(pk=exclude_pk)
    return earlier.order_by("-received_at", "-id").first()


def complaint_create(
    *,
    actor: User,
    channel: str,
    category: Category | str,
    severity: str,
    description: str,
    customer_id: int | None = None,
    caller_name: str = "",
    caller_phone: str = "",
    received_at: datetime.datetime | None = None,
    kind: str = Complaint.Kind.COMPLAINT,
) -> Complaint:
    """Log a complaint or inquiry for a customer, or for a caller not yet a customer."""
    from customers.services.cards import clean_phone

    require_perm(actor, perms.ADD)
    errors: dict[str, list] = {}
    if channel not in Channel.values:
        errors["channel"] = [_("Choose a channel.")]
    if severity not in Severity.values:
        errors["severity"] = [_("Choose a severity.")]
    if kind not in Complaint.Kind.values:
        errors["kind"] = [_("Choose complaint or inquiry.")]
    if isinstance(category, str):
        category = Category.objects.filter(code=category, is_active=True).first()
    if category is None or not category.is_active:
        errors["category"] = [_("Choose an active category.")]
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Describe what the caller said.")]
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + datetime.timedelta(minutes=5):
        errors["received_at"] = [_("A complaint cannot be received in the future.")]
    customer = None
    caller_name = (caller_name or "").strip()
    caller_phone = (caller_phone or "").strip()
    if customer_id not in (None, ""):
        customer = customer_for_complaint(actor, customer_id)
    elif not caller_name and not caller_phone:
        errors["customer"] = [_("Choose the customer, or give the caller's name or phone.")]
    if caller_phone:
        try:
            caller_phone = clean_phone(caller_phone, "caller_phone")
        except ValidationError as error:
            errors.update(error.message_dict)
    if len(caller_name) > 100:
        errors["caller_name"] = [_("At most %(n)d characters.") % {"n": 100}]
    if errors:
        raise ValidationError(errors)
    try:
        first_due, resolution_due = sla.deadlines(severity, received_at)
    except sla.NoWorkingHours as error:
        raise ValidationError(
            {"severity": [_("The working calendar has no working hours.")]}
        ) from error
    with search_index.atomic():
        complaint = Complaint(
            code=f"CP{Counter.next_value('complaint'):07d}",
            kind=kind,
            customer=customer,
            caller_name=caller_name,
            caller_phone=caller_phone,
            channel=channel,
            category=category,
            severity=severity,
            description=description,
            received_at=received_at,
            received_by=actor,
            first_response_due=first_due,
            resolution_due=resolution_due,
        )
        repeat = (
            _repeat_of(customer.pk, category.pk, received_at)
            if customer and kind == Complaint.Kind.COMPLAINT
            else None
        )
        complaint.repeat_of, complaint.is_repeat = repeat, repeat is not None
        # A caller who is not a customer gets a key of his own: shredded alone.
        complaint.data_key_id = customer.data_key_id if customer else encryption.data_key_create()
        _save(complaint, actor)
        _log(complaint, ComplaintEvent.Kind.RECEIVED, actor, to_status=Status.RECEIVED)
        record_event(
            action=events.COMPLAINT_RECEIVED,
            actor=actor,
            obj=complaint,
            data={
                "code": complaint.code,
                "customer_id": customer.pk if customer else None,
                "channel": channel,
                "severity": severity,
                "category": category.code,
                "repeat_of": repeat.pk if repeat else None,
                "fields": sorted(
                    name
                    for name, value in (
                        ("caller_name", caller_name),
                        ("caller_phone", caller_phone),
                        ("description", description),
                    )
                    if value
                ),
            },
        )
    return complaint


# --- assignment ---------------------------------------------------------------------------


def _is_service_staff(user: User) -> bool:
    return user.is_active and user.has_perm(perms.HANDLE)


@transaction.atomic
def complaint_assign(*, actor: User, complaint_id: int, assignee: User | None) -> Complaint:
    """Give the complaint to a service staff member (the service manager), or take an
    unassigned one (service staff, to himself). The assignee sees the card masked while
    the complaint is open; the previous assignee's access ends."""
    complaint = perms.access_complaint(actor, complaint_id)
    taking = (
        assignee is not None
        and assignee.pk == actor.pk
        and complaint.assignee_id is None
        and actor.has_perm(perms.HANDLE)
    )
    if not taking:
        require_perm(actor, perms.ASSIGN, _("Only the service manager assigns complaints."))
    if assignee is not None and not _is_service_staff(assignee):
        raise ValidationError({"user": [_("Complaints go to service staff.")]})
    if complaint.status == Status.CLOSED:
        raise ValidationError({"user": [_("A closed complaint is not assigned; reopen it first.")]})
    complaint = _locked(complaint.pk)
    if complaint.assignee_id == (assignee.pk if assignee else None):
        return complaint
    previous = complaint.assignee_id
    with search_index.atomic():
        _revoke_access(complaint, actor)
        complaint.assignee = assignee
        complaint.assigned_at = timezone.now() if assignee else None
        _grant_access(complaint, actor)
        complaint.version += 1
        _save(complaint, actor)
        _log(complaint, ComplaintEvent.Kind.ASSIGNED, actor, user=assignee)
        record_event(
            action=events.COMPLAINT_ASSIGNED,
            actor=actor,
            obj=complaint,
            data={"from_user_id": previous, "to_user_id": assignee.pk if assignee else None},
        )
        if assignee is not None:
            _notify(
                code=NOTIFY_ASSIGNED,
                recipients=[assignee],
                params={"complaint": complaint.code},
                link=_link(complaint),
                actor=actor,
            )
    return complaint


# --- hand-over when the assignee leaves -------------------------------------------------------

NOTIFY_HANDED_OVER = "complaints.handed_over"


def complaints_held_by(user) -> QuerySet:
    """The complaints that are still ``user``'s work: assigned to him and not closed.

    Resolved and customer-informed ones count: their assignee still tells the customer,
    makes the return visit and closes them, and keeps the card's grant until he does.
    """
    return Complaint.objects.filter(assignee=user, status__in=OPEN_STATUSES)


def _revoke_access_in_bulk(complaints: list[Complaint], actor) -> None:
    """``_revoke_access`` for the complaints of one assignee at once: each grant they gave
    ends (one ``access_revoked`` event) unless an open complaint outside them still needs
    it. Clears ``access_grant_id`` on each (the caller saves them)."""
    by_grant: dict[int, Complaint] = {}
    for complaint in complaints:
        if complaint.access_grant_id is not None:
            by_grant.setdefault(complaint.access_grant_id, complaint)
        complaint.access_grant_id = None
    if not by_grant:
        return
    still_needed = set(
        Complaint.objects.filter(access_grant_id__in=list(by_grant), status__in=OPEN_STATUSES)
        .exclude(pk__in=[complaint.pk for complaint in complaints])
        .values_list("access_grant_id", flat=True)
    )
    grants = CustomerUserObjectPermission.objects.select_for_update().filter(
        pk__in=sorted(set(by_grant) - still_needed)
    )
    for grant in grants.order_by("pk"):
        complaint, grant_id = by_grant[grant.pk], grant.pk
        grant._history_user = actor
        grant.delete()
        record_event(
            action=events.COMPLAINT_ACCESS_REVOKED,
            actor=actor,
            obj=complaint,
            data={
                "customer_id": complaint.customer_id,
                "user_id": grant.user_id,
                "grant_id": grant_id,
            },
        )


def _grant_access_in_bulk(complaints: list[Complaint], assignee: User, actor) -> None:
    """``_grant_access`` for complaints that all go to ``assignee``: one grant per card he
    does not see yet (an expired one of his lives again), shared by that card's complaints
    and recorded once (``access_granted`` on the first of them). A card he sees already
    needs nothing, unless through a grant another open complaint gave him: then they share
    it. Sets ``access_grant_id`` on each (the caller saves them)."""
    customer_ids = sorted({c.customer_id for c in complaints if c.customer_id is not None})
    if not customer_ids:
        return
    moving = [complaint.pk for complaint in complaints]
    seen = set(
        customer_perms.visible_customers(
            assignee, Customer.objects.filter(pk__in=customer_ids)
        ).values_list("pk", flat=True)
    )
    existing = {
        grant.content_object_id: grant
        for grant in CustomerUserObjectPermission.objects.select_for_update(of=("self",))
        .select_related("permission__content_type")
        .filter(
            user_id=assignee.pk,
            content_object_id__in=customer_ids,
            permission__codename="view_customer",
        )
    }
    shared = (
        set(
            Complaint.objects.filter(access_grant_id__in=[g.pk for g in existing.values()])
            .exclude(pk__in=moving)
            .values_list("access_grant_id", flat=True)
        )
        if existing
        else set()
    )
    grant_of: dict[int, int | None] = {}
    for customer_id in seen:
        grant = existing.get(customer_id)
        grant_of[customer_id] = grant.pk if grant is not None and grant.pk in shared else None
    unseen = [customer_id for customer_id in customer_ids if customer_id not in seen]
    # A grant checks its card's type on save: the cards loaded at once, not one by one.
    cards = Customer.objects.only("pk").in_bulk(unseen) if unseen else {}
    missing = any(customer_id not in existing for customer_id in unseen)
    permission = (
        Permission.objects.select_related("content_type").get(
            content_type__app_label="customers", codename="view_customer"
        )
        if missing
        else None
    )
    new: set[int] = set()
    now = timezone.now()
    for customer_id in unseen:
        grant = existing.get(customer_id)
        if grant is None:
            grant = CustomerUserObjectPermission(
                user_id=assignee.pk,
                permission=permission,
                content_object=cards[customer_id],
                granted_by=actor,
                expires_at=None,
            )
        else:  # an expired grant: live again while the complaints are open
            grant.content_object = cards[customer_id]
            grant.expires_at, grant.granted_by, grant.granted_at = None, actor, now
        _save(grant, actor)
        grant_of[customer_id] = grant.pk
        new.add(customer_id)
    for complaint in complaints:
        complaint.access_grant_id = grant_of.get(complaint.customer_id)
        if complaint.customer_id in new:
            new.discard(complaint.customer_id)
            record_event(
                action=events.COMPLAINT_ACCESS_GRANTED,
                actor=actor,
                obj=complaint,
                data={
                    "customer_id": complaint.customer_id,
                    "user_id": assignee.pk,
                    "grant_id": complaint.access_grant_id,
                },
            )


@transaction.atomic
def complaints_hand_over(*, actor: User | None, from_user: User, to_user: User, reason: str) -> int:
    """Give every complaint still ``from_user``'s work (``complaints_held_by``: a user who
    leaves) to ``to_user``, an active service staff member. Returns how many moved.

    What ``complaint_assign`` does to one complaint, for all of them in one transaction:
    the cards' grants the complaints gave ``from_user`` end, ``to_user`` sees each card
    masked while its complaint is open, and each complaint gets a history row with the
    reason, an ``assigned`` step on its timeline and a ``complaints.assigned`` audit event.
    ``to_user`` gets one notification with the count, not one per complaint.

    For a user administrator deactivating ``from_user`` (``complaints.offboarding``; he
    holds no complaint permission) or the service manager. The caller has checked that
    ``from_user`` is his to hand over.
    """
    if actor is not None and not actor.has_perm(perms.ASSIGN):
        require_perm(
            actor,
            "crm.change_user",
            _("Only the service manager or a user administrator hands complaints over."),
        )
    if to_user.pk == from_user.pk or not _is_service_staff(to_user):
        raise ValidationError({"successor": [_("Complaints go to service staff.")]})
    reason = (reason or "").strip()
    complaints = list(
        complaints_held_by(from_user).select_for_update(of=("self",)).order_by("pk").preload_keys()
    )
    if not complaints:
        return 0
    now = timezone.now()
    _revoke_access_in_bulk(complaints, actor)
    _grant_access_in_bulk(complaints, to_user, actor)
    for complaint in complaints:
        complaint.assignee, complaint.assigned_at = to_user, now
        complaint.version += 1
        _save(complaint, actor, reason)
        _log(complaint, ComplaintEvent.Kind.ASSIGNED, actor, user=to_user, at=now)
        record_event(
            action=events.COMPLAINT_ASSIGNED,
            actor=actor,
            obj=complaint,
            reason=reason,
            data={"from_user_id": from_user.pk, "to_user_id": to_user.pk, "handed_over": True},
        )
    _notify(
        code=NOTIFY_HANDED_OVER,
        recipients=[to_user],
        params={"count": len(complaints)},
        link=reverse("complaints:board"),
        actor=actor,
    )
    return len(complaints)


# --- status flow --------------------------------------------------------------------------


def _check_move(complaint: Complaint, to: str) -> None:
    if to not in Status.values:
        raise ValidationError({"to": [_("Unknown status %(to)s.") % {"to": to}]})
    if to not in TRANSITIONS.get(complaint.status, ()):
        allowed = ", ".join(str(Status(s).label) for s in TRANSITIONS.get(complaint.status, ()))
        raise ValidationError(
            {
                "to": [
                    _(
                        "A complaint that is %(from)s cannot move to %(to)s; "
                        "it can move to: %(allowed)s."
                    )
                    % {
                        "from": Status(complaint.status).label,
                        "to": Status(to).label,
                        "allowed": allowed or "—",
                    }
                ]
            }
        )


def _schedule_return_visit(complaint: Complaint, actor, now) -> None:
    if complaint.return_visits.filter(done_at__isnull=True).exists():
        return
    visit = ReturnVisit(
        complaint=complaint,
        data_key_id=complaint.data_key_id,
        scheduled_for=timezone.localdate(now)
        + datetime.timedelta(days=_setting("RETURN_VISIT_DAYS")),
    )
    _save(visit, actor)


def complaint_transition(
    *,
    actor: User,
    complaint_id: int,
    to: str,
    note: str = "",
    version: int | None = None,
    root_cause: RootCause | str | None = None,
    resolution: str = "",
    informed_how: str = "",
    satisfaction_score: int | None = None,
    satisfaction_comment: str = "",
    return_visit_skip_reason: str = "",
) -> Complaint:
    """Move a complaint along received → investigating → resolved → customer informed →
    closed, or reopen it (back to investigating). An illegal move is refused with the moves
    that are allowed."""
    complaint = perms.access_complaint(actor, complaint_id, action="change")
    require_perm(actor, perms.CHANGE)
    note = _clean_text(note, "note", max_length=4000)
    with search_index.atomic():
        complaint = _locked(complaint.pk)
        if version is not None and version != complaint.version:
            raise ConflictError()
        _check_move(complaint, to)
        now = timezone.now()
        calendar_hours = _calendar_hours(complaint.severity)
        old = complaint.status
        reopen = to == Status.INVESTIGATING and old in REOPEN_FROM
        if to == Status.INVESTIGATING and not reopen:
            if complaint.assignee_id is None:  # whoever starts it takes it
                complaint.assignee, complaint.assigned_at = actor, now
                _grant_access(complaint, actor)
            if complaint.first_responded_at is None:
                complaint.first_responded_at = now
                complaint.first_response_hours = sla.hours_between(
                    complaint.received_at, now, calendar_hours=calendar_hours
                )
        elif reopen:
            policy = SlaPolicy.objects.filter(severity=complaint.severity).first()
            if old == Status.CLOSED:
                _grant_access(complaint, actor)
            complaint.resolved_at = complaint.closed_at = complaint.customer_informed_at = None
            complaint.customer_informed_how = ""
            complaint.resolution_hours = None
            complaint.resolution_escalated_at = None
            if policy is not None:
                complaint.resolution_due = sla.WorkingCalendar().add(
                    now, policy.resolution_hours, calendar_hours=policy.calendar_hours
                )
        elif to == Status.RESOLVED:
            resolution = _clean_text(resolution or complaint.resolution or note, "resolution")
            if not resolution:
                raise ValidationError({"resolution": [_("Say how the complaint was resolved.")]})
            if root_cause is not None:
                if isinstance(root_cause, str):
                    root_cause = RootCause.objects.filter(code=root_cause, is_active=True).first()
                    if root_cause is None:
                        raise ValidationError({"root_cause": [_("Choose an active root cause.")]})
                complaint.root_cause = root_cause
            complaint.resolution = resolution
            complaint.resolved_at = now
            complaint.resolution_hours = sla.hours_between(
                complaint.received_at, now, calendar_hours=calendar_hours
            )
            _schedule_return_visit(complaint, actor, now)
        elif to == Status.CUSTOMER_INFORMED:
            how = informed_how or complaint.channel
            if how not in Channel.values:
                raise ValidationError({"informed_how": [_("Choose how the customer was told.")]})
            complaint.customer_informed_at, complaint.customer_informed_how = now, how
        elif to == Status.CLOSED:
            skip = _clean_text(return_visit_skip_reason, "return_visit_skip_reason", max_length=300)
            visited = complaint.return_visits.filter(done_at__isnull=False).exists()
            if not visited and not skip and not complaint.return_visit_skip_reason:
                raise ValidationError(
                    {
                        "return_visit_skip_reason": [
                            _(
                                "A complaint closes after its return visit, or with the "
                                "reason why there is none."
                            )
                        ]
                    }
                )
            if skip:
                complaint.return_visit_skip_reason = skip
            if satisfaction_score not in (None, ""):
                score = int(satisfaction_score)
                if not 1 <= score <= 5:
                    raise ValidationError({"satisfaction_score": [_("The score is from 1 to 5.")]})
                complaint.satisfaction_score = score
            comment = _clean_text(satisfaction_comment, "satisfaction_comment", max_length=2000)
            if comment:
                complaint.satisfaction_comment = comment
            complaint.closed_at = now
            _revoke_access(complaint, actor)
        complaint.status = to
        complaint.version += 1
        _save(complaint, actor, note)
        _log(
            complaint,
            ComplaintEvent.Kind.REOPENED if reopen else ComplaintEvent.Kind.MOVED,
            actor,
            from_status=old,
            to_status=to,
            note=note,
        )
        record_event(
            action=events.COMPLAINT_REOPENED if reopen else events.COMPLAINT_MOVED,
            actor=actor,
            obj=complaint,
            reason=note,
            data={"code": complaint.code, "from": old, "to": to},
        )
    return complaint


@transaction.atomic
def complaint_note_add(*, actor: User, complaint_id: int, note: str) -> ComplaintEvent:
    """An investigation note (encrypted under the complaint's key)."""
    complaint = perms.access_complaint(actor, complaint_id, action="change")
    require_perm(actor, perms.CHANGE)
    note = _clean_text(note, "note", required=True, max_length=4000)
    event = _log(complaint, ComplaintEvent.Kind.NOTE, actor, note=note)
    record_event(
        action=events.COMPLAINT_NOTE_ADDED,
        actor=actor,
        obj=complaint,
        data={"code": complaint.code, "event_id": event.pk},
    )
    return event


@transaction.atomic
def return_visit_record(
    *, actor: User, complaint_id: int, outcome: str, note: str = ""
) -> ReturnVisit:
    """The return visit (回访) was made: its outcome and a note."""
    complaint = perms.access_complaint(actor, complaint_id, action="change")
    require_perm(actor, perms.CHANGE)
    if outcome not in ReturnVisit.Outcome.values:
        raise ValidationError({"outcome": [_("Choose the outcome of the return visit.")]})
    if complaint.resolved_at is None:
        raise ValidationError({"outcome": [_("A return visit follows the resolution.")]})
    note = _clean_text(note, "note", max_length=4000)
    visit = complaint.return_visits.select_for_update().filter(
        done_at__isnull=True
    ).first() or ReturnVisit(
        complaint=complaint,
        data_key_id=complaint.data_key_id,
        scheduled_for=timezone.localdate(),
    )
    visit.done_at, visit.done_by, visit.outcome, visit.note = timezone.now(), actor, outcome, note
    _save(visit, actor)
    _log(complaint, ComplaintEvent.Kind.RETURN_VISIT, actor, note=note)
    record_event(
        action=events.RETURN_VISIT_RECORDED,
        actor=actor,
        obj=complaint,
        data={"code": complaint.code, "outcome": outcome},
    )
    return visit


# --- the caller and the card ------------------------------------------------------------------


def complaint_link_customer(*, actor: User, complaint_id: int, customer_id: int) -> Complaint:
    """A caller's complaint joins the card he now has: its values are re-encrypted under
    the card's key and the caller's own key is destroyed (with it, the history of the
    values from before the link)."""
    complaint = perms.access_complaint(actor, complaint_id, action="change")
    customer = customer_for_complaint(actor, customer_id)
    if complaint.customer_id is not None:
        raise ValidationError({"customer": [_("The complaint is already on a card.")]})
    with search_index.atomic():
        complaint = _locked(complaint.pk)
        if complaint.customer_id is not None:
            raise ValidationError({"customer": [_("The complaint is already on a card.")]})
        old_key = complaint.data_key_id
        children = [
            *ComplaintEvent.objects.filter(complaint=complaint),
            *ReturnVisit.objects.filter(complaint=complaint),
        ]
        for row in (complaint, *children):
            open_all(row)
        complaint.customer = customer
        complaint.data_key_id = customer.data_key_id
        repeat = _repeat_of(customer.pk, complaint.category_id, complaint.received_at, complaint.pk)
        if repeat is not None and complaint.kind == Complaint.Kind.COMPLAINT:
            complaint.repeat_of, complaint.is_repeat = repeat, True
        _grant_access(complaint, actor)
        complaint.version += 1
        _save(complaint, actor)
        for row in children:
            row.data_key_id = customer.data_key_id
            _save(row, actor)
        _log(complaint, ComplaintEvent.Kind.LINKED, actor)
        record_event(
            action=events.COMPLAINT_LINKED,
            actor=actor,
            obj=complaint,
            data={"code": complaint.code, "customer_id": customer.pk},
        )
        encryption.data_key_destroy(old_key)
    return complaint


def complaint_caller_reveal(*, actor: User, complaint_id: int, reason: str = "") -> dict:
    """The caller's phone in clear, for complaint handling (audited).

    On a card: the card's phone through the customers' reveal, which admits the assignee
    of an open complaint for the phone only. A caller without a card: his name and phone
    kept on the complaint, for whoever may act on it.
    """
    from customers.services import customer_reveal

    complaint = perms.access_complaint(actor, complaint_id, action="change")
    purpose = f"{COMPLAINT_HANDLING} {complaint.code}"
    extra = (reason or "").strip()
    if extra:
        purpose = f"{purpose}: {extra}"[:300]
    if complaint.customer_id is not None:
        if complaint.status == Status.CLOSED or complaint.assignee_id != actor.pk:
            raise perms.refuse(
                actor,
                complaint,
                "reveal",
                _("Only the assignee of an open complaint sees the phone in clear."),
            )
        return customer_reveal(
            actor=actor, customer=complaint.customer, fields=["phone"], reason=purpose
        )
    record_event(
        action=events.COMPLAINT_CALLER_REVEALED,
        actor=actor,
        obj=complaint,
        reason=purpose,
        data={"code": complaint.code, "fields": ["caller_name", "caller_phone"]},
    )
    return {"caller_name": complaint.caller_name, "caller_phone": complaint.caller_phone}


# --- SLA escalation -----------------------------------------------------------------------


def escalation_recipients(complaint: Complaint) -> list[User]:
    """The assignee's manager (his team's); without one, the service managers."""
    assignee = complaint.assignee
    if assignee is not None and assignee.team_id and assignee.team.manager_id:
        return [assignee.team.manager]
    return list(
        User.objects.filter(groups__name=roles.SERVICE_MANAGER, is_active=True).order_by("pk")
    )


def complaints_escalate_overdue(*, now: datetime.datetime | None = None) -> int:
    """Escalate every breach of a deadline to the assignee's manager, exactly once per
    breach (first response, resolution), recorded on the case. Returns how many."""
    now = now or timezone.now()
    first = Complaint.objects.filter(
        status=Status.RECEIVED,
        first_response_due__lt=now,
        first_response_escalated_at__isnull=True,
    ).values_list("pk", flat=True)
    resolution = Complaint.objects.filter(
        status__in=(Status.RECEIVED, Status.INVESTIGATING),
        resolution_due__lt=now,
        resolution_escalated_at__isnull=True,
    ).values_list("pk", flat=True)
    done = 0
    for breach, ids in (("first_response", list(first)), ("resolution", list(resolution))):
        for pk in ids:
            done += complaint_escalate(complaint_id=pk, breach=breach, now=now)
    return done


def complaint_escalate(*, complaint_id: int, breach: str, now=None) -> int:
    """Escalate one breach of one complaint, if still due (under a lock: exactly once)."""
    now = now or timezone.now()
    field = f"{breach}_escalated_at"
    with transaction.atomic():
        complaint = _locked(complaint_id)
        due = getattr(complaint, f"{breach}_due")
        still = {
            "first_response": complaint.status == Status.RECEIVED,
            "resolution": complaint.status in (Status.RECEIVED, Status.INVESTIGATING),
        }[breach]
        if getattr(complaint, field) is not None or not still or due is None or due >= now:
            return 0
        setattr(complaint, field, now)
        recipients = escalation_recipients(complaint)
        _save(complaint, None, update_fields=[field, "updated_at"])
        _log(
            complaint,
            ComplaintEvent.Kind.ESCALATED,
            None,
            user=recipients[0] if recipients else None,
            note="",
            at=now,
        )
        record_event(
            action=events.COMPLAINT_ESCALATED,
            obj=complaint,
            data={
                "code": complaint.code,
                "breach": breach,
                "to_user_ids": [u.pk for u in recipients],
            },
        )
        _notify(
            code=NOTIFY_ESCALATED,
            recipients=recipients,
            params={"complaint": complaint.code},
            link=_link(complaint),
        )
    return 1


# --- the working calendar and the SLA policies ----------------------------------------------


@transaction.atomic
def calendar_day_set(
    *, actor: User, date: datetime.date, kind: str, name: str = "", hours_of: int | None = None
) -> CalendarDay:
    """Enter a public holiday or a make-up working day (replacing what the date held)."""
    require_perm(actor, "complaints.change_calendarday")
    if kind not in CalendarDay.Kind.values:
        raise ValidationError({"kind": [_("Choose holiday or workday.")]})
    name = _clean_text(name, "name", max_length=100)
    day = CalendarDay.objects.select_for_update().filter(date=date).first()
    created = day is None
    if created:
        require_perm(actor, "complaints.add_calendarday")
        day = CalendarDay(date=date)
    day.kind, day.name = kind, name
    if hours_of is not None:
        day.hours_of = hours_of
    _save(day, actor)
    record_event(
        action=events.CALENDAR_DAY_SET,
        actor=actor,
        obj=day,
        data={"date": date.isoformat(), "kind": kind, "created": created},
    )
    return day


@transaction.atomic
def calendar_day_remove(*, actor: User, date: datetime.date) -> bool:
    """Remove the exception of a date (it works like its weekday again)."""
    require_perm(actor, "complaints.delete_calendarday")
    day = CalendarDay.objects.select_for_update().filter(date=date).first()
    if day is None:
        return False
    day._history_user = actor
    record_event(
        action=events.CALENDAR_DAY_REMOVED,
        actor=actor,
        obj=day,
        data={"date": date.isoformat(), "kind": day.kind},
    )
    day.delete()
    return True


@transaction.atomic
def sla_policy_set(
    *,
    actor: User | None,
    severity: str,
    first_response_hours: Decimal,
    resolution_hours: Decimal,
    calendar_hours: bool = False,
) -> SlaPolicy:
    """Set a severity's deadlines (applies to complaints received from now on)."""
    require_perm(actor, "complaints.change_slapolicy")
    if severity not in Severity.values:
        raise ValidationError({"severity": [_("Choose a severity.")]})
    first_response_hours, resolution_hours = (
        Decimal(first_response_hours),
        Decimal(resolution_hours),
    )
    if first_response_hours <= 0 or resolution_hours <= 0:
        raise ValidationError({"resolution_hours": [_("Deadlines are positive hours.")]})
    if first_response_hours > resolution_hours:
        raise ValidationError(
            {"first_response_hours": [_("The first response comes before the resolution.")]}
        )
    policy = SlaPolicy.objects.select_for_update().filter(severity=severity).first()
    policy = policy or SlaPolicy(severity=severity)
    policy.first_response_hours = first_response_hours
    policy.resolution_hours = resolution_hours
    policy.calendar_hours = calendar_hours
    _save(policy, actor)
    record_event(
        action=events.SLA_POLICY_CHANGED,
        actor=actor,
        obj=policy,
        data={
            "severity": severity,
            "first_response_hours": str(first_response_hours),
            "resolution_hours": str(resolution_hours),
            "calendar_hours": calendar_hours,
        },
    )
    return policy


# --- satisfaction surveys ---------------------------------------------------------------------

# There is no consent purpose "surveys" on the card (customers.Consent.Purpose): a survey
# about the service goes to the customers with a live consent for the *service* purpose.
SURVEY_CONSENT_PURPOSE = "service"
SURVEY_SALT = "complaints.survey"
SURVEY_LINK_DAYS = 30  # a survey link answers for this many days after it was sent
SURVEY_SEND_TASK = "complaints.survey_round_send"


class InvalidSurveyLink(ValidationError):
    """The link was altered, has expired, or names no invitation."""


class SurveyAlreadyAnswered(ValidationError):
    """The invitation has its answer already: one response per invitation."""


@transaction.atomic
def survey_save(
    *,
    actor: User,
    name: str,
    period: str,
    question: str,
    is_active: bool = True,
    survey_id: int | None = None,
) -> Survey:
    """Create or change a satisfaction survey (service manager)."""
    require_perm(actor, perms.SURVEYS, _("Only the service manager runs surveys."))
    errors: dict[str, list] = {}
    name = _clean_text(name, "name", required=True, max_length=200)
    question = _clean_text(question, "question", required=True, max_length=300)
    if period not in Survey.Period.values:
        errors["period"] = [_("Choose monthly, quarterly or yearly.")]
    if errors:
        raise ValidationError(errors)
    survey = Survey.objects.select_for_update().get(pk=survey_id) if survey_id else Survey()
    survey.name, survey.period, survey.question = name, period, question
    survey.is_active = bool(is_active)
    survey.full_clean()
    _save(survey, actor)
    record_event(
        action=events.SURVEY_SAVED,
        actor=actor,
        obj=survey,
        data={"period": period, "is_active": survey.is_active, "created": survey_id is None},
    )
    return survey


def _live_survey_consent():
    from django.db.models import Exists, OuterRef

    from customers.models import Consent

    return Exists(
        Consent.objects.filter(
            customer=OuterRef("pk"), purpose=SURVEY_CONSENT_PURPOSE, withdrawn_at__isnull=True
        )
    )


def survey_token(invitation: SurveyInvitation) -> str:
    """The signed token of an invitation's link: its id only, nothing personal."""
    return signing.dumps({"i": invitation.pk}, salt=SURVEY_SALT)


def survey_url(invitation: SurveyInvitation) -> str:
    base = getattr(settings, "CRM_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return base + reverse("complaints:survey", args=[survey_token(invitation)])


def survey_invitation_read(token: str) -> SurveyInvitation:
    """The invitation a link names; ``InvalidSurveyLink`` for an altered, expired or unknown
    link."""
    try:
        payload = signing.loads(
            token, salt=SURVEY_SALT, max_age=datetime.timedelta(days=SURVEY_LINK_DAYS)
        )
        invitation_id = int(payload["i"])
    except signing.SignatureExpired as exc:
        raise InvalidSurveyLink(_("This survey link has expired.")) from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidSurveyLink(_("This survey link is not valid.")) from exc
    invitation = SurveyInvitation.objects.select_related("survey").filter(pk=invitation_id).first()
    if invitation is None:
        raise InvalidSurveyLink(_("This survey link is not valid."))
    return invitation


def survey_round_send(*, survey_id: int, today: datetime.date | None = None) -> dict[str, int]:
    """Send the survey's current round: an e-mail with a signed link to every customer with
    a live consent for the survey purpose and an e-mail address, once a round.

    Safe to run again (the task, the command, a retry): a customer already invited in this
    round is not invited again (a unique rule claims him before the message goes out). The
    consent is read for each customer just before his message, so a withdrawal that commits
    first stops it. Returns the counts; one audit event records them.
    """
    from django.core.mail import get_connection

    survey = Survey.objects.get(pk=survey_id)
    today = today or timezone.localdate()
    round_ = survey.round_of(today)
    counts = {"invited": 0, "no_email": 0, "failed": 0}
    if not survey.is_active:
        return counts
    invited = SurveyInvitation.objects.filter(survey=survey, round=round_).values("customer_id")
    pending = (
        Customer.objects.exclude(status__in=(Customer.Status.MERGED, Customer.Status.CLOSED))
        .filter(_live_survey_consent())
        .exclude(pk__in=invited)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    connection = get_connection(fail_silently=False)
    try:
        for customer_id in list(pending):
            result = _survey_invite_one(survey, round_, customer_id, connection)
            if result:
                counts[result] += 1
    finally:
        connection.close()
    record_event(action=events.SURVEY_ROUND_SENT, obj=survey, data={"round": round_, **counts})
    return counts


def _survey_invite_one(survey: Survey, round_: str, customer_id: int, connection) -> str | None:
    """Check the consent, claim the customer for the round, send; the result or None."""
    from django.core.mail import EmailMultiAlternatives
    from django.db import IntegrityError
    from django.template.loader import render_to_string

    try:
        with transaction.atomic():
            # The e-mail is decrypted only for a customer whose consent is live right now.
            customer = (
                Customer.objects.filter(_live_survey_consent(), pk=customer_id)
                .only("uid", "data_key_id", "email")
                .first()
            )
            if customer is None:
                return None  # withdrawn since the round started
            if not customer.email:
                return "no_email"
            invitation = SurveyInvitation(
                survey=survey,
                round=round_,
                customer_id=customer_id,
                data_key_id=customer.data_key_id,
            )
            _save(invitation, None)  # claims the customer before anything goes out
            context = {
                "survey": survey,
                "url": survey_url(invitation),
                "days": SURVEY_LINK_DAYS,
                "company_name": settings.CRM["COMPANY_NAME"],
            }
            message = EmailMultiAlternatives(
                subject=survey.name,
                body=render_to_string("complaints/survey_email.txt", context),
                to=[customer.email],
                connection=connection,
            )
            message.send(fail_silently=False)
            return "invited"
    except IntegrityError:
        return None  # another run invited this customer first
    except Exception as exc:  # noqa: BLE001 - a mail error fails this customer only
        # The error text may hold the address: its type only, and the claim rolled back so
        # that the next run tries again.
        logger.warning(
            "survey %s: invitation of customer %s failed (%s)",
            survey.pk,
            customer_id,
            type(exc).__name__,
        )
        connection.close()
        return "failed"


def surveys_send_due(*, today: datetime.date | None = None) -> dict[str, int]:
    """Every active survey's current round (the periodic task: daily; a round already
    sent invites only the customers who gave consent since)."""
    totals = {"invited": 0, "no_email": 0, "failed": 0}
    for survey_id in Survey.objects.filter(is_active=True).values_list("pk", flat=True):
        for key, value in survey_round_send(survey_id=survey_id, today=today).items():
            totals[key] += value
    return totals


def survey_respond(*, token: str, score, comment: str = "") -> SurveyInvitation:
    """The customer's answer through the signed link (no login): once per invitation."""
    invitation = survey_invitation_read(token)
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError({"score": [_("The score is from 1 to 5.")]})
    comment = _clean_text(comment, "comment", max_length=2000)
    with transaction.atomic():
        invitation = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.responded_at is not None:
            raise SurveyAlreadyAnswered(_("This survey has already been answered. Thank you."))
        invitation.responded_at = timezone.now()
        invitation.score, invitation.comment = score, comment
        _save(invitation, None, update_fields=["responded_at", "score", "comment", "updated_at"])
        record_event(
            action=events.SURVEY_ANSWERED,
            obj=invitation,
            data={
                "survey_id": invitation.survey_id,
                "round": invitation.round,
                "fields": ["score", "comment"] if comment else ["score"],
            },
        )
    return invitation


def survey_round_queue(*, actor: User, survey: Survey) -> None:
    """Send the survey's current round in the background (once the request commits)."""
    from crm.queueing import enqueue_on_commit

    require_perm(actor, perms.SURVEYS, _("Only the service manager runs surveys."))
    if not survey.is_active:
        raise ValidationError({"survey": [_("The survey is not active.")]})
    enqueue_on_commit(SURVEY_SEND_TASK, survey.pk)
