"""A leaving user's complaints, for user administration (``crm.offboarding``).

What is still his work: the complaints assigned to him that are not closed. Resolved and
customer-informed ones count too (``services.OPEN_STATUSES``): he still tells the customer,
makes the return visit and closes them, and the card's grant stays his until he does. The
administrator who deactivates him sees how many and picks a successor among the active
users who handle complaints (service staff and service managers); he never sees the
complaints themselves. They move as an assignment does (``complaints_hand_over``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm import offboarding


def count(user) -> int:
    from complaints.services import complaints_held_by

    return complaints_held_by(user).count()


def successors():
    from complaints.selectors import assignable_users

    return assignable_users()


def transfer(*, actor, user, successor, reason: str) -> int:
    from complaints.services import complaints_hand_over

    return complaints_hand_over(
        actor=actor, from_user=user, to_user=successor, reason=reason or "user deactivated"
    )


offboarding.register(
    offboarding.Holding(
        key="complaints",
        label=_("Open complaints"),
        count=count,
        successors=successors,
        transfer=transfer,
        order=20,
    )
)
