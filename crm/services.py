"""Writes on users and teams. Views, API, admin and commands call these."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm import auditing, offboarding, roles
from crm.models import Team, User
from crm.permissions import require_perm
from crm.security import events as security_events
from crm.security.services import (
    HIGH_TRUST_ROLES,
    password_set_check,
    sessions_end_for_user,
    user_deactivated,
    user_roles_set,
)
from crm.security.tokens import tokens_revoke_for_user
from crm.users import events


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
    # A high-trust role given by a person waits for a second one (crm.security.services).
    held_back = actor is not None and role in HIGH_TRUST_ROLES
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        team=team,
        is_staff=role in roles.STAFF_ROLES and not held_back,
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
    if not held_back:
        user.groups.add(Group.objects.get(name=role))
    auditing.record(
        action=auditing.USER_CREATED,
        actor=actor,
        obj=user,
        data={
            "role": role,
            "roles": [role],
            "role_pending": held_back,
            "team_id": team.pk if team else None,
        },
    )
    if held_back:
        user_roles_set(actor=actor, user=user, role_names=[role])
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


# --- user administration (issue 13 item 6) -------------------------------------------------

EDITABLE_FIELDS = ("first_name", "last_name", "email", "team")


def _role_codes(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def _locked(user: User) -> User:
    return User.objects.select_for_update(of=("self",)).select_related("team").get(pk=user.pk)


def user_update(*, actor: User, user: User, data: dict) -> User:
    """Change a user's name, e-mail, team and roles (only the keys ``data`` holds).

    Roles go through ``user_roles_set``: a high-trust role waits for a second person as a
    pending change, and nobody changes his own roles. An e-mail address (where a
    set-password link goes) is changed only by someone trusted as much as the user. One
    ``user.updated`` event naming the changed fields and the user's roles.
    """
    require_perm(actor, "crm.change_user")
    own = data.get("roles") is not None and actor.pk == user.pk
    if own and set(data["roles"]) != set(user.groups.values_list("name", flat=True)):
        # Refused here, outside any transaction: ``user_roles_set`` records its refusal
        # inside its own atomic block, which the refusal then rolls back.
        auditing.record(
            action=security_events.ROLE_CHANGE_REFUSED,
            actor=actor,
            obj=user,
            data={"why": "own_roles"},
        )
        raise PermissionDenied(_("Nobody may change his own roles."))
    if "email" in data and actor.pk != user.pk and (data["email"] or "").strip() != user.email:
        password_set_check(actor=actor, user=user)
    with transaction.atomic():
        return _user_update(actor=actor, user=user, data=data)


def _user_update(*, actor: User, user: User, data: dict) -> User:
    user = _locked(user)
    changed = []
    for field in EDITABLE_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field in ("first_name", "last_name", "email"):
            value = (value or "").strip()
        if getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.full_clean(exclude=["password"])
        user._history_user = actor
        user.save(update_fields=changed)
    if data.get("roles") is not None:
        before = _role_codes(user)
        user_roles_set(actor=actor, user=user, role_names=list(data["roles"]))
        if _role_codes(user) != before:
            changed.append("roles")
        staff = user.groups.filter(name__in=roles.STAFF_ROLES).exists()
        if not user.is_superuser and user.is_staff != staff:
            user.is_staff = staff
            user._history_user = actor
            user.save(update_fields=["is_staff"])
    if changed:
        auditing.record(
            action=events.USER_UPDATED,
            actor=actor,
            obj=user,
            data={"fields": changed, "roles": _role_codes(user)},
        )
    return user


@transaction.atomic
def user_deactivate(
    *, actor: User, user: User, successor: User | None = None, reason: str = ""
) -> int:
    """Deactivate ``user`` and hand what they hold (their customer cards, their open
    complaints…) and the teams they manage to ``successor``.

    A successor is required when the user holds anything (``crm.offboarding``); it must be
    one of the holdings' candidates, and a sales manager when the user manages teams (who
    then takes the teams over). A user who manages teams and holds nothing may leave
    without a successor: the teams then have no manager. ``reason`` (optional, the
    administrator's words) goes with the handed-over records and the event; nothing is
    stored in its place. Ends the user's sessions and API tokens. Nobody deactivates
    themselves; only a superuser deactivates a superuser. Returns how many records were
    handed over; one ``user.deactivated`` event with the roles, the successor and the count.
    """
    require_perm(actor, "crm.change_user")
    if actor.pk == user.pk:
        raise PermissionDenied(_("Nobody may deactivate himself."))
    user = _locked(user)
    if user.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser may deactivate a superuser."))
    if not user.is_active:
        raise ValidationError({"user": [_("This user is already inactive.")]})
    reason = (reason or "").strip()
    counts = offboarding.counts_for(user)
    team_names = offboarding.managed_team_names(user)
    held = sum(count for _holding, count in counts)
    if held and successor is None:
        raise ValidationError(
            {"successor": [_("This user still holds records: choose who takes them over.")]}
        )
    if successor is not None and (held or team_names):
        candidates = offboarding.successor_candidates(user, counts, team_names)
        if not candidates.filter(pk=successor.pk).exists():
            message = (
                _(
                    "Choose an active sales manager, other than this user, who may take over "
                    "the teams they manage and everything they hold."
                )
                if team_names
                else _(
                    "Choose an active user, other than this one, who may take over everything "
                    "they hold."
                )
            )
            raise ValidationError({"successor": [message]})
    else:
        successor = None
    moved: dict[str, int] = {}
    if held:
        moved = offboarding.hand_over(
            actor=actor, user=user, successor=successor, reason=reason, counts=counts
        )
    user.is_active = False
    user._history_user = actor
    user.save(update_fields=["is_active"])
    user_deactivated(actor=actor, user=user)
    teams, new_manager = _teams_hand_over(actor=actor, user=user, successor=successor)
    handed_over = sum(moved.values())
    auditing.record(
        action=events.USER_DEACTIVATED,
        actor=actor,
        obj=user,
        reason=reason,
        data={
            "roles": _role_codes(user),
            "successor_id": successor.pk if successor else None,
            "handed_over": handed_over,
            "handed_over_by_kind": moved,
            "teams": teams,
            "teams_manager_id": new_manager.pk if new_manager else None,
        },
    )
    return handed_over


def _teams_hand_over(*, actor: User, user: User, successor: User | None):
    """The teams a leaving user managed: to the successor when he is an active sales
    manager, else without a manager until an admin names one (the general manager still
    decides for them). Returns the team ids and the new manager (or None)."""
    teams = list(Team.objects.select_for_update().filter(manager=user).order_by("pk"))
    if not teams:
        return [], None
    new_manager = None
    if (
        successor is not None
        and successor.is_active
        and successor.groups.filter(name=roles.SALES_MANAGER).exists()
    ):
        new_manager = successor
    for team in teams:
        team.manager = new_manager
        team._history_user = actor
        team.save(update_fields=["manager", "updated_at"])
    return [team.pk for team in teams], new_manager


@transaction.atomic
def user_reactivate(*, actor: User, user: User) -> User:
    """Let a deactivated user sign in again (with the password he had, or a new link)."""
    require_perm(actor, "crm.change_user")
    user = _locked(user)
    if user.is_active:
        return user
    user.is_active = True
    user._history_user = actor
    user.save(update_fields=["is_active"])
    auditing.record(
        action=events.USER_REACTIVATED, actor=actor, obj=user, data={"roles": _role_codes(user)}
    )
    return user


def password_set_link(user: User) -> str:
    """The absolute one-time set-password link of ``user``: uid and token only.

    The token (Django's ``default_token_generator``) is bound to the password hash and the
    last sign-in, so it stops working once used, and after ``PASSWORD_RESET_TIMEOUT``.
    """
    from django.conf import settings
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "users:set-password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.CRM_BASE_URL.rstrip("/") + path


def _send_set_password_mail(user: User, link: str) -> None:
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "link": link,
            "company": settings.CRM["COMPANY_NAME"],
            "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        }
        send_mail(
            subject=render_to_string("crm/users/set_password_subject.txt", context).strip(),
            message=render_to_string("crm/users/set_password_email.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )


def user_password_reset_send(*, actor: User, user: User) -> None:
    """E-mail ``user`` a one-time link to set a new password, and end his sessions.

    Nobody sends it for a user trusted more than he is (``password_set_check``). The
    e-mail leaves after the commit; the link is never stored, logged or shown. One
    ``user.password_reset_sent`` event with the user's roles.
    """
    require_perm(actor, "crm.change_user")
    # Before the transaction: a refusal is audited, and the rollback would undo that.
    password_set_check(actor=actor, user=user)
    with transaction.atomic():
        _password_reset_send(actor=actor, user=user)


def _password_reset_send(*, actor: User, user: User) -> None:
    user = _locked(user)
    if not user.is_active:
        raise ValidationError({"user": [_("Reactivate the user first.")]})
    if not user.email:
        raise ValidationError({"email": [_("This user has no e-mail address: add one first.")]})
    # A reset is also what an admin does when a password may be known to someone else: the
    # old one stops working now, with every session and API token. The link is made after,
    # bound to the new (unusable) password.
    user.set_unusable_password()
    user._history_user = actor
    user.save(update_fields=["password"])
    sessions = sessions_end_for_user(user=user)
    tokens = tokens_revoke_for_user(user=user, actor=actor, why="password_reset")
    link = password_set_link(user)
    transaction.on_commit(lambda: _send_set_password_mail(user, link))
    auditing.record(
        action=events.PASSWORD_RESET_SENT,
        actor=actor,
        obj=user,
        data={"roles": _role_codes(user), "sessions_ended": sessions, "tokens_revoked": tokens},
    )


@transaction.atomic
def user_password_set_by_link(*, user: User, password: str) -> User:
    """Set the password chosen on the set-password page (the link's token was checked and
    the password validated by the page's form); ends the user's other sessions."""
    user = _locked(user)
    user.set_password(password)
    user.save(update_fields=["password"])
    sessions_end_for_user(user=user)
    auditing.record(
        action=events.PASSWORD_SET_BY_LINK, actor=user, obj=user, data={"roles": _role_codes(user)}
    )
    return user
