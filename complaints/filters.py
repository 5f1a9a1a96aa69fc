"""One filter set for the complaint board and the API list."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from complaints.models import Category, Channel, Complaint, Severity
from complaints.selectors import overdue_q


class ComplaintFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Complaint.Status.choices)
    assignee = django_filters.CharFilter(
        label=_("Assignee"), method="filter_assignee", help_text="A user id, or none."
    )
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices)
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.all(),
        to_field_name="code",
    )
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Complaint.Kind.choices)
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="filter_overdue")

    class Meta:
        model = Complaint
        fields = ["status", "assignee", "severity", "category", "channel", "kind", "overdue"]

    def filter_assignee(self, queryset, name, value):
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if str(value).isdigit() and str(value).isascii():
            return queryset.filter(assignee_id=int(value))
        return queryset.none()

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())
