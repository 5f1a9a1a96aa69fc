"""Reads of the audit trail: the console's list with its flags, a customer's accesses, the
chain's state."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from audit import events
from audit.models import AuditEvent, ChainCheckpoint
from crm import privacy, roles

# Roles that oversee every customer: their accesses are never "outside the team".
OVERSEER_ROLES = (roles.GENERAL_MANAGER, roles.DPO, roles.AUDITOR, roles.ADMIN)


def audit_event_list(*, user):
    """Events the user may read: everything for holders of ``audit.view_auditevent``."""
    if not user.has_perm("audit.view_auditevent"):
        return AuditEvent.objects.none()
    # Newest first; an event not chained yet (for an instant after its commit) on top.
    return (
        AuditEvent.objects.select_related("content_type")
        .order_by(F("sequence").desc(nulls_first=True), "-id")
        .preload_keys()
    )


def _customer_model():
    try:
        return privacy.subject_model()
    except LookupError:
        return None


def with_flags(events_qs: QuerySet) -> QuerySet:
    """Annotate each event, in SQL, with the customer it concerns and two flags.

    * ``customer_ref`` / ``customer_code_ref``: the card itself (content type and id) or the
      customer whose data key the event carries (an event about a contact, a complaint…);
    * ``after_hours``: outside ``PRIVACY_WORK_HOURS_START``–``END`` local time, or at a
      weekend;
    * ``outside_team``: an access to a customer by a user who is not its owner, not in the
      owner's current team and not in an overseeing role (e.g. through a grant).
    """
    start = int(settings.PRIVACY.get("WORK_HOURS_START", 8))
    end = int(settings.PRIVACY.get("WORK_HOURS_END", 20))
    local = timezone.get_current_timezone()
    events_qs = events_qs.annotate(
        local_hour=ExtractHour("occurred_at", tzinfo=local),
        local_weekday=ExtractIsoWeekDay("occurred_at", tzinfo=local),
    ).annotate(
        after_hours=ExpressionWrapper(
            Q(local_hour__lt=start) | Q(local_hour__gte=end) | Q(local_weekday__gte=6),
            output_field=BooleanField(),
        )
    )
    customer_model = _customer_model()
    if customer_model is None:
        return events_qs.annotate(
            customer_ref=Value(None, output_field=BigIntegerField()),
            customer_code_ref=Value(""),
            outside_team=Value(False, output_field=BooleanField()),
        )
    customer_type = ContentType.objects.get_for_model(customer_model)
    customers = customer_model._base_manager
    by_key = customers.filter(data_key_id=OuterRef("subject_key_id")).order_by().values("pk")[:1]
    events_qs = events_qs.annotate(
        customer_ref=Coalesce(
            Case(
                When(
                    content_type_id=customer_type.pk,
                    then=Cast("object_id", BigIntegerField()),
                ),
                default=Value(None, output_field=BigIntegerField()),
            ),
            Subquery(by_key, output_field=BigIntegerField()),
        )
    )
    overseer = Exists(
        privacy_user_model()
        .objects.filter(pk=OuterRef("actor_id"), groups__name__in=OVERSEER_ROLES)
        .values("pk")
    )
    actor_team = privacy_user_model().objects.filter(pk=OuterRef(OuterRef("actor_id")))
    foreign = (
        customers.filter(pk=OuterRef("customer_ref"))
        .exclude(owner_id=OuterRef("actor_id"))
        .exclude(owner__team_id__in=actor_team.filter(team_id__isnull=False).values("team_id"))
    )
    return events_qs.annotate(
        customer_code_ref=Subquery(
            customers.filter(pk=OuterRef("customer_ref")).order_by().values("code")[:1]
        ),
        outside_team=ExpressionWrapper(
            Q(actor_id__isnull=False) & ~overseer & Exists(foreign),
            output_field=BooleanField(),
        ),
    )


def privacy_user_model():
    from django.contrib.auth import get_user_model

    return get_user_model()


def audit_console_list(*, user) -> QuerySet:
    """The console's events: readable events with the customer and the flags (SQL), and
    their actor in the same statement (the page shows him by his name)."""
    return with_flags(audit_event_list(user=user).select_related("actor"))


def customer_accesses(*, user, customer) -> QuerySet:
    """Events about ``customer``: about the card or any of its records (its data key), with
    their actor (shown by his name) in the same statement."""
    from audit.privacy import events_about

    if not user.has_perm("audit.view_auditevent"):
        return AuditEvent.objects.none()
    return with_flags(
        events_about(customer)
        .select_related("content_type", "actor")
        .order_by(F("sequence").desc(nulls_first=True), "-id")
        .preload_keys()
    )


def chain_status() -> dict:
    """The last checkpoint (keys database) and the last recorded verification."""
    checkpoint = ChainCheckpoint.objects.order_by("-id").first()
    verification = (
        AuditEvent.objects.filter(action=events.AUDIT_CHAIN_VERIFIED)
        .order_by(F("sequence").desc(nulls_first=True), "-id")
        .values("occurred_at", "data")
        .first()
    )
    return {"checkpoint": checkpoint, "verification": verification}
