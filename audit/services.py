"""The one writer of the audit trail, the chainer, the checkpoints and the verifier.

Recording and chaining are two steps so that no writer waits on another's transaction:

* ``record_event`` inserts the event *unchained* (no sequence, no hash; a keyed content
  MAC) inside the caller's transaction, takes no lock, and asks for chaining on commit.
* ``audit_chain_extend`` runs right after that commit, in its own short transaction under
  the chain lock, and links every committed unchained event in id order: sequence,
  previous hash, and the HMAC under ``AUDIT_CHAIN_KEY``. The checkpoint task and the
  verifier call it too, so an event left unchained by a crash is linked later.
* ``audit_chain_checkpoint`` writes the head into the keys database (``ChainCheckpoint``)
  with its own HMAC; ``audit_chain_verify`` checks every event and every checkpoint.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent, ChainCheckpoint
from crm import encryption, request_context

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_ID = 7_316_001  # PostgreSQL advisory lock that serialises chaining
_CHAIN_BATCH = 500


def _lock_chain():
    """Serialise chainers; held only for the chainer's own short transaction."""
    connection = connections[DEFAULT_DB_ALIAS]
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
    subject_key_id=None,
) -> AuditEvent:
    """Append one event to the audit trail, inside the caller's transaction.

    ``data`` holds ids, counts and field *names*; never a personal value. ``reason`` is
    free text and is stored encrypted: under ``subject_key_id``, by default the data key
    of ``obj`` when it has one (a customer or one of its records), else under the master
    key. IP and user agent default to those of the current request
    (``crm.request_context``).

    The event is returned unchained (``sequence`` and ``hash`` are None): it is linked
    into the chain once the caller's transaction commits (at once outside a transaction),
    so that a long transaction never holds the chain lock. Rolled back, it never existed.
    """
    if obj is not None:
        content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        object_id = obj.pk
        if subject_key_id is None:
            # An event about one customer (or one of its records): its reason is encrypted
            # under that customer's key.
            subject_key_id = getattr(obj, "data_key_id", None)
    context = request_context.current()
    actor_id = getattr(actor, "pk", None) if actor is not None and actor.is_authenticated else None
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor_id=actor_id,
        actor_username=(actor.get_username() if actor_id else "")[:150],
        action=action,
        content_type=content_type,
        object_id="" if object_id is None else str(object_id),
        subject_key_id=subject_key_id,
        ip_address=ip_address if ip_address is not None else context.ip,
        user_agent=(user_agent if user_agent is not None else context.user_agent)[:500],
        data=data or {},
        hash_scheme=AuditEvent.HashScheme.HMAC_SHA256,
    )
    try:
        event.seal_reason(reason or "")
    except encryption.DataKeyDestroyed:
        # The customer was purged: its key is gone, so a reason written now cannot be
        # sealed under it. The event is still recorded (never lost for want of a key):
        # its reason under the master key, and the event says the subject's key is gone.
        event.subject_key_id = None
        event.data = {**event.data, "subject_key_destroyed": True}
        event.seal_reason(reason)
    event.content_mac = event.compute_content_mac()
    event.save(force_insert=True)
    logger.info("audit %s id=%s actor=%s", action, event.pk, actor_id)
    _chain_on_commit()
    for hook in _after_record:
        hook(event)
    return event


_after_record: list = []


def after_record(hook) -> None:
    """Run ``hook(event)`` after each event is recorded (access monitoring); the hook must
    defer its work to the commit and never raise."""
    if hook not in _after_record:
        _after_record.append(hook)


def _chain_after_commit() -> None:
    audit_chain_extend()


