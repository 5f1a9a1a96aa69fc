"""Separation of duties (role changes, who may set whose password) and sign-out everywhere."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import auditing, roles
from crm.auditing import record as record_event
from crm.exceptions import HiddenObject
from crm.security import events
from crm.security.models import RoleChange, UserSession

# Granting one of these needs a second person holding one of them (issue 14 item 3).
HIGH_TRUST_ROLES = (roles.GENERAL_MANAGER, roles.DPO, roles.AUDITOR, roles.ADMIN)
# Who may set whose password: nobody sets the password of someone trusted more.
TRUST = {
    roles.SALES_REP: 1,
    roles.SERVICE_STAFF: 1,
    roles.SALES_MANAGER: 2,
    roles.SERVICE_MANAGER: 2,
    roles.ADMIN: 3,
    roles.AUDITOR: 4,
    roles.DPO: 4,
    roles.GENERAL_MANAGER: 4,
}


def trust_of(user) -> int:
    if user.is_superuser:
        return 10
    return max(
        (TRUST.get(name, 0) for name in user.groups.values_list("name", flat=True)), default=0
    )


def may_set_password(*, actor, user) -> bool:
    """The user himself, or an admin (superuser) trusted at least as much as the user."""
    if actor.pk == user.pk:
        return True
    if not (actor.is_superuser or actor.groups.filter(name=roles.ADMIN).exists()):
        return False
    return trust_of(actor) >= trust_of(user)


def password_set_check(*, actor, user) -> None:
    """Raise PermissionDenied (audited) when ``actor`` may not set ``user``'s password."""
    if may_set_password(actor=actor, user=user):
        return
    record_event(
        action=events.PASSWORD_CHANGE_REFUSED, actor=actor, obj=user, data={"why": "higher_trust"}
    )
    raise PermissionDenied(
        _("You may not set the password of a user whose role is trusted more than yours.")
    )


def _holds_high_trust(user) -> bool:
    return user.is_superuser or user.groups.filter(name__in=HIGH_TRUST_ROLES).exists()


def user_roles_set(*, actor, user, role_names: list[str]) -> list[RoleChange]:
    """Give ``user`` exactly these roles, except that a high-trust role waits for a second
    person (a pending ``RoleChange``). Nobody changes his own roles. Returns the pending
    changes made."""
    wanted = set(role_names)
    unknown = wanted - set(roles.ROLES)
    if unknown:
        raise ValidationError({"groups": _("Unknown role: %s") % ", ".join(sorted(unknown))})
    if actor.pk == user.pk and wanted != set(user.groups.values_list("name", flat=True)):
        # Recorded outside the transaction below, which the refusal would roll back.
        record_event(
            action=events.ROLE_CHANGE_REFUSED, actor=actor, obj=user, data={"why": "own_roles"}
        )
        raise PermissionDenied(_("Nobody may change his own roles."))
    with transaction.atomic():
        current = set(user.groups.values_list("name", flat=True))
        if wanted == current:
            return []
        removed = current - wanted
        added = wanted - current
        direct = {name for name in added if name not in HIGH_TRUST_ROLES}
        held_back = sorted(added - direct)
        if removed:
            user.groups.remove(*Group.objects.filter(name__in=removed))
        if direct:
            user.groups.add(*Group.objects.filter(name__in=direct))
        if removed or direct:
            auditing.record(
                action=auditing.USER_ROLE_CHANGED,
                actor=actor,
                obj=user,
                data={"roles": sorted((current - removed) | direct)},
            )
        pending = []
        for name in held_back:
            change, created = RoleChange.objects.get_or_create(
                user=user,
                role=name,
                status=RoleChange.Status.PENDING,
                defaults={"requested_by": actor},
            )
            if created:
                record_event(
                    action=events.ROLE_CHANGE_REQUESTED,
                    actor=actor,
                    obj=user,
                    data={"role": name, "role_change_id": change.pk},
                )
            pending.append(change)
    return pending


def _decide(*, actor, change_id: int, confirm: bool) -> RoleChange:
    from django.contrib.contenttypes.models import ContentType

    with transaction.atomic():
        change = (
            RoleChange.objects.select_for_update()
            .select_related("user")
            .filter(pk=change_id, status=RoleChange.Status.PENDING)
            .first()
        )
        if change is None or not _holds_high_trust(actor):
            raise HiddenObject(
                user=actor,
                content_type=ContentType.objects.get_for_model(RoleChange),
                object_id=change_id,
                action="confirm" if confirm else "reject",
            )
        if actor.pk in (change.requested_by_id, change.user_id):
            raise PermissionDenied(
                _("A role change is confirmed by someone other than who asked and who gets it.")
            )
        change.status = RoleChange.Status.CONFIRMED if confirm else RoleChange.Status.REJECTED
        change.decided_by = actor
        change.decided_at = timezone.now()
        change._history_user = actor
        change.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        if confirm:
            change.user.groups.add(Group.objects.get(name=change.role))
            if change.role in roles.STAFF_ROLES and not change.user.is_staff:
                change.user.is_staff = True  # an admin's role opens the admin site
                change.user._history_user = actor
                change.user.save(update_fields=["is_staff"])
            auditing.record(
                action=auditing.USER_ROLE_CHANGED,
                actor=actor,
                obj=change.user,
                data={"roles": sorted(change.user.groups.values_list("name", flat=True))},
            )
        record_event(
            action=events.ROLE_CHANGE_CONFIRMED if confirm else events.ROLE_CHANGE_REJECTED,
            actor=actor,
            obj=change.user,
            data={
                "role": change.role,
                "role_change_id": change.pk,
                "requested_by": change.requested_by_id,
            },
        )
    return change


def role_change_confirm(*, actor, change_id: int) -> RoleChange:
    return _decide(actor=actor, change_id=change_id, confirm=True)


def role_change_reject(*, actor, change_id: int) -> RoleChange:
    return _decide(actor=actor, change_id=change_id, confirm=False)


def role_changes_pending(*, actor):
    if not _holds_high_trust(actor):
        return RoleChange.objects.none()
    return (
        RoleChange.objects.filter(status=RoleChange.Status.PENDING)
        .select_related("user", "requested_by")
        .order_by("created_at", "id")
    )


def sessions_end_for_user(*, user, keep_session_key: str | None = None) -> int:
    """Delete every recorded browser session of ``user`` (but ``keep_session_key``)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    rows = UserSession.objects.filter(user=user)
    if keep_session_key:
        rows = rows.exclude(session_key=keep_session_key)
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def sign_out_everywhere(*, actor, user, keep_session_key: str | None = None) -> dict:
    """End every session and revoke every API token of ``user``; audited."""
    from crm.security.tokens import tokens_revoke_for_user

    if actor.pk != user.pk and not (
        actor.is_superuser or actor.groups.filter(name=roles.ADMIN).exists()
    ):
        raise PermissionDenied
    with transaction.atomic():
        sessions = sessions_end_for_user(user=user, keep_session_key=keep_session_key)
        tokens = tokens_revoke_for_user(user=user, actor=actor, why="signed_out_everywhere")
        record_event(
            action=events.SIGNED_OUT_EVERYWHERE,
            actor=actor,
            obj=user,
            data={"sessions": sessions, "tokens": tokens},
        )
    return {"sessions": sessions, "tokens": tokens}


def user_deactivated(*, actor, user) -> None:
    """What deactivating a user ends at once: his sessions and API tokens."""
    from crm.security.tokens import tokens_revoke_for_user

    sessions_end_for_user(user=user)
    tokens_revoke_for_user(user=user, actor=actor, why="deactivated")
