"""Filter sets of the credit lists (API; the same sets serve any list page)."""

from __future__ import annotations

import django_filters

from credit.models import CreditLimit, Invoice, Note, Order, Payment


class InvoiceFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    open = django_filters.BooleanFilter(method="filter_open", label="open")
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = Invoice
        fields = ["customer", "currency"]

    def filter_open(self, queryset, name, value):
        from django.db.models import F

        if value is None:
            return queryset
        open_rows = queryset.filter(written_off_at__isnull=True, paid_amount__lt=F("amount"))
        return open_rows if value else queryset.exclude(pk__in=open_rows.values("pk"))


class PaymentFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = Payment
        fields = ["customer", "currency"]


class NoteFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = Note
        fields = ["customer", "status", "kind"]


class OrderFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = Order
        fields = ["customer", "status"]


class LimitFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = CreditLimit
        fields = ["customer", "status"]
