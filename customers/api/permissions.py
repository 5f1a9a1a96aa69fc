"""DRF permission classes of the customers API (what a role may do at all).

Which cards a caller may see or change is decided per card by
``customers.permissions.access_customer`` and the services: a card the caller may not see
is 404, whatever the endpoint.
"""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated

from customers import permissions as perms


class CanViewCustomers(IsAuthenticated):
    """Any method: the role reads customers (``customers.view_customer``).

    For the endpoints on one card's records and actions; the access helper and the service
    then decide on the card itself.
    """

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm(perms.VIEW)
