"""What a user holds when he leaves, and how it passes to a successor (issue 13 item 6).

``crm`` imports no app, yet deactivating a user must hand over what he is responsible for
in the apps (his customer cards, say). Each app registers a ``Holding`` from its
``AppConfig.ready()``: a counter of what the user holds, the users who may take it over,
and a transfer function. ``crm.services.user_deactivate`` asks every holding: when one
counts anything, a successor is required, and every holding moves its share to him in the
same transaction as the deactivation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class Holding:
    key: str  # "customers"
    label: object  # translatable: "Customer cards"
    count: Callable[..., int]  # count(user) -> what he holds now
    successors: Callable[[], QuerySet]  # users who may take it over (active ones)
    # transfer(actor=, user=, successor=, reason=) -> how many moved; the caller has checked
    # that actor may deactivate the user and that the successor is one of ``successors()``.
    transfer: Callable[..., int]
    order: int = 100


_holdings: dict[str, Holding] = {}


def register(holding: Holding) -> None:
    _holdings[holding.key] = holding


def holdings() -> list[Holding]:
    return sorted(_holdings.values(), key=lambda h: (h.order, h.key))


def counts_for(user) -> list[tuple[Holding, int]]:
    """Each holding with what ``user`` holds of it (one query per holding)."""
    return [(holding, holding.count(user)) for holding in holdings()]


def successor_candidates(user, counts: list[tuple[Holding, int]] | None = None) -> QuerySet:
    """Who may take over what ``user`` holds: in every holding he holds something of, never
    ``user`` himself. Every active user when he holds nothing."""
    from crm.models import User

    if counts is None:
        counts = counts_for(user)
    candidates = User.objects.filter(is_active=True)
    for holding, count in counts:
        if count:
            candidates = candidates.filter(pk__in=holding.successors().values("pk"))
    return (
        candidates.exclude(pk=user.pk)
        .select_related("team")
        .order_by("team__name", "last_name", "first_name", "username")
    )


def hand_over(*, actor, user, successor, reason: str, counts) -> dict[str, int]:
    """Move everything ``user`` holds to ``successor``; ``{holding key: count moved}``."""
    moved = {}
    for holding, count in counts:
        if count:
            moved[holding.key] = holding.transfer(
                actor=actor, user=user, successor=successor, reason=reason
            )
    return moved
