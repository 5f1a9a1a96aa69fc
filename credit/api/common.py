"""What the credit API modules share: the permission class, money fields, the customer
named in a request body (404 when the caller may not see it)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated

from credit import permissions as perms
from customers import permissions as customer_perms


class CanViewCredit(IsAuthenticated):
    """Any method: the role reads credit (``credit.view_creditaccount``); the services
    decide the rest (403), the access helpers the customer (404)."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm(perms.VIEW_ACCOUNT)


def Money(**kwargs):  # noqa: N802 (a field factory)
    """An amount: a decimal string with two places, never a float."""
    kwargs.setdefault("max_digits", 16)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("coerce_to_string", True)
    return serializers.DecimalField(**kwargs)


class CurrencyField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("default", "")
        super().__init__(**kwargs)


def customer_of(request, customer_id, action: str = "view"):
    """The customer a request body names; 404 (audited) when the caller may not see it."""
    return customer_perms.access_customer(request.user, customer_id, action=action)


class RowsListMixin:
    """A paged list of the credit rows of the customers the caller sees."""

    model = None
    view_perm = ""
    related = ("customer",)

    def get_queryset(self):
        from credit.selectors import visible

        return visible(self.request.user, self.model, self.view_perm).select_related(*self.related)
