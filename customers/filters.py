"""One filter set for the customer list page and the API (search included)."""

from __future__ import annotations

import re

import django_filters
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.blind_index import bigram_tokens, blind_index
from crm.models import Team, User
from customers.models import (
    BusinessType,
    Consent,
    Customer,
    CustomerNameToken,
    IdentityDocument,
    ServiceStage,
    Tier,
)
from customers.validators import is_valid_mainland_mobile


def search_customers(queryset, text: str):
    """Exact phone, ID number or e-mail, else a name fragment (bigram tokens)."""
    text = (text or "").strip()
    if not text:
        return queryset
    if "@" in text:
        return queryset.filter(email_index=blind_index("email", text))
    compact = re.sub(r"[\s-]", "", text)
    if is_valid_mainland_mobile(compact) or (compact.isdigit() and len(compact) >= 7):
        by_phone = Q(phone_index=blind_index("phone", compact))
        by_contact = Q(contacts__phone_index=blind_index("phone", compact))
        by_document = Q(
            Exists(
                IdentityDocument.objects.filter(
                    customer=OuterRef("pk"), number_index=blind_index("id_number", compact)
                )
            )
        )
        return queryset.filter(by_phone | by_document | by_contact).distinct()
    if re.fullmatch(r"[0-9A-Za-z]{15,18}", compact):
        return queryset.filter(
            Exists(
                IdentityDocument.objects.filter(
                    customer=OuterRef("pk"), number_index=blind_index("id_number", compact)
                )
            )
        )
    tokens = sorted(set(bigram_tokens(text)))
    if not tokens:
        return queryset.none()
    matching = (
        CustomerNameToken.objects.filter(token__in=tokens)
        .values("customer")
        .annotate(hits=Count("token", distinct=True))
        .filter(hits=len(tokens))
        .values("customer")
    )
    return queryset.filter(Q(pk__in=matching) | Q(code__iexact=text))


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="filter_search", help_text=_("Name, phone, ID number or e-mail")
    )
    owner = django_filters.ModelChoiceFilter(
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
        field_labels={
            "code": _("Code"),
            "created_at": _("Created"),
            "updated_at": _("Last changed"),
            "reverification_due": _("Re-verification due"),
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

    def filter_consent(self, queryset, name, value):
        return queryset.filter(
            Exists(
                Consent.objects.filter(
                    customer=OuterRef("pk"), purpose=value, withdrawn_at__isnull=True
                )
            )
        )