def _chain_on_commit() -> None:
    """Ask for one chaining after the current transaction commits (once per transaction:
    the chainer links every unchained event it finds)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block and any(
        entry[1] is _chain_after_commit for entry in connection.run_on_commit
    ):
        return
    # robust: the caller's work is committed already; a failed chaining is logged and left
    # to the checkpoint task, never turned into an error of the caller's request.
    transaction.on_commit(_chain_after_commit, robust=True)


def audit_chain_extend() -> int:
    """Link every committed unchained event into the chain, in id order; return how many.

    Each batch runs in its own transaction under the chain lock, so chainers never fork
    the chain, and the lock is held only for the linking itself. A row whose content MAC
    fails (not written by ``record_event``, or altered before it was chained) is left
    unchained; the verifier reports it.
    """
    linked = 0
    while True:
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            _lock_chain()
            pending = list(
                AuditEvent.objects.filter(sequence__isnull=True).order_by("id")[:_CHAIN_BATCH]
            )
            if not pending:
                return linked
            head = (
                AuditEvent.objects.filter(sequence__isnull=False)
                .order_by("-sequence")
                .values("sequence", "hash")
                .first()
            )
            sequence = head["sequence"] if head else 0
            previous_hash = head["hash"] if head else GENESIS_HASH
            for event in pending:
                if event.compute_content_mac() != event.content_mac:
                    logger.error("audit event id=%s fails its content MAC; not chained", event.pk)
                    continue
                event.sequence = sequence + 1
                event.previous_hash = previous_hash
                event.hash = event.compute_hash()
                if AuditEvent.objects.filter(pk=event.pk).chain_link(
                    sequence=event.sequence, previous_hash=event.previous_hash, hash=event.hash
                ):
                    sequence, previous_hash = event.sequence, event.hash
                    linked += 1
        if len(pending) < _CHAIN_BATCH:
            return linked


def audit_chain_checkpoint() -> ChainCheckpoint | None:
    """Chain any leftover, then write the head (sequence, hash) into the keys database.

    The head event's own hash is checked first (one HMAC, not the whole chain): a head
    that does not verify is not anchored, and the full verification will say why.
    """
    audit_chain_extend()
    head = AuditEvent.objects.filter(sequence__isnull=False).order_by("-sequence").first()
    if head is not None and head.compute_hash() != head.hash:
        logger.error("audit chain head #%s does not verify; no checkpoint taken", head.sequence)
        return None
    return _checkpoint_write(
        sequence=head.sequence if head else 0, head_hash=head.hash if head else GENESIS_HASH
    )


def _checkpoint_write(*, sequence: int, head_hash: str) -> ChainCheckpoint:
    checkpoint = ChainCheckpoint(sequence=sequence, head_hash=head_hash, taken_at=timezone.now())
    checkpoint.mac = checkpoint.compute_mac()
    checkpoint.save(force_insert=True)
    logger.info("audit chain checkpoint #%s at sequence %s", checkpoint.pk, sequence)
    return checkpoint


@dataclass
class ChainReport:
    checked: int
    problems: list[str]
    head_hash: str
    head_sequence: int = 0
    checkpoint: ChainCheckpoint | None = field(default=None)

    @property
    def intact(self) -> bool:
        return not self.problems


def _checkpoints_read(problems: list[str]) -> list[ChainCheckpoint]:
    """The checkpoints whose MAC holds, oldest first; every other one is a problem."""
    valid = []
    for checkpoint in ChainCheckpoint.objects.order_by("id"):
        if checkpoint.compute_mac() == checkpoint.mac:
            valid.append(checkpoint)
        else:
            problems.append(
                _("checkpoint %(id)s fails its integrity check (forged or altered)")
                % {"id": checkpoint.pk}
            )
    return valid


def audit_chain_verify(*, chunk_size: int = 2000, checkpoint: bool = True) -> ChainReport:
    """Recompute every hash and link, and check the chain against every checkpoint.

    Reports edited, inserted, reordered and deleted events, a chain re-hashed without
    the key, the newest events removed after a checkpoint, a forged checkpoint and a row
    slipped in unchained. Leftover unchained events are chained first. When the chain is
    intact (and ``checkpoint`` is true) its head is checkpointed, so the next verification
    is anchored here.
    """
    problems: list[str] = []
    audit_chain_extend()
    checkpoints = _checkpoints_read(problems)
    anchors: dict[int, list[ChainCheckpoint]] = {}
    for anchor in checkpoints:
        anchors.setdefault(anchor.sequence, []).append(anchor)
    first_anchored = min((c.sequence for c in checkpoints), default=None)

    expected_previous = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    keyed_seen = False
    legacy = AuditEvent.HashScheme.LEGACY_SHA256
    events = AuditEvent.objects.filter(sequence__isnull=False).order_by("sequence")
    for event in events.iterator(chunk_size=chunk_size):
        checked += 1
        if event.sequence != expected_sequence:
            problems.append(
                _("events %(first)s–%(last)s are missing (deleted)")
                % {"first": expected_sequence, "last": event.sequence - 1}
            )
        if event.previous_hash != expected_previous:
            problems.append(
                _("event %(sequence)s does not link to the event before it")
                % {"sequence": event.sequence}
            )
        if event.hash_scheme == legacy:
            if keyed_seen or (first_anchored is not None and event.sequence > first_anchored):
                problems.append(
                    _("event %(sequence)s carries an unkeyed hash where a keyed one is due")
                    % {"sequence": event.sequence}
                )
        else:
            keyed_seen = True
        altered = event.compute_hash() != event.hash or (
            event.hash_scheme != legacy and event.compute_content_mac() != event.content_mac
        )
        if altered:
            problems.append(
                _("event %(sequence)s was altered after it was written")
                % {"sequence": event.sequence}
            )
        for anchor in anchors.get(event.sequence, ()):
            if anchor.head_hash != event.hash:
                problems.append(
                    _("event %(sequence)s differs from checkpoint %(id)s")
                    % {"sequence": event.sequence, "id": anchor.pk}
                )
        expected_previous = event.hash
        expected_sequence = event.sequence + 1
    head_sequence = expected_sequence - 1

    for anchor in checkpoints:
        if anchor.sequence > head_sequence:
            problems.append(
                _("events %(first)s–%(last)s were removed after checkpoint %(id)s")
                % {"first": head_sequence + 1, "last": anchor.sequence, "id": anchor.pk}
            )
        elif anchor.sequence == 0 and anchor.head_hash != GENESIS_HASH:
            problems.append(
                _("checkpoint %(id)s does not match the start of the chain") % {"id": anchor.pk}
            )
    # Rows the chainer refused (an unchained event committed since then is no problem).
    for stray in AuditEvent.objects.filter(sequence__isnull=True).order_by("id"):
        if stray.compute_content_mac() == stray.content_mac:
            continue
        problems.append(
            _("an unchained event (id %(id)s) was not written by the application")
            % {"id": stray.pk}
        )

    report = ChainReport(
        checked=checked,
        problems=problems,
        head_hash=expected_previous,
        head_sequence=head_sequence,
    )
    if report.intact and checkpoint:
        report.checkpoint = _checkpoint_write(sequence=head_sequence, head_hash=expected_previous)
    return report
