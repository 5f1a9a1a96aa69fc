"""API token services: issue (hashed, expiring), authenticate, list, revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm import auditing
from crm.auditing import record as record_event
from crm.exceptions import HiddenObject
from crm.security import events
from crm.security.models import ApiToken

# last_used_at is written at most this often, so an API client's calls do not each write.
LAST_USED_GRANULARITY = timedelta(minutes=5)


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue(*, user, ip_address: str | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the key (shown once, never stored)."""
    key = secrets.token_hex(20)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            digest=digest_of(key),
            prefix=key[:8],
            created_at=now,
            expires_at=now + timedelta(hours=settings.CRM_TOKEN_TTL_HOURS),
            ip_address=ip_address,
        )
        auditing.record(
            action=auditing.AUTH_TOKEN_ISSUED,
            actor=user,
            obj=user,
            data={"token_id": token.pk, "expires_at": token.expires_at.isoformat()},
        )
    return token, key


def token_authenticate(key: str) -> ApiToken | None:
    """The live token with this key (with its user), or None."""
    token = ApiToken.objects.live().select_related("user").filter(digest=digest_of(key)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_list(*, actor, user=None):
    """Tokens of ``user`` (default: the actor's own). Only an admin lists another's."""
    user = user or actor
    if user.pk != actor.pk and not _may_manage_tokens(actor):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def _may_manage_tokens(actor) -> bool:
    from crm import roles

    return actor.is_superuser or actor.groups.filter(name=roles.ADMIN).exists()


def token_revoke(*, actor, token_id: int) -> ApiToken:
    """Revoke one token: its owner or an admin; anyone else gets 404."""
    from django.contrib.contenttypes.models import ContentType

    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None or (token.user_id != actor.pk and not _may_manage_tokens(actor)):
            raise HiddenObject(
                user=actor,
                content_type=ContentType.objects.get_for_model(ApiToken),
                object_id=token_id,
                action="revoke",
            )
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_event(
                action=events.TOKEN_REVOKED,
                actor=actor,
                obj=token.user,
                data={"token_id": token.pk, "why": "revoked"},
            )
    return token


def tokens_revoke_for_user(*, user, actor=None, why: str) -> int:
    """Revoke every live token of ``user`` (password change, deactivation, sign-out)."""
    now = timezone.now()
    ids = list(ApiToken.objects.live().filter(user=user).values_list("pk", flat=True))
    if not ids:
        return 0
    ApiToken.objects.filter(pk__in=ids).update(revoked_at=now)
    record_event(
        action=events.TOKEN_REVOKED,
        actor=actor or user,
        obj=user,
        data={"token_ids": ids, "why": why},
    )
    return len(ids)
