"""Who may see and act on which customer (DESIGN §4).

A customer is visible to its owner, to the manager of the owner's *current* team (derived
from the owner in SQL, so a rep's move to another team moves his customers' oversight with
him), to holders of ``customers.view_all_customers`` (general manager, data protection
officer, auditor) and to anyone granted it explicitly through django-guardian's direct
foreign-key tables (e.g. service staff on an open complaint) while the grant has not
expired. Child records follow their customer. Everything here filters in SQL.

Seeing personal data in clear (reveal, clear export) belongs only to the *entitled*: the
owner, the owner's team manager, the general manager and the DPO (DESIGN §3); a grant
never gives it.

``access_customer`` is the one way adapters fetch a customer by id: missing and forbidden
look the same (404), and a forbidden attempt is recorded in the audit trail.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.db.models import BooleanField, Expression, F, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import events as audit_events
from audit.services import record_event
from crm.exceptions import ForbiddenAction, HiddenObject
from crm.ids import is_object_id
from crm.models import User
from customers.models import (
    Campaign,
    Customer,
    CustomerGroupObjectPermission,
    CustomerUserObjectPermission,
)

VIEW = "customers.view_customer"
CHANGE = "customers.change_customer"
REVEAL = "customers.reveal_customer"
VIEW_ALL = "customers.view_all_customers"
MERGE = "customers.merge_customer"
EXPORT = "customers.export_customer"
EXPORT_CLEAR = "customers.export_clear_customer"
IMPORT = "customers.import_customer"
REASSIGN = "customers.reassign_customer"
CAMPAIGN_VIEW = "customers.view_campaign"
CAMPAIGN_ADD = "customers.add_campaign"
CAMPAIGN_CHANGE = "customers.change_campaign"
CAMPAIGN_SENDS_VIEW = "customers.view_campaignsend"


def live_grants() -> Q:
    """Grants that have not expired (a lookup on either grant table)."""
    return Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())


class InIds(Expression):
    """``column IN (subquery)`` that PostgreSQL answers from an index.

    On PostgreSQL it is written ``column = ANY(ARRAY(subquery))``: the subquery runs once
    (an InitPlan) and its ids probe the column's index, so several of these joined by
    ``OR`` become a ``BitmapOr`` of index scans instead of a filter evaluated on every row.
    Elsewhere a plain ``IN (subquery)``.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, column, queryset):
        super().__init__()
        self.column = F(column) if isinstance(column, str) else column
        self.subquery = Subquery(queryset)

    def get_source_expressions(self):
        return [self.column, self.subquery]

    def set_source_expressions(self, exprs):
        self.column, self.subquery = exprs

    def as_sql(self, compiler, connection):
        column_sql, column_params = compiler.compile(self.column)
        subquery_sql, subquery_params = compiler.compile(self.subquery)
        return f"{column_sql} IN {subquery_sql}", (*column_params, *subquery_params)

    def as_postgresql(self, compiler, connection):
        column_sql, column_params = compiler.compile(self.column)
        subquery_sql, subquery_params = compiler.compile(self.subquery)
        return f"{column_sql} = ANY(ARRAY{subquery_sql})", (*column_params, *subquery_params)


class InlinedIds(InIds):
    """``column IN (1, 2, 3)``: the subquery's ids read when the statement is compiled (one
    small query, once per queryset and its clones) and written as literals, so that the
    planner estimates the rows from the column's statistics."""

    def __init__(self, column, queryset):
        super().__init__(column, queryset)
        self.queryset = queryset
        self._read = {}  # shared by the copies Django makes of this expression

    def _ids(self) -> list:
        if "ids" not in self._read:
            self._read["ids"] = list(self.queryset.values_list("pk", flat=True))
        return self._read["ids"]

    def as_sql(self, compiler, connection):
        ids = self._ids()
        if not ids:
            raise EmptyResultSet
        column_sql, column_params = compiler.compile(self.column)
        marks = ", ".join(["%s"] * len(ids))
        return f"{column_sql} IN ({marks})", (*column_params, *ids)

    as_postgresql = as_sql


def _granted(user) -> Q:
    """Customers granted to ``user`` or to one of his groups, live grants only."""
    user_grants = CustomerUserObjectPermission.objects.filter(
        live_grants(), user=user, permission__codename="view_customer"
    ).values("content_object_id")
    group_grants = CustomerGroupObjectPermission.objects.filter(
        live_grants(),
        group__in=user.groups.all(),
        permission__codename="view_customer",
    ).values("content_object_id")
    return Q(InIds("pk", user_grants)) | Q(InIds("pk", group_grants))


def _responsible_owners(user) -> QuerySet:
    """Users whose cards ``user`` is responsible for: himself and the members of the teams
    he manages now (the owner's *current* team, never the stale card team)."""
    return User.objects.filter(Q(pk=user.pk) | Q(team__manager=user)).values("pk")


def _responsible(user, *, owners_inline: bool = False) -> Q:
    """The owner and the manager of the owner's current team (never the stale card team)."""
    owners = InlinedIds if owners_inline else InIds
    return Q(owners("owner_id", _responsible_owners(user)))


def visible_customers(
    user, queryset: QuerySet | None = None, *, owners_inline: bool = False
) -> QuerySet:
    """The customers ``user`` may see, as a queryset filtered in SQL.

    Two separately indexable parts: ``owner_id`` among the owners the user answers for
    (index on ``owner_id``) or ``id`` among the live grants (primary key); each subquery
    runs once per statement, never per row.

    ``owners_inline``: read those owners first (one small query) and write them into the
    statement as literals, so that PostgreSQL's row estimate comes from the column's
    statistics (a rep's two thousand cards, not a guess of twenty thousand): a list page
    and its count, run on the same filter, then get the right plan for a deep page.
    """
    queryset = Customer.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.has_perm(VIEW):
        return queryset.none()
    if user.has_perm(VIEW_ALL):
        return queryset
    return queryset.filter(_responsible(user, owners_inline=owners_inline) | _granted(user))


