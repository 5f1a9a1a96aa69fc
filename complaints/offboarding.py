"""A leaving user's complaints, for user administration (``crm.offboarding``).

What is still their work: the complaints assigned to them that are not closed. Resolved
and customer-informed ones count too (``services.OPEN_STATUSES``): they still tell the
customer, make the return visit and close them, and the card's grant stays theirs until
then. The administrator who deactivates them sees how many and picks a successor among the
active users who handle complaints (service staff and service managers); the administrator
never sees the complaints themselves. They move as an assignment does
(``complaints_hand_over``), with the reason the administrator gave or none (no stored
sentence: it would show untranslated).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm import offboarding


def count(user) -> int:
    from complaints.services import complaints_held_by

    return complaints_held_by(user).count()


def successors():
    from complaints.selectors import assignable_users

    return assignable_users()


def describe(count: int) -> str:
    return ngettext("%(count)d open complaint", "%(count)d open complaints", count) % {
        "count": count
    }


def transfer(*, actor, user, successor, reason: str) -> int:
    from complaints.services import complaints_hand_over

    return complaints_hand_over(actor=actor, from_user=user, to_user=successor, reason=reason)


offboarding.register(
    offboarding.Holding(
        key="complaints",
        label=_("Open complaints"),
        count=count,
        successors=successors,
        transfer=transfer,
        order=20,
        describe=describe,
        taken_by=_("service staff or the service manager"),
    )
)
