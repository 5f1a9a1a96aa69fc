"""A leaving user's customer cards, for user administration (``crm.offboarding``).

The administrator who deactivates a user sees how many live cards they own and picks a
successor among the active sales reps and managers; the administrator never sees the cards
themselves. The cards move in batches, as a manager's hand-over does
(``customers_book_transfer``), with the reason the administrator gave or none: no sentence
is stored for them, it would show untranslated on the cards' timelines.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

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


def describe(count: int) -> str:
    return ngettext("%(count)d customer card", "%(count)d customer cards", count) % {"count": count}


def transfer(*, actor, user, successor, reason: str) -> int:
    from customers.services.workspace import customers_book_transfer

    return customers_book_transfer(actor=actor, from_user=user, to_user=successor, reason=reason)


offboarding.register(
    offboarding.Holding(
        key="customers",
        label=_("Customer cards"),
        count=count,
        successors=successors,
        transfer=transfer,
        order=10,
        describe=describe,
        taken_by=_("a sales rep or a sales manager"),
    )
)