def revealable_customers(user, queryset: QuerySet | None = None) -> QuerySet:
    """The customers whose personal data ``user`` may see in clear, filtered in SQL.

    The owner, the owner's team manager, and holders of ``view_all_customers`` who also hold
    ``reveal_customer`` (general manager, DPO); a grant never counts.
    """
    queryset = visible_customers(user, queryset)
    if not user.has_perm(REVEAL):
        return queryset.none()
    if user.has_perm(VIEW_ALL):
        return queryset
    return queryset.filter(_responsible(user))


def reassignable_customers(user, queryset: QuerySet | None = None) -> QuerySet:
    """The customers whose owner ``user`` may change (issue 13 item 5), in SQL.

    Holders of ``customers.reassign_customer``: a sales manager for the cards owned by
    the members of the teams he manages now (and his own), the general manager for every
    card. A grant never counts; a rep holds no such permission.
    """
    queryset = visible_customers(user, queryset)
    if not user.has_perm(REASSIGN) or not user.has_perm(CHANGE):
        return queryset.none()
    if user.has_perm(VIEW_ALL):
        return queryset
    return queryset.filter(_responsible(user))


def can_reassign(user, customer: Customer) -> bool:
    return reassignable_customers(user, Customer.objects.filter(pk=customer.pk)).exists()


def can_see(user, customer: Customer) -> bool:
    return visible_customers(user, Customer.objects.filter(pk=customer.pk)).exists()


def can_change(user, customer: Customer) -> bool:
    """Owners, their team manager and the general manager change a card; grants only read."""
    if not user.has_perm(CHANGE):
        return False
    if user.has_perm(VIEW_ALL):  # the general manager (other overseers cannot change)
        return True
    if customer.owner_id == user.pk:
        return True
    return Customer.objects.filter(pk=customer.pk, owner__team__manager=user).exists()


def can_reveal(user, customer: Customer) -> bool:
    """Entitled to see this customer's personal data in clear (a grant never is)."""
    return revealable_customers(user, Customer.objects.filter(pk=customer.pk)).exists()


def can_export_clear(user) -> bool:
    return user.has_perm(EXPORT) and user.has_perm(EXPORT_CLEAR) and user.has_perm(REVEAL)


def can_grant(user, customer: Customer) -> bool:
    """Who may share a card and see or revoke its grants: those who may change it."""
    return can_change(user, customer)


def can_see_grants(user, customer: Customer) -> bool:
    """Who holds grants on a card: for those who may grant, and for the overseers."""
    return can_grant(user, customer) or user.has_perm(VIEW_ALL)


def access_customer(user, customer_id, *, action: str = "view") -> Customer:
    """Fetch a customer the user may see (``action="change"``: may change).

    Invisible or missing: 404 (``HiddenObject``); visible but not changeable: 403.

    Callers still check the model permission of what they do with it.
    """
    customer = (
        visible_customers(user, Customer.objects.select_related("team", "owner__team"))
        .filter(pk=customer_id)
        .first()
        if is_object_id(customer_id)
        else None
    )
    if customer is not None and (action != "change" or can_change(user, customer)):
        return customer
    denial = {
        "user": user,
        "content_type": _customer_type(),
        "object_id": customer_id,
        "action": action,
    }
    denied = HiddenObject(**denial) if customer is None else ForbiddenAction(**denial)
    denied.record()  # now, or once the transaction it was raised in has ended
    raise denied


def refuse(user, customer: Customer, action: str, message=None) -> ForbiddenAction:
    """An audited 403 about a customer the user sees (raise it)."""
    return ForbiddenAction(
        message,
        user=user,
        content_type=_customer_type(),
        object_id=customer.pk,
        action=action,
    )


def refuse_export_clear(user) -> ForbiddenAction:
    """An audited 403 for a clear export asked for without the right to it (raise it)."""
    return ForbiddenAction(
        _("You are not allowed to export customers' personal data in clear."),
        user=user,
        content_type=_customer_type(),
        object_id="",
        action="export_clear",
    )


# --- campaigns ----------------------------------------------------------------------------


def visible_campaigns(user) -> QuerySet:
    """Campaigns a user may look at: their own, or all for those who see every customer."""
    if not user.is_authenticated or not user.has_perm(CAMPAIGN_VIEW):
        return Campaign.objects.none()
    if user.has_perm(VIEW_ALL):
        return Campaign.objects.all()
    return Campaign.objects.filter(created_by=user)


def access_campaign(user, campaign_id) -> Campaign:
    """Fetch a campaign the user may see, else 404 (missing and forbidden alike, audited).

    Callers still check the model permission of what they do with it.
    """
    campaign = (
        visible_campaigns(user).select_related("created_by").filter(pk=campaign_id).first()
        if is_object_id(campaign_id)
        else None
    )
    if campaign is None:
        if user.is_authenticated and is_object_id(campaign_id):
            record_event(
                action=audit_events.ACCESS_DENIED,
                actor=user,
                content_type=ContentType.objects.get_for_model(Campaign),
                object_id=campaign_id,
                data={"action": "view"},
            )
        raise Http404("No such campaign.")
    return campaign


def _customer_type():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Customer)
