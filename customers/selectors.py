"""Reads of the customers app that encode rules: visibility, lists, timeline, dashboard,
custom attributes, merge previews, campaign audiences and send logs, import jobs.

Services call these; nothing here writes or imports a service.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm import masking, personal_data
from crm.fields import change_reason_of, is_unavailable
from crm.ids import is_object_id
from crm.imports import jobs as import_jobs
from crm.imports.errors import error_rows
from crm.querysets import KeyPreloadingQuerySet
from customers import merge_policies
from customers import permissions as perms
from customers import timeline as timeline_registry
from customers.filters import CustomerFilter
from customers.models import (
    BusinessType,
    Campaign,
    CampaignSend,
    Consent,
    CustomAttribute,
    Customer,
    IdentityDocument,
    ImportJob,
    Interaction,
    ServiceStage,
    StageMove,
    Tier,
    VisitPlanEntry,
)

logger = logging.getLogger(__name__)

LIST_RELATED = ("owner", "team", "business_type", "tier", "stage")


def customer_list(*, user, queryset: QuerySet | None = None) -> QuerySet:
    """Customers the user may see, ready for a list (no query per row).

    The owners the user answers for are read once and inlined (``owners_inline``): the
    list's count and page then get row estimates, and plans, that fit the user. Keys are
    unwrapped from the rows fetched (``preload_keys``).
    """
    base = queryset if queryset is not None else Customer.objects.all()
    return (
        perms.visible_customers(user, base.select_related(*LIST_RELATED), owners_inline=True)
        .exclude(status=Customer.Status.MERGED)
        .preload_keys()
    )


def customer_export_list(
    *, user, filter_params, with_third_party_consent: bool = False
) -> tuple[QuerySet, QuerySet]:
    """(customers to export, customers the filters matched), both scoped to ``user``.

    ``with_third_party_consent`` keeps only customers holding a live consent to provision
    to third parties. Raises ``ValidationError`` by filter for invalid filters.
    """
    filterset = CustomerFilter(filter_params, queryset=customer_list(user=user))
    if not filterset.is_valid():
        raise ValidationError(
            {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
        )
    matched = filterset.qs
    chosen = matched
    if with_third_party_consent:
        chosen = matched.filter(
            Exists(
                Consent.objects.filter(
                    customer=OuterRef("pk"),
                    purpose=Consent.Purpose.THIRD_PARTY,
                    withdrawn_at__isnull=True,
                )
            )
        )
    return chosen, matched


def masked(instance, field_name: str) -> str:
    """The value of a personal field as a user without the right to see it is shown."""
    return personal_data.masked_value(instance, field_name)


def customer_card(customer: Customer) -> Customer:
    """The card with the records its tabs show, each fetched in one query."""
    from django.db.models import Prefetch

    return (
        Customer.objects.select_related(
            *LIST_RELATED, "owner__team", "stage_owner", "reverified_by"
        )
        .prefetch_related(
            "contacts",
            Prefetch("identity_documents__verified_by"),
            Prefetch(
                "consents", queryset=Consent.objects.select_related("recorded_by", "guardian")
            ),
            Prefetch("interactions", queryset=Interaction.objects.select_related("user")),
            Prefetch(
                "stage_moves",
                queryset=StageMove.objects.select_related(
                    "from_stage", "to_stage", "responsible", "moved_by"
                ),
            ),
            "attribute_values__attribute",
        )
        .get(pk=customer.pk)
    )


def attributes_for(customer: Customer) -> QuerySet:
    """The custom attributes that apply to the card (its business type and kind)."""
    return CustomAttribute.objects.filter(
        Q(business_type__isnull=True) | Q(business_type_id=customer.business_type_id),
        Q(customer_kind="") | Q(customer_kind=customer.kind),
    )


def attribute_rows(customer: Customer) -> list[dict]:
    """The custom attributes that apply to the card, with masked personal values."""
    values = {v.attribute_id: v for v in customer.attribute_values.all()}
    rows = []
    for attribute in attributes_for(customer):
        value = values.get(attribute.pk)
        if value is None:
            shown = ""
        elif attribute.is_personal:
            shown = personal_data.masked_value(value, "secret_value")
        else:
            shown = value.value
        rows.append(
            {
                "code": attribute.code,
                "label": str(attribute),
                "type": attribute.value_type,
                "choices": attribute.choices,
                "personal": attribute.is_personal,
                "required": attribute.required,
                "value": shown,
            }
        )
    return rows


# --- timeline -----------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    detail: str = ""
    actor: str = ""
    changes: list[tuple[str, str]] = dataclass_field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "title": self.title,
            "detail": self.detail,
            "actor": self.actor,
            "changes": [{"field": f, "value": v} for f, v in self.changes],
        }


def _actor(user) -> str:
    """A user as the timeline names him: his name (孙军), else his login."""
    return (user.get_full_name() or user.get_username()) if user else ""


# Bookkeeping columns, and the stage columns whose moves have entries of their own.
_HIDDEN_HISTORY_FIELDS = {
    "updated_at",
    "created_at",
    "version",
    "data_key_id",
    "stage",
    "stage_owner",
}


def _field_changes(record, previous) -> list[tuple[models.Field, object]]:
    delta = record.diff_against(previous)
    return [
        (Customer._meta.get_field(change.field), change.new)
        for change in delta.changes
        if change.field not in _HIDDEN_HISTORY_FIELDS
    ]


def _related_names(changes) -> dict[tuple[type, object], str]:
    """One query per related model for every foreign key value the changes mention."""
    wanted: dict[type, set] = {}
    for field, value in changes:
        if field.is_relation and value is not None:
            wanted.setdefault(field.related_model, set()).add(value)
    names = {}
    for model, ids in wanted.items():
        for obj in model._default_manager.filter(pk__in=ids):
            names[(model, obj.pk)] = _actor(obj) if hasattr(obj, "get_username") else str(obj)
    return names


def _shown(field, value, names) -> str:
    if is_unavailable(value):
        return personal_data.unavailable_label(value)
    if value in (None, ""):
        return ""
    if field.is_relation:
        return names.get((field.related_model, value), str(value))
    entry = personal_data.get(Customer, field.name)
    if entry is not None:
        return masking.mask(entry.mask, value)
    if field.choices:  # "Simplified Chinese", "Active": never the stored code
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


# What the services once stored as a history row's reason when the user gave none (an
# English sentence, or a stage move's marker: its move has an entry of its own). Rows
# written since keep the user's reason or nothing; these are never shown as one.
_SERVICE_MARKERS = re.compile(
    r"^(stage: \S+|status: [a-z_]+|owner: reassigned|merged \S+ into \S+|user deactivated)$"
)


def _user_reason(record) -> str:
    reason = change_reason_of(record)
    return "" if _SERVICE_MARKERS.match(reason or "") else reason


def _merge_rows(records) -> set[int]:
    """The history rows a merge wrote (``records`` ordered by card, then date): each card's
    row that names a new card it is merged into (the duplicate closed, or a card merged
    earlier into it pointed on), and that card's next row (the values it took)."""
    merges, merged_into = [], {}
    for record in records:
        into = record.merged_into_id
        if record.id in merged_into and into is not None and into != merged_into[record.id]:
            merges.append(record)
        merged_into[record.id] = record.merged_into_id
    found = {record.history_id for record in merges}
    for merge in merges:
        after = [
            r.history_id
            for r in records
            if r.id == merge.merged_into_id and r.history_date > merge.history_date
        ]
        found.update(after[:1])
    return found


