"""One filter set for the complaint board and the API list."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from complaints.models import Category, Channel, Complaint, Severity
from complaints.selectors import UNASSIGNED, assignable_users, overdue_q
from customers.filters import UserChoiceFilter


class _AssigneeField(UserChoiceFilter.field_class):
    """A user who handles complaints, by his name, or "Unassigned". Anything else (a login
    or a name typed into the address, a colleague who no longer handles complaints) is no
    filter at all: the board and the API list everything, they never fail on it."""

    def clean(self, value):
        try:
            return super().clean(value)
        except ValidationError:
            return None


class AssigneeFilter(UserChoiceFilter):
    field_class = _AssigneeField


class ComplaintFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Complaint.Status.choices)
    assignee = AssigneeFilter(
        label=_("Assignee"),
        queryset=lambda request: assignable_users(),
        null_label=_("Unassigned"),
        null_value=UNASSIGNED,
        method="filter_assignee",
    )
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices)
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.all(),
        to_field_name="code",
    )
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Complaint.Kind.choices)
    overdue = django_filters.BooleanFilter(
        label=_("Overdue"),
        method="filter_overdue",
        # Not the "Unknown" of a yes/no/unknown select: no choice means no filter.
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]),
    )

    class Meta:
        model = Complaint
        fields = ["status", "assignee", "severity", "category", "channel", "kind", "overdue"]

    def filter_assignee(self, queryset, name, value):
        if value == UNASSIGNED:
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee=value)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())
