"""What a user holds when they leave, and how it passes to a successor (issue 13 item 6).

``crm`` imports no app, yet deactivating a user must hand over what they are responsible
for in the apps (their customer cards, say). Each app registers a ``Holding`` from its
``AppConfig.ready()``: a counter of what the user holds, the users who may take it over,
and a transfer function. ``crm.services.user_deactivate`` asks every holding: when one
counts anything, a successor is required, and every holding moves its share to them in
the same transaction as the deactivation.

The teams a user manages are ``crm``'s own and no holding: they narrow the choice of
successor to the sales managers (who take the teams over), yet a user who manages teams
and holds nothing may leave without a successor, the teams then without a manager.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm import roles
from crm.templatetags.formatting import labelled


@dataclass(frozen=True)
class Holding:
    key: str  # "customers"
    label: object  # translatable: "Customer cards"
    count: Callable[..., int]  # count(user) -> what they hold now
    successors: Callable[[], QuerySet]  # users who may take it over (active ones)
    # transfer(actor=, user=, successor=, reason=) -> how many moved; the caller has checked
    # that actor may deactivate the user and that the successor is one of ``successors()``.
    transfer: Callable[..., int]
    order: int = 100
    # describe(count) -> "3 customer cards" (translated); "Customer cards: 3" without it.
    describe: Callable[[int], str] | None = None
    taken_by: object = ""  # translatable: who may take it over, "a sales rep or ..."


_holdings: dict[str, Holding] = {}


def register(holding: Holding) -> None:
    _holdings[holding.key] = holding


def holdings() -> list[Holding]:
    return sorted(_holdings.values(), key=lambda h: (h.order, h.key))


def counts_for(user) -> list[tuple[Holding, int]]:
    """Each holding with what ``user`` holds of it (one query per holding)."""
    return [(holding, holding.count(user)) for holding in holdings()]


def managed_team_names(user) -> list[str]:
    """The names of the teams ``user`` manages, which a sales manager successor takes."""
    return list(user.managed_teams.order_by("name").values_list("name", flat=True))


def team_successors() -> QuerySet:
    """Who may take over a leaving manager's teams: the active sales managers."""
    from crm.models import User

    return User.objects.filter(is_active=True, groups__name=roles.SALES_MANAGER)


def successor_candidates(
    user, counts: list[tuple[Holding, int]] | None = None, team_names: list[str] | None = None
) -> QuerySet:
    """Who may take over what ``user`` holds: in every holding they hold something of, and
    a sales manager when they manage teams; never ``user``. Every active user when they
    hold nothing and manage no team (no successor is needed then)."""
    from crm.models import User

    if counts is None:
        counts = counts_for(user)
    if team_names is None:
        team_names = managed_team_names(user)
    candidates = User.objects.filter(is_active=True)
    for holding, count in counts:
        if count:
            candidates = candidates.filter(pk__in=holding.successors().values("pk"))
    if team_names:
        candidates = candidates.filter(pk__in=team_successors().values("pk"))
    return (
        candidates.exclude(pk=user.pk)
        .select_related("team")
        .order_by("team__name", "last_name", "first_name", "username")
    )


def hand_over_lines(counts: list[tuple[Holding, int]], team_names: list[str]) -> list[str]:
    """What the user holds and who may take each over, translated:
    ``["4 open complaints: service staff or the service manager", …]``."""
    lines = []
    for holding, count in counts:
        if not count:
            continue
        what = holding.describe(count) if holding.describe else labelled(holding.label, count)
        lines.append(labelled(what, holding.taken_by))
    if team_names:
        what = ngettext("the team %(teams)s", "the teams %(teams)s", len(team_names)) % {
            "teams": ", ".join(team_names)
        }
        lines.append(labelled(what, _("a sales manager")))
    return lines


def hand_over(*, actor, user, successor, reason: str, counts) -> dict[str, int]:
    """Move everything ``user`` holds to ``successor``; ``{holding key: count moved}``."""
    moved = {}
    for holding, count in counts:
        if count:
            moved[holding.key] = holding.transfer(
                actor=actor, user=user, successor=successor, reason=reason
            )
    return moved
