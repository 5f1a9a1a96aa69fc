"""Writes on users and teams. Views, API, admin and commands call these."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm import auditing, roles
from crm.models import Team, User
from crm.permissions import require_perm


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    password: str | None,
    team: Team | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    actor: User | None = None,
    validate: bool = True,
) -> User:
    """Create a user with one role. ``actor`` None means an operator at the console.

    Admins become staff (the admin site) but never superusers (DESIGN §4).
    """
    require_perm(actor, "crm.add_user")
    if role not in roles.ROLES:
        raise ValidationError({"role": _("Unknown role %(role)s.") % {"role": role}})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("A user with that username already exists.")})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        team=team,
        is_staff=role in roles.STAFF_ROLES,
    )
    if password:
        if validate:
            validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user._history_user = actor
    user.save()
    user.groups.add(Group.objects.get(name=role))
    auditing.record(
        action=auditing.USER_CREATED,
        actor=actor,
        obj=user,
        data={"role": role, "team_id": team.pk if team else None},
    )
    return user


@transaction.atomic
def team_create(*, name: str, manager: User | None = None, actor: User | None = None) -> Team:
    require_perm(actor, "crm.add_team")
    team = Team(name=name.strip(), manager=manager)
    team.full_clean()
    team._history_user = actor
    team.save()
    if manager is not None and manager.team_id is None:
        manager.team = team
        manager._history_user = actor
        manager.save(update_fields=["team"])
    auditing.record(
        action=auditing.TEAM_CREATED,
        actor=actor,
        obj=team,
        data={"manager_id": manager.pk if manager else None},
    )
    return team
