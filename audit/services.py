"""The one writer of the audit trail, and the chain verifier."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from crm import request_context

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_ID = 7_316_001  # PostgreSQL advisory lock that serialises appends


def _lock_chain():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])


def record_event(
    *,
    action: str,
    actor=None,
    obj=None,
    content_type: ContentType | None = None,
    object_id: str | int | None = None,
    reason: str = "",
    data: dict | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> AuditEvent:
    """Append one event to the audit trail, inside the caller's transaction.

    ``data`` holds ids, counts and field *names*; never a personal value. IP and user
    agent default to those of the current request (``crm.request_context``).
    """
    if obj is not None:
        content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        object_id = obj.pk
    context = request_context.current()
    actor_id = getattr(actor, "pk", None) if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
        event = AuditEvent(
            sequence=(last["sequence"] + 1) if last else 1,
            occurred_at=timezone.now(),
            actor_id=actor_id,
            actor_username=(actor.get_username() if actor_id else "")[:150],
            action=action,
            content_type=content_type,
            object_id="" if object_id is None else str(object_id),
            reason=reason or "",
            ip_address=ip_address if ip_address is not None else context.ip,
            user_agent=(user_agent if user_agent is not None else context.user_agent)[:500],
            data=data or {},
            previous_hash=last["hash"] if last else GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    logger.info("audit %s #%s actor=%s", action, event.sequence, actor_id)
    return event


@dataclass
class ChainReport:
    checked: int
    problems: list[str]
    head_hash: str

    @property
    def intact(self) -> bool:
        return not self.problems


def audit_chain_verify(*, chunk_size: int = 2000) -> ChainReport:
    """Recompute every hash and link; report edited, inserted or deleted events."""
    problems: list[str] = []
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=chunk_size):
        checked += 1
        if event.sequence != expected_sequence:
            problems.append(
                f"events {expected_sequence}–{event.sequence - 1} are missing (deleted)"
            )
        if event.previous_hash != expected_previous:
            problems.append(f"event {event.sequence} does not link to the event before it")
        if event.compute_hash() != event.hash:
            problems.append(f"event {event.sequence} was altered after it was written")
        expected_previous = event.hash
        expected_sequence = event.sequence + 1
    return ChainReport(checked=checked, problems=problems, head_hash=expected_previous)
