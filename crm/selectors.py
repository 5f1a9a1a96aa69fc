"""Reads of users and teams with rules (user administration, issue 13 item 6).

Callers check ``crm.change_user`` first: every role may look users up by id
(``crm.view_user``), only administrators list and manage them.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q, QuerySet

from crm import roles
from crm.models import Team, User


def _with_roles(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("team").prefetch_related(
        Prefetch("groups", queryset=Group.objects.only("id", "name").order_by("name"))
    )


def user_list(
    *,
    search: str = "",
    role: str = "",
    team: Team | int | None = None,
    active: bool | None = None,
) -> QuerySet:
    """Users by username, with team and roles loaded: two queries a page, whatever its size.

    ``search`` matches username, first or last name (every word somewhere); ``role`` is a
    role code; ``active`` None means both.
    """
    queryset = User.objects.all()
    for word in (search or "").split()[:5]:
        queryset = queryset.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
        )
    if role:
        queryset = queryset.filter(groups__name=role)
    if team:
        queryset = queryset.filter(team=team)
    if active is not None:
        queryset = queryset.filter(is_active=active)
    return _with_roles(queryset).order_by("username", "pk")


def user_get(*, pk: int) -> User | None:
    return _with_roles(User.objects.filter(pk=pk)).first()


def role_codes(user: User) -> list[str]:
    """The user's role codes, from the prefetched groups (no query)."""
    return sorted(group.name for group in user.groups.all())


def role_labels(user: User) -> list[str]:
    """The user's roles as translated names, never group codes (from prefetched groups)."""
    return [roles.label(code) for code in role_codes(user)]


def role_choices() -> list[tuple[str, str]]:
    return [(code, roles.label(code)) for code in roles.ROLES]


def team_choices() -> QuerySet:
    return Team.objects.order_by("name")


def user_pending_role_changes(*, user: User) -> QuerySet:
    """The high-trust roles given to ``user`` that wait for a second person's confirmation."""
    from crm.security.models import RoleChange

    return (
        RoleChange.objects.filter(user=user, status=RoleChange.Status.PENDING)
        .select_related("requested_by")
        .order_by("created_at", "pk")
    )


def user_holdings(*, user: User, counts=None) -> list[dict]:
    """What ``user`` holds in the apps (``crm.offboarding``): ``[{key, label, count}]``;
    from ``counts`` (``offboarding.counts_for``) when the caller has them already."""
    from crm import offboarding

    if counts is None:
        counts = offboarding.counts_for(user)
    return [
        {"key": holding.key, "label": holding.label, "count": count} for holding, count in counts
    ]


def successor_candidates(*, user: User) -> QuerySet:
    from crm import offboarding

    return offboarding.successor_candidates(user)


def teams_without_manager(*, team_ids) -> list[str]:
    """The names of those of ``team_ids`` that have no manager (after a deactivation)."""
    return list(
        Team.objects.filter(pk__in=team_ids, manager__isnull=True)
        .order_by("name")
        .values_list("name", flat=True)
    )
