"""One filter set for the customer list page and the API (search included)."""

from __future__ import annotations

import re

import django_filters
import django_filters.fields
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.blind_index import bigrams
from crm.models import Team, User
from customers import search
from customers.models import (
    BusinessType,
    Consent,
    Customer,
    Interaction,
    ServiceStage,
    Tier,
)
from customers.validators import is_valid_mainland_mobile

# Search terms with this many digits (any script) are phone numbers or ID numbers.
IDENTIFIER_DIGITS = 7
# A customer code as the card service makes it (``C0000012``): business data, not personal.
GENERATED_CODE = re.compile(r"C[0-9]{7}", re.IGNORECASE)
# Rows per page the list offers (and a saved view may keep).
PAGE_SIZES = (10, 25, 50, 100)
# At most this many customers picked by hand (``ids``): a page holds 100 at most.
MAX_SELECTION = 500


class IdsFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """Customers picked by hand on the list (``ids=3,5,8``): the bulk actions' selection."""

    def filter(self, qs, value):
        if value and len(value) > MAX_SELECTION:
            return qs.none()
        return super().filter(qs, value)


def is_identifier_term(text: str) -> bool:
    """A search term shaped like a phone number, an e-mail address or an ID number.

    Such a term identifies a person on its own, so it must never travel in a URL (where
    proxies, browser history and server logs keep it): the list page posts its search and
    the API refuses it in ``GET ?q=`` (``POST /api/v1/customers/search/`` takes it). A name
    fragment or a generated customer code is not refused. Deliberately broader than the search's
    own test (``search_customers``): full-width digits or a ``+86`` prefix count too.
    """
    text = (text or "").strip()
    if GENERATED_CODE.fullmatch(text):
        return False
    return "@" in text or sum(ch.isdigit() for ch in text) >= IDENTIFIER_DIGITS


def filter_data(data) -> dict[str, str]:
    """The customer filters (search term included) of a posted form or JSON body.

    Keeps only the names ``CustomerFilter`` knows, with their last non-empty value, so a
    CSRF token, a page number or an export format never reaches the filters or the audit
    record of the filters used.
    """
    if data is None:
        return {}
    names = CustomerFilter.base_filters
    if hasattr(data, "lists"):
        items = ((key, values[-1] if values else "") for key, values in data.lists())
    else:
        items = data.items()
    return {
        key: str(value)
        for key, value in items
        if key in names and value not in ("", None) and not isinstance(value, (list, dict))
    }


def search_customers(queryset, text: str):
    """Exact phone, ID number or e-mail, else a name fragment or a customer code; four
    digits also find the phones ending with them, one character the surnames.

    The digests are looked up in the keys database first (``customers.search``); the
    customers are then fetched by id within ``queryset`` (which carries the scoping). A
    name fragment finds exactly the names that contain it: organisations by their clear
    name, individuals (two characters at least) by bigram tokens confirmed on the opened
    name (``search.customers_matching_name``).
    """
    text = (text or "").strip()
    if not text:
        return queryset
    if "@" in text:
        return queryset.filter(pk__in=search.customer_ids_matching(text, search.CUSTOMER_EMAIL))
    compact = re.sub(r"[\s-]", "", text)
    if is_valid_mainland_mobile(compact) or (compact.isdigit() and len(compact) >= 7):
        ids = search.customer_ids_matching(
            compact, search.CUSTOMER_PHONE, search.CONTACT_PHONE, search.DOCUMENT_NUMBER
        )
        return queryset.filter(pk__in=ids)
    if re.fullmatch(r"[0-9A-Za-z]{15,18}", compact):
        return queryset.filter(pk__in=search.customer_ids_matching(compact, search.DOCUMENT_NUMBER))
    if not bigrams(text):
        return queryset.none()
    found = search.customers_matching_name(queryset, text)
    if re.fullmatch(r"[0-9]{4}", compact):
        # 尾号: the last four digits of the customer's phone, or a name or code holding them.
        tails = search.customer_ids_with_phone_tail(compact)
        if tails:
            found = queryset.filter(Q(pk__in=found.values("pk")) | Q(pk__in=tails))
    return found


def overdue_follow_ups(today):
    """On a customer queryset (``OuterRef("pk")``): the card's follow-ups not done, due
    before ``today``."""
    return Interaction.objects.filter(
        customer=OuterRef("pk"), follow_up_done=False, next_follow_up__lt=today
    )


class _UserField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class UserChoiceFilter(django_filters.ModelChoiceFilter):
    """A user picked by his name (孙军), not his login."""

    field_class = _UserField


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="filter_search", help_text=_("Name, phone, ID number or e-mail")
    )
    owner = UserChoiceFilter(
        label=_("Owner"), queryset=User.objects.filter(is_active=True).order_by("username")
    )
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.all())
    stage = django_filters.ModelChoiceFilter(
        label=_("Service stage"), queryset=ServiceStage.objects.all()
    )
    business_type = django_filters.ModelChoiceFilter(
        label=_("Business type"), queryset=BusinessType.objects.all()
    )
    tier = django_filters.ModelChoiceFilter(label=_("Tier"), queryset=Tier.objects.all())
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Customer.Status.choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Customer.Kind.choices)
    reverification_overdue = django_filters.ChoiceFilter(
        label=_("Re-verification overdue"),
        choices=[("true", _("Overdue")), ("false", _("Up to date"))],
        method="filter_overdue",
    )
    follow_up = django_filters.ChoiceFilter(
        label=_("Follow-up"),
        choices=[("overdue", _("Overdue"))],
        method="filter_follow_up",
    )
    ids = IdsFilter(label=_("Selected customers"), field_name="pk", lookup_expr="in")
    consent = django_filters.ChoiceFilter(
        label=_("Live consent"), choices=Consent.Purpose.choices, method="filter_consent"
    )
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("code", "code"),
            ("created_at", "created"),
            ("updated_at", "updated"),
            ("reverification_due", "reverification_due"),
        ),
        # Descending labels of our own: django-filter's "%s (descending)" has no zh_Hans.
        field_labels={
            "code": _("Code"),
            "-code": _("Code (descending)"),
            "created_at": _("Created"),
            "-created": _("Created (descending)"),
            "updated_at": _("Last changed"),
            "-updated": _("Last changed (descending)"),
            "reverification_due": _("Re-verification due"),
            "-reverification_due": _("Re-verification due (descending)"),
        },
    )

    class Meta:
        model = Customer
        fields = ["q", "owner", "team", "stage", "business_type", "tier", "status", "kind"]

    def filter_search(self, queryset, name, value):
        return search_customers(queryset, value)

    def filter_overdue(self, queryset, name, value):
        if value not in ("true", "false"):
            return queryset
        today = timezone.localdate()
        if value == "true":
            return queryset.filter(reverification_due__lt=today)
        return queryset.filter(Q(reverification_due__gte=today) | Q(reverification_due=None))

    def filter_follow_up(self, queryset, name, value):
        """``overdue``: the card has an interaction whose follow-up is not done and was due
        before today (the calendar's overdue follow-ups, ``selectors.follow_up_overdue_before``).
        """
        if value != "overdue":
            return queryset
        return queryset.filter(Exists(overdue_follow_ups(timezone.localdate())))

    def filter_consent(self, queryset, name, value):
        return queryset.filter(
            Exists(
                Consent.objects.filter(
                    customer=OuterRef("pk"), purpose=value, withdrawn_at__isnull=True
                )
            )
        )