def _card_entries(customer_ids: list[int], limit: int) -> list[TimelineEntry]:
    records = list(
        Customer.history.filter(id__in=customer_ids)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    merged = _merge_rows(records)
    raw = []
    previous_by_id = {}
    for record in records:
        previous = previous_by_id.get(record.id)
        previous_by_id[record.id] = record
        if previous is None:
            raw.append((record, None))
            continue
        changes = _field_changes(record, previous)
        reason = _user_reason(record)
        if changes or reason:
            raw.append((record, changes))
    names = _related_names([change for _record, changes in raw for change in changes or ()])
    entries = []
    for record, changes in raw:
        actor = _actor(record.history_user)
        if changes is None:
            entries.append(
                TimelineEntry(
                    record.history_date, "card", _("Card created"), detail=record.code, actor=actor
                )
            )
            continue
        reason = _user_reason(record)
        title = _("Card merged") if record.history_id in merged else _("Card changed")
        shown = [(str(field.verbose_name), _shown(field, value, names)) for field, value in changes]
        entries.append(
            TimelineEntry(
                record.history_date, "card", title, detail=reason, actor=actor, changes=shown
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def customer_timeline(*, customer: Customer, user, limit: int = 100) -> list[TimelineEntry]:
    """Field changes (masked), interactions, stage moves, consents, and what other apps
    register, newest first; a fixed number of queries whatever the card's length.

    ``user`` views the card (the caller has checked he may see it); each registered source
    leaves out what he may not see.
    """
    ids = [customer.pk, *Customer.objects.filter(merged_into=customer).values_list("pk", flat=True)]
    entries = _card_entries(ids, limit)
    for interaction in (
        Interaction.objects.filter(customer=customer)
        .select_related("user")
        .order_by("-occurred_at")[:limit]
    ):
        entries.append(
            TimelineEntry(
                interaction.occurred_at,
                "interaction",
                interaction.get_kind_display(),
                detail=interaction.get_outcome_display(),
                actor=_actor(interaction.user),
            )
        )
    for move in (
        StageMove.objects.filter(customer=customer)
        .select_related("from_stage", "to_stage", "responsible", "moved_by")
        .order_by("-created_at")[:limit]
    ):
        entries.append(
            TimelineEntry(
                move.created_at,
                "stage",
                _("Stage: %(stage)s") % {"stage": move.to_stage},
                detail=_("responsible: %(user)s") % {"user": _actor(move.responsible)},
                actor=_actor(move.moved_by),
            )
        )
    for consent in (
        Consent.objects.filter(customer=customer)
        .select_related("recorded_by")
        .order_by("-given_at")[:limit]
    ):
        entries.append(
            TimelineEntry(
                consent.given_at,
                "consent",
                _("Consent given: %(purpose)s") % {"purpose": consent.get_purpose_display()},
                actor=_actor(consent.recorded_by),
            )
        )
        if consent.withdrawn_at:
            entries.append(
                TimelineEntry(
                    consent.withdrawn_at,
                    "consent",
                    _("Consent withdrawn: %(purpose)s")
                    % {"purpose": consent.get_purpose_display()},
                )
            )
    for source in timeline_registry.sources():
        entries.extend(source(customer, user, limit))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


# --- dashboard ----------------------------------------------------------------------------


def reverification_overdue(*, today: date | None = None) -> QuerySet:
    """Cards due for re-verification: the card's own date, or an identity document's."""
    today = today or timezone.localdate()
    document_due = IdentityDocument.objects.filter(customer=OuterRef("pk"), reverify_due__lt=today)
    return Customer.objects.exclude(
        status__in=[Customer.Status.MERGED, Customer.Status.CLOSED]
    ).filter(Q(reverification_due__lt=today) | Q(Exists(document_due)))


def _still_visible(user) -> Q:
    """On a list of records that point at cards: only the cards the user may still see."""
    return Q(customer__in=perms.visible_customers(user).values("pk"))


def reverification_due_for(user, *, limit: int = 20) -> QuerySet:
    """The user's cards due for re-verification (the card or one of its documents)."""
    return (
        perms.visible_customers(user, reverification_overdue())
        .filter(owner=user)
        .select_related("business_type")
        .order_by("reverification_due")[:limit]
    )


def follow_ups_due_for(user, *, limit: int = 20) -> QuerySet:
    return (
        Interaction.objects.filter(
            _still_visible(user),
            customer__owner=user,
            follow_up_done=False,
            next_follow_up__isnull=False,
            next_follow_up__lte=timezone.localdate(),
        )
        .select_related("customer")
        .order_by("next_follow_up")[:limit]
    )


def visit_plan_for(user) -> QuerySet:
    """The rep's plan, for the customers he may still see (a prospect handed to another
    team leaves it)."""
    # The page shows each card's name masked: every card's key is unwrapped in one query
    # (an entry is under its card's key) instead of one query per entry.
    return _visit_plan_rows(user).preload_keys()


def _visit_plan_rows(user) -> KeyPreloadingQuerySet:
    return (
        KeyPreloadingQuerySet(VisitPlanEntry)
        .filter(_still_visible(user), rep=user)
        .select_related("customer")
        .order_by("status", "next_visit_on", "id")
    )


def visit_plan_removed_recently(user, *, days: int = 30) -> QuerySet:
    since = timezone.now() - timedelta(days=days)
    # Codes and reasons only (the dashboard): no key to unwrap.
    return _visit_plan_rows(user).filter(
        status=VisitPlanEntry.Status.REMOVED, removed_at__gte=since
    )


# --- grants -------------------------------------------------------------------------------


def customer_grant_list(*, customer: Customer) -> QuerySet:
    """The explicit grants on a card, live first then expired, with who holds and gave them."""
    from customers.models import CustomerUserObjectPermission

    return (
        CustomerUserObjectPermission.objects.filter(
            content_object=customer, permission__codename="view_customer"
        )
        .select_related("user", "granted_by")
        .order_by("-granted_at", "-pk")
    )


# --- merge --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerLink:
    """A foreign key to ``Customer`` on some model (a through table's included)."""

    model: type[models.Model]
    field: models.ForeignKey

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def policy(self) -> merge_policies.MergePolicy:
        return merge_policies.policy_for(self.model)

    def rows(self, customer: Customer) -> QuerySet:
        return self.model._default_manager.filter(**{self.field.name: customer}).order_by("pk")


def customer_links() -> list[CustomerLink]:
    """Every foreign key to ``Customer`` except history tables and the card's own
    ``merged_into`` (hidden relations and many-to-many through tables included), walked
    from Django's model metadata: the rows of apps built later are found too."""
    links = {}
    for relation in Customer._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete) or relation.many_to_many:
            continue
        model = relation.related_model
        if model is Customer or getattr(model, "instance_type", None) is not None:
            continue
        links[(model._meta.label_lower, relation.field.name)] = CustomerLink(model, relation.field)
    return [links[key] for key in sorted(links)]


def child_counts(customer: Customer) -> dict[str, int]:
    """Rows pointing at ``customer``, per model (what a merge would move)."""
    counts: dict[str, int] = {}
    for link in customer_links():
        counts[link.label] = counts.get(link.label, 0) + link.rows(customer).count()
    return counts


# --- campaigns ----------------------------------------------------------------------------

# Filters of the customer list that cannot define an audience: free-text search would
# keep names, phone numbers or ID numbers in clear in the campaign row (DESIGN §3), and
# ordering does not select anyone.
AUDIENCE_EXCLUDED_FILTERS = frozenset({"q", "ordering"})
_NOT_REACHED = (Customer.Status.MERGED, Customer.Status.CLOSED)


def audience_filter_names() -> list[str]:
    """The customer-list filters a campaign audience may use, in the list's order."""
    return [name for name in CustomerFilter.base_filters if name not in AUDIENCE_EXCLUDED_FILTERS]


def campaign_audience(*, campaign: Campaign, user) -> QuerySet:
    """The customers ``user`` may see that match the campaign's filters (not merged/closed).

    A stored filter that no longer validates (say, a team that was deleted) selects
    nobody rather than silently widening the audience.
    """
    base = perms.visible_customers(user, Customer.objects.exclude(status__in=_NOT_REACHED))
    filterset = CustomerFilter(data=campaign.audience_filter or {}, queryset=base)
    if not filterset.is_valid():
        logger.warning("campaign %s: stored audience filter no longer valid", campaign.pk)
        return base.none()
    return filterset.qs


def live_marketing_consent() -> Exists:
    """On a customer queryset: the customer holds a live marketing consent."""
    return Exists(
        Consent.objects.filter(
            customer=OuterRef("pk"),
            purpose=Consent.Purpose.MARKETING,
            withdrawn_at__isnull=True,
        )
    )


def campaign_sending_audience(*, campaign: Campaign, viewer=None) -> QuerySet:
    """The audience the campaign sends to (its creator's view), narrowed to what
    ``viewer`` may see when someone else looks at it."""
    audience = campaign_audience(campaign=campaign, user=campaign.created_by)
    if viewer is not None and viewer.pk != campaign.created_by_id:
        audience = perms.visible_customers(viewer, audience)
    return audience


def campaign_preview(*, campaign: Campaign, user) -> dict[str, int]:
    """What sending now would do, counted in one SQL query.

    ``reachable``: live marketing consent and an e-mail address; ``no_consent`` and
    ``no_email`` are the customers that would be skipped for each reason (a customer
    without consent counts there whatever their e-mail).
    """
    audience = campaign_sending_audience(campaign=campaign, viewer=user).annotate(
        marketing=live_marketing_consent()
    )
    counts = audience.aggregate(
        audience=Count("pk"),
        # An empty e-mail is stored empty (only values are encrypted): no decryption here.
        reachable=Count("pk", filter=Q(marketing=True) & ~Q(email="")),
        no_consent=Count("pk", filter=Q(marketing=False)),
        no_email=Count("pk", filter=Q(marketing=True, email="")),
    )
    return {key: counts[key] or 0 for key in ("audience", "reachable", "no_consent", "no_email")}


def campaign_list(*, user) -> QuerySet:
    """The campaigns ``user`` may see, newest first, with send counts (one query)."""
    return (
        perms.visible_campaigns(user)
        .select_related("created_by")
        .annotate(
            logged_count=Count("sends"),
            sent_count=Count("sends", filter=Q(sends__result=CampaignSend.Result.SENT)),
        )
        .order_by("-created_at", "-pk")
    )


def campaign_send_list(*, campaign: Campaign, user) -> QuerySet:
    """The send log of a campaign, customers the user may see only, shown by code.

    Customer rows are not loaded (their personal fields would be decrypted for nothing):
    each send carries ``customer_code``.
    """
    visible = perms.visible_customers(user, Customer.objects.all())
    return (
        CampaignSend.objects.filter(campaign=campaign, customer__in=visible.values("pk"))
        .annotate(customer_code=models.F("customer__code"))
        .order_by("pk")
    )


def campaign_result_counts(sends: QuerySet) -> dict[str, int]:
    """Counts of a send log by result, one query."""
    counts = sends.aggregate(
        total=Count("pk"),
        **{result: Count("pk", filter=Q(result=result)) for result in CampaignSend.Result.values},
    )
    return {key: value or 0 for key, value in counts.items()}


def campaign_results(*, campaign: Campaign, user) -> dict[str, int]:
    """Counts of the send log by result (customers the user may see), one query."""
    return campaign_result_counts(campaign_send_list(campaign=campaign, user=user))


# --- import jobs --------------------------------------------------------------------------


def import_job_list(*, user) -> QuerySet:
    """The jobs a user may see: their own, or every job with ``view_all_customers``."""
    found = ImportJob.objects.select_related("created_by")
    if not user.is_authenticated or not user.has_perm("customers.view_importjob"):
        return found.none()
    if user.has_perm(perms.VIEW_ALL):
        return found
    return found.filter(created_by=user)


def import_job_get(*, user, job_id) -> ImportJob:
    """One job the user may see, else 404 (missing and forbidden alike)."""
    job = import_job_list(user=user).filter(pk=job_id).first() if is_object_id(job_id) else None
    if job is None:
        raise Http404("No such import.")
    return job


def import_job_progress(job: ImportJob) -> int:
    return import_jobs.progress_percent(job)


def import_error_rows(errors: list[dict]) -> list[dict]:
    """The stored errors as ``{"line", "column", "message"}`` in the active language."""
    return error_rows(errors)


# --- the daily workspace ------------------------------------------------------------------


def card_actors(customer: Customer) -> QuerySet:
    """Active users who may act on a card: its owner, the members and manager of the
    owner's current team, general managers, and service staff or colleagues holding a live
    grant on it. Never an auditor, a DPO or an administrator (they do not work cards)."""
    from crm import roles
    from crm.models import User
    from customers.models import CustomerUserObjectPermission

    granted = CustomerUserObjectPermission.objects.filter(
        perms.live_grants(), content_object=customer, permission__codename="view_customer"
    ).values("user_id")
    sales = [roles.SALES_REP, roles.SALES_MANAGER]
    working = Q(groups__name__in=sales)
    team = Q(pk=customer.owner_id)
    owner_team = (
        User.objects.filter(pk=customer.owner_id).values("team_id")
        if customer.owner_id
        else User.objects.none().values("team_id")
    )
    team |= working & Q(team__in=owner_team)
    team |= Q(managed_teams__in=owner_team)
    acting = (
        team
        | Q(groups__name=roles.GENERAL_MANAGER)
        | (Q(pk__in=granted) & Q(groups__name__in=[*sales, roles.SERVICE_STAFF]))
    )
    ids = User.objects.filter(acting, is_active=True).values("pk")
    return User.objects.filter(pk__in=ids).order_by("last_name", "first_name", "username")


def grantable_users(customer: Customer) -> QuerySet:
    """Whom a card may be shared with: active service staff and sales colleagues who do not
    already answer for it (never its owner, an auditor, a DPO or an administrator)."""
    from crm import roles
    from crm.models import User

    ids = (
        User.objects.filter(
            is_active=True,
            groups__name__in=[roles.SERVICE_STAFF, roles.SALES_REP, roles.SALES_MANAGER],
        )
        .exclude(pk=customer.owner_id)
        .values("pk")
    )
    return User.objects.filter(pk__in=ids).order_by("last_name", "first_name", "username")


def owner_candidates(actor) -> QuerySet:
    """Whom ``actor`` may make a card's owner: active sales reps and managers of the teams
    he manages now (and himself); for the general manager, of every team. Nobody for a
    user without ``customers.reassign_customer``."""
    from crm import roles
    from crm.models import User

    if not actor.has_perm(perms.REASSIGN):
        return User.objects.none()
    sales = User.objects.filter(
        is_active=True, groups__name__in=[roles.SALES_REP, roles.SALES_MANAGER]
    )
    if not actor.has_perm(perms.VIEW_ALL):
        sales = sales.filter(Q(team__manager=actor) | Q(pk=actor.pk))
    return (
        User.objects.filter(pk__in=sales.values("pk"))
        .select_related("team")
        .order_by("team__name", "last_name", "first_name", "username")
    )


def handover_sources(actor) -> QuerySet:
    """Whose customers ``actor`` may hand over: the owners he may choose among, plus
    inactive users of those teams (a rep who left is often deactivated first)."""
    from crm import roles
    from crm.models import User

    if not actor.has_perm(perms.REASSIGN):
        return User.objects.none()
    sales = User.objects.filter(groups__name__in=[roles.SALES_REP, roles.SALES_MANAGER])
    if not actor.has_perm(perms.VIEW_ALL):
        sales = sales.filter(team__manager=actor)
    return (
        User.objects.filter(pk__in=sales.values("pk"))
        .select_related("team")
        .order_by("team__name", "last_name", "first_name", "username")
    )


def saved_view_list(*, user) -> QuerySet:
    """The user's own named views of the customer list."""
    from customers.models import SavedView

    return SavedView.objects.filter(user=user, kind=SavedView.Kind.NAMED).order_by("name", "pk")


# --- dashboards by role (issue 13 item 1): each read is one aggregate query -------------


def _counts(queryset: QuerySet, field: str, labels: dict | None = None) -> list[dict]:
    """``[{"label", "count"}]`` of ``queryset`` grouped by ``field``, largest first."""
    rows = queryset.order_by().values(field).annotate(n=Count("pk")).order_by("-n", field)
    return [
        {
            "label": str((labels or {}).get(row[field], row[field] if row[field] else "—")),
            "count": row["n"],
        }
        for row in rows
    ]


def dashboard_rep(user, *, today: date | None = None) -> dict:
    """A rep's day: follow-ups due this week, overdue re-verifications, his visit plan,
    his recent interactions and his customers by stage (6 queries)."""
    today = today or timezone.localdate()
    week_end = today + timedelta(days=6 - today.weekday())
    mine = perms.visible_customers(user).filter(owner=user)
    follow_ups = list(
        Interaction.objects.filter(
            customer__in=mine.values("pk"),
            follow_up_done=False,
            next_follow_up__isnull=False,
            next_follow_up__lte=week_end,
        )
        .select_related("customer")
        .order_by("next_follow_up", "pk")[:20]
    )
    stages = {stage.pk: str(stage) for stage in ServiceStage.objects.all()}  # in the language
    return {
        "today": today,
        "week_end": week_end,
        "follow_ups": follow_ups,
        "overdue": list(reverification_due_for(user, limit=10)),
        "visits": list(
            VisitPlanEntry.objects.filter(
                _still_visible(user), rep=user, status=VisitPlanEntry.Status.ACTIVE
            )
            .select_related("customer")
            .order_by("next_visit_on", "pk")[:10]
        ),
        "recent": list(
            Interaction.objects.filter(user=user, customer__in=mine.values("pk"))
            .select_related("customer")
            .order_by("-occurred_at", "-pk")[:10]
        ),
        "by_stage": _counts(mine.exclude(status=Customer.Status.MERGED), "stage_id", stages),
    }


def dashboard_team(manager, *, today: date | None = None) -> dict:
    """Per rep of the teams ``manager`` runs: customers, follow-ups due this week, overdue
    re-verifications, interactions in the last 7 days (4 queries)."""
    from crm.models import User

    today = today or timezone.localdate()
    week_end = today + timedelta(days=6 - today.weekday())
    members = list(
        User.objects.filter(team__manager=manager, is_active=True).order_by(
            "last_name", "first_name", "username"
        )
    )
    ids = [m.pk for m in members]
    live = Customer.objects.filter(owner_id__in=ids).exclude(status=Customer.Status.MERGED)
    customers = dict(
        live.order_by().values("owner_id").annotate(n=Count("pk")).values_list("owner_id", "n")
    )
    overdue = dict(
        reverification_overdue(today=today)
        .filter(owner_id__in=ids)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    interactions = Interaction.objects.filter(customer__owner_id__in=ids).order_by()
    activity = dict(
        interactions.filter(occurred_at__gte=timezone.now() - timedelta(days=7), user_id__in=ids)
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "n")
    )
    due = dict(
        interactions.filter(
            follow_up_done=False, next_follow_up__isnull=False, next_follow_up__lte=week_end
        )
        .values("customer__owner_id")
        .annotate(n=Count("pk"))
        .values_list("customer__owner_id", "n")
    )
    rows = [
        {
            "user": member,
            "customers": customers.get(member.pk, 0),
            "follow_ups": due.get(member.pk, 0),
            "overdue": overdue.get(member.pk, 0),
            "interactions": activity.get(member.pk, 0),
        }
        for member in members
    ]
    totals = {
        key: sum(row[key] for row in rows)
        for key in ("customers", "follow_ups", "overdue", "interactions")
    }
    return {"rows": rows, "totals": totals}


def _month_starts(today: date, months: int) -> list[date]:
    first = today.replace(day=1)
    starts = []
    for _i in range(months):
        starts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(starts))


def dashboard_company(*, today: date | None = None) -> dict:
    """Company figures for the general manager (6 queries): customers by status, tier,
    business type and team; new customers per month (12); interactions per week (8)."""
    from django.db.models.functions import TruncDate

    today = today or timezone.localdate()
    live = Customer.objects.exclude(status=Customer.Status.MERGED)
    tiers = {t.pk: str(t) for t in Tier.objects.all()}
    types = {b.pk: str(b) for b in BusinessType.objects.all()}
    by_team = _counts(live, "owner__team__name")
    months = _month_starts(today, 12)
    created = dict.fromkeys(months, 0)
    since = timezone.make_aware(datetime.combine(months[0], datetime.min.time()))
    for day, n in (
        live.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    ):
        created[day.replace(day=1)] = created.get(day.replace(day=1), 0) + n
    week_start = today - timedelta(days=today.weekday())
    weeks = [week_start - timedelta(weeks=i) for i in range(7, -1, -1)]
    per_week = dict.fromkeys(weeks, 0)
    since = timezone.make_aware(datetime.combine(weeks[0], datetime.min.time()))
    for day, n in (
        Interaction.objects.filter(occurred_at__gte=since)
        .annotate(day=TruncDate("occurred_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    ):
        monday = day - timedelta(days=day.weekday())
        per_week[monday] = per_week.get(monday, 0) + n
    return {
        "by_status": _counts(live, "status", dict(Customer.Status.choices)),
        "by_tier": _counts(live, "tier_id", tiers),
        "by_business_type": _counts(live, "business_type_id", types),
        "by_team": by_team,
        # Labels in the reader's language ("November 2026", "2026年11月"; a week by its Monday).
        "new_per_month": [
            {"label": date_format(m, "YEAR_MONTH_FORMAT"), "count": created[m]} for m in months
        ],
        "interactions_per_week": [
            {"label": date_format(w, "MONTH_DAY_FORMAT"), "count": per_week[w]} for w in weeks
        ],
    }


# The audit actions the privacy dashboard counts per day.
WATCHED_ACTIONS = {
    "customers.revealed": "reveals",
    "customers.exported": "exports",
    "access.denied": "denials",
}


def dashboard_privacy(*, today: date | None = None, days: int = 14, threshold: int = 20) -> dict:
    """Reveals, exports and denials per day (last ``days``) and unusual activity: users
    with more than ``threshold`` reveals or exports in the last 24 hours (2 queries)."""
    from django.db.models.functions import TruncDate

    from audit.models import AuditEvent
    from crm.models import User

    today = today or timezone.localdate()
    day_list = [today - timedelta(days=i) for i in range(days - 1, -1, -1)]
    since = timezone.make_aware(datetime.combine(day_list[0], datetime.min.time()))
    table = {day: dict.fromkeys(WATCHED_ACTIONS.values(), 0) for day in day_list}
    for day, action, n in (
        AuditEvent.objects.filter(occurred_at__gte=since, action__in=list(WATCHED_ACTIONS))
        .annotate(day=TruncDate("occurred_at"))
        .order_by()
        .values("day", "action")
        .annotate(n=Count("pk"))
        .values_list("day", "action", "n")
    ):
        if day in table:
            table[day][WATCHED_ACTIONS[action]] += n
    heavy = (
        AuditEvent.objects.filter(
            occurred_at__gte=timezone.now() - timedelta(hours=24),
            action__in=["customers.revealed", "customers.exported"],
            actor__isnull=False,
        )
        .order_by()
        .values("actor_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=threshold)
    )
    counts = dict(heavy.values_list("actor_id", "n"))
    users = User.objects.in_bulk(list(counts)) if counts else {}
    unusual = sorted(
        ({"user": users[pk], "count": n} for pk, n in counts.items() if pk in users),
        key=lambda row: (-row["count"], row["user"].username),
    )
    return {
        "days": [
            {"label": date_format(day, "MONTH_DAY_FORMAT"), "date": day.isoformat(), **table[day]}
            for day in day_list
        ],
        "unusual": unusual,
        "threshold": threshold,
    }


# --- the follow-up calendar (issue 13 item 4) ---------------------------------------------


def _calendar_scope(user, *, owner_id: int | None, team_id: int | None):
    """The calendar's two sources on the cards ``user`` may see (merged ones aside), narrowed
    to a card owner (a follow-up) or visiting rep (a visit), or to their team: the follow-ups
    not done and the active visit plan entries, not yet limited to dates."""
    visible = perms.visible_customers(
        user, Customer.objects.exclude(status=Customer.Status.MERGED)
    ).values("pk")
    follow_ups = Interaction.objects.filter(customer__in=visible, follow_up_done=False)
    visits = VisitPlanEntry.objects.filter(
        customer__in=visible, status=VisitPlanEntry.Status.ACTIVE
    )
    if owner_id is not None:
        follow_ups = follow_ups.filter(customer__owner_id=owner_id)
        visits = visits.filter(rep_id=owner_id)
    if team_id is not None:
        follow_ups = follow_ups.filter(customer__owner__team_id=team_id)
        visits = visits.filter(rep__team_id=team_id)
    return follow_ups, visits


def follow_up_calendar(
    user,
    *,
    start: date,
    end: date,
    today: date | None = None,
    owner_id: int | None = None,
    team_id: int | None = None,
    per_day: int = 3,
    names: bool = True,
) -> dict:
    """Follow-ups due (not done) and planned visits (active plan entries) on the cards
    ``user`` may see, from ``start`` to ``end`` inclusive: ``{day: (entries, hidden)}``.

    The same sources as the dashboard (``Interaction.next_follow_up``,
    ``VisitPlanEntry.next_visit_on``). At most ``per_day`` entries a day of each kind are
    fetched — one query per kind, each row carrying its day's total (window functions) —
    and every card's key is unwrapped in one query (``names``, to show the cards' names): a
    fixed number of queries, bounded rows.
    ``owner_id``/``team_id`` narrow to a card owner (a follow-up) or visiting rep (a visit),
    or to their team.
    """
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    from crm.encryption import data_keys_preload
    from customers.calendar import Entry

    today = today or timezone.localdate()

    def capped(queryset, day_field, order):
        return queryset.annotate(
            day_rank=Window(RowNumber(), partition_by=[F(day_field)], order_by=order),
            day_total=Window(Count("pk"), partition_by=[F(day_field)]),
        ).filter(day_rank__lte=per_day)

    follow_ups, visits = _calendar_scope(user, owner_id=owner_id, team_id=team_id)
    follow_ups = follow_ups.filter(next_follow_up__gte=start, next_follow_up__lte=end)
    visits = visits.filter(next_visit_on__gte=start, next_visit_on__lte=end)
    follow_ups = list(
        capped(follow_ups, "next_follow_up", [F("customer__code").asc(), F("pk").asc()])
        .select_related("customer", "customer__owner")
        .order_by("next_follow_up", "day_rank")
    )
    visits = list(
        capped(visits, "next_visit_on", [F("customer__code").asc(), F("pk").asc()])
        .select_related("customer", "rep")
        .order_by("next_visit_on", "day_rank")
    )
    if names:
        data_keys_preload({row.customer.data_key_id for row in [*follow_ups, *visits]})
    days: dict[date, tuple[list, int]] = {}
    totals: dict[tuple[str, date], int] = {}
    entries: dict[date, list] = {}
    for row in follow_ups:
        day = row.next_follow_up
        totals[("follow_up", day)] = row.day_total
        entries.setdefault(day, []).append(
            Entry("follow_up", day, row.customer, row.customer.owner, day < today, row.pk)
        )
    for row in visits:
        day = row.next_visit_on
        totals[("visit", day)] = row.day_total
        entries.setdefault(day, []).append(
            # Still on the plan on a past day: recording it from the plan moves its date on.
            Entry("visit", day, row.customer, row.rep, False, row.pk, day < today)
        )
    for day, found in entries.items():
        total = totals.get(("follow_up", day), 0) + totals.get(("visit", day), 0)
        shown = found[:per_day]
        days[day] = (shown, total - len(shown))
    return days


def follow_up_overdue_before(
    user,
    *,
    before: date,
    today: date,
    owner_id: int | None = None,
    team_id: int | None = None,
    limit: int = 20,
):
    """What was due before ``before`` (and before ``today``) and is still open, in the
    calendar's scope and pickers (``_calendar_scope``): the follow-ups not done and the
    active visit plan entries (a planned visit not recorded: recording it moves its date on).
    The ``limit`` oldest of both, and how many in all, and of each kind (``calendar.Overdue``).

    Two queries, one a kind, whatever their number: each row carries its kind's total (a
    window over the whole result, counted before the limit). Names are not unwrapped here:
    the page does it once with the range's (``calendar.names_preload``).
    """
    from django.db.models import Window

    from customers.calendar import Entry, Overdue

    before = min(before, today)
    follow_ups, visits = _calendar_scope(user, owner_id=owner_id, team_id=team_id)
    follow_up_rows = list(
        follow_ups.filter(next_follow_up__lt=before)
        .annotate(overdue_total=Window(Count("pk")))
        .select_related("customer", "customer__owner")
        .order_by("next_follow_up", "customer__code", "pk")[:limit]
    )
    visit_rows = list(
        visits.filter(next_visit_on__lt=before)
        .annotate(overdue_total=Window(Count("pk")))
        .select_related("customer", "rep")
        .order_by("next_visit_on", "customer__code", "pk")[:limit]
    )
    entries = [
        Entry("follow_up", row.next_follow_up, row.customer, row.customer.owner, True, row.pk)
        for row in follow_up_rows
    ] + [
        Entry("visit", row.next_visit_on, row.customer, row.rep, False, row.pk, True)
        for row in visit_rows
    ]
    # The oldest first, both kinds together (a follow-up before a visit on the same card).
    entries.sort(key=lambda entry: (entry.day, entry.customer.code, entry.kind, entry.record_id))
    follow_up_total = follow_up_rows[0].overdue_total if follow_up_rows else 0
    visit_total = visit_rows[0].overdue_total if visit_rows else 0
    return Overdue(
        entries=entries[:limit],
        total=follow_up_total + visit_total,
        follow_ups=follow_up_total,
        visits=visit_total,
    )
