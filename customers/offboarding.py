"""A leaving user's customer cards, for user administration (``crm.offboarding``).

The administrator who deactivates a user sees how many live cards he owns and picks a
successor among the active sales reps and managers; he never sees the cards themselves.
The cards move in batches, as a manager's hand-over does (``customers_book_transfer``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm import offboarding, roles


def _live_cards(user):
    from customers.models import Customer

    return Customer.objects.filter(owner=user).exclude(status=Customer.Status.MERGED)


def count(user) -> int:
    return _live_cards(user).count()


def successors():
    from crm.models import User

    return User.objects.filter(
        is_active=True, groups__name__in=[roles.SALES_REP, roles.SALES_MANAGER]
    )


def transfer(*, actor, user, successor, reason: str) -> int:
    from customers.services.workspace import customers_book_transfer

    return customers_book_transfer(
        actor=actor, from_user=user, to_user=successor, reason=reason or "user deactivated"
    )


offboarding.register(
    offboarding.Holding(
        key="customers",
        label=_("Customer cards"),
        count=count,
        successors=successors,
        transfer=transfer,
        order=10,
    )
)
