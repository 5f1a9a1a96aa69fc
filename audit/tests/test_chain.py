"""The keyed, anchored audit chain (issue 6, item 3): attacks with database access but
without ``AUDIT_CHAIN_KEY`` are all reported; an intact chain is checkpointed."""

import datetime
import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from audit import events
from audit.models import AuditEvent, ChainCheckpoint
from audit.services import (
    GENESIS_HASH,
    audit_chain_checkpoint,
    audit_chain_extend,
    audit_chain_verify,
    record_event,
)
from audit.tasks import audit_chain_checkpoint_task
from crm.encryption import generate_key

pytestmark = pytest.mark.django_db

LEGACY = AuditEvent.HashScheme.LEGACY_SHA256


def _chained_events(count=4):
    """``count`` events, chained as they are once their transaction commits."""
    recorded = [
        record_event(action=events.KEYS_ROTATED, data={"n": i}, reason=f"r{i}")
        for i in range(count)
    ]
    audit_chain_extend()
    for event in recorded:
        event.refresh_from_db()
    return recorded


def _raw(sql, params=()):
    """SQL on the events with the append-only triggers out of the way, as an attacker with
    database access could run it (the test's transaction restores them)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
            cursor.execute(sql, params)


def _raw_keys(sql, params=()):
    with connections["keys"].cursor() as cursor:
        cursor.execute(sql, params)


def _plain_sha256(row: dict) -> str:
    """The hash as main computed it: SHA-256 of the JSON payload, no key."""
    payload = {
        "sequence": row["sequence"],
        "occurred_at": row["occurred_at"].astimezone(datetime.UTC).isoformat(),
        "actor_id": row["actor_id"],
        "actor_username": row["actor_username"],
        "action": row["action"],
        "content_type_id": row["content_type_id"],
        "object_id": row["object_id"],
        "reason": row["reason"],
        "ip_address": row["ip_address"],
        "user_agent": row["user_agent"],
        "data": row["data"],
        "previous_hash": row["previous_hash"],
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _rehash_without_the_key(from_sequence, *, reason=None, downgrade=False):
    """Edit the event at ``from_sequence`` (optionally) and recompute, consistently, the
    plain SHA-256 of it and of every later event: all an attacker without the key can do."""
    rows = list(AuditEvent.objects.filter(sequence__isnull=False).order_by("sequence").values())
    previous = GENESIS_HASH
    for row in rows:
        if row["sequence"] < from_sequence:
            previous = row["hash"]
            continue
        if row["sequence"] == from_sequence and reason is not None:
            row["reason"] = reason
        row["previous_hash"] = previous
        row["hash"] = _plain_sha256(row)
        _raw(
            "UPDATE audit_auditevent SET reason = %s, previous_hash = %s, hash = %s, "
            "hash_scheme = %s WHERE id = %s",
            [
                row["reason"],
                row["previous_hash"],
                row["hash"],
                int(LEGACY) if downgrade else row["hash_scheme"],
                row["id"],
            ],
        )
        previous = row["hash"]


def _legacy_event(sequence, previous_hash, n):
    """An event as main wrote it before the chain was keyed (plain SHA-256)."""
    event = AuditEvent(
        sequence=sequence,
        occurred_at=timezone.now(),
        action=events.KEYS_ROTATED,
        data={"n": n},
        previous_hash=previous_hash,
        hash_scheme=LEGACY,
    )
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    return event


# --- the intact chain -----------------------------------------------------------------


def test_intact_chain_verifies_and_is_checkpointed_in_the_keys_database():
    recorded = _chained_events(3)
    assert [e.sequence for e in recorded] == [1, 2, 3]
    assert recorded[0].previous_hash == GENESIS_HASH
    assert recorded[1].previous_hash == recorded[0].hash

    report = audit_chain_verify()

    assert report.intact, report.problems
    assert (report.checked, report.head_sequence, report.head_hash) == (3, 3, recorded[2].hash)
    checkpoint = ChainCheckpoint.objects.get()
    assert (checkpoint.sequence, checkpoint.head_hash) == (3, recorded[2].hash)
    assert checkpoint == report.checkpoint and checkpoint.mac == checkpoint.compute_mac()
    assert audit_chain_verify().intact  # the new checkpoint agrees with the chain


def test_the_hash_is_an_hmac_under_the_audit_chain_key(settings):
    (event,) = _chained_events(1)
    row = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert event.hash != _plain_sha256(row)
    assert audit_chain_verify(checkpoint=False).intact

    settings.AUDIT_CHAIN_KEY = generate_key()  # the same chain under another key

    assert "event 1 was altered after it was written" in audit_chain_verify().problems


def test_verify_command_reports_the_head_and_the_checkpoint(capsys):
    _chained_events(2)
    call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert "Audit chain intact: 2 events." in out and "sequence 2" in out
    assert ChainCheckpoint.objects.count() == 1


# --- edits, reordering and removal ----------------------------------------------------


def test_an_edited_event_is_reported():
    _, second, _, _ = _chained_events()
    _raw("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["covered up", second.pk])
    report = audit_chain_verify()
    assert "event 2 was altered after it was written" in report.problems
    assert report.checkpoint is None and not ChainCheckpoint.objects.exists()
    with pytest.raises(CommandError, match="Audit chain broken"):
        call_command("verify_audit_chain")


def test_reordered_events_are_reported():
    _, second, third, _ = _chained_events()
    _raw("UPDATE audit_auditevent SET sequence = 1000 WHERE id = %s", [second.pk])
    _raw("UPDATE audit_auditevent SET sequence = 2 WHERE id = %s", [third.pk])
    _raw("UPDATE audit_auditevent SET sequence = 3 WHERE id = %s", [second.pk])
    problems = audit_chain_verify().problems
    assert "event 2 does not link to the event before it" in problems
    assert "event 2 was altered after it was written" in problems
    assert "event 3 was altered after it was written" in problems


def test_an_event_removed_from_the_middle_is_reported():
    _, second, _, _ = _chained_events()
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    problems = audit_chain_verify().problems
    assert "events 2–2 are missing (deleted)" in problems
    assert "event 3 does not link to the event before it" in problems


def test_newest_events_removed_after_a_checkpoint_are_reported():
    recorded = _chained_events()
    checkpoint = audit_chain_checkpoint()
    assert checkpoint.sequence == 4
    _raw("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [recorded[2].pk, recorded[3].pk])

    problems = audit_chain_verify().problems

    assert problems == [f"events 3–4 were removed after checkpoint {checkpoint.pk}"]


def test_newest_events_removed_and_replaced_after_a_checkpoint_are_reported():
    recorded = _chained_events(3)
    checkpoint = audit_chain_checkpoint()
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [recorded[2].pk])
    _chained_events(2)  # the application carries on: new events 3 and 4

    problems = audit_chain_verify().problems

    assert problems == [f"event 3 differs from checkpoint {checkpoint.pk}"]


# --- re-hashing without the key -------------------------------------------------------


def test_consistent_plain_sha256_recomputation_is_reported():
    _chained_events()
    _rehash_without_the_key(2, reason="covered up")
    problems = audit_chain_verify().problems
    assert problems == [f"event {n} was altered after it was written" for n in (2, 3, 4)]


def test_downgrading_to_the_legacy_scheme_is_reported():
    _chained_events()
    _rehash_without_the_key(2, reason="covered up", downgrade=True)
    problems = audit_chain_verify().problems
    assert problems == [
        f"event {n} carries an unkeyed hash where a keyed one is due" for n in (2, 3, 4)
    ]


def test_downgrading_the_whole_chain_is_caught_by_the_checkpoint():
    _chained_events()
    checkpoint = audit_chain_checkpoint()
    _rehash_without_the_key(1, reason="covered up", downgrade=True)
    problems = audit_chain_verify().problems
    assert problems == [f"event 4 differs from checkpoint {checkpoint.pk}"]


# --- checkpoints ----------------------------------------------------------------------


def test_a_forged_checkpoint_is_reported():
    _chained_events(3)
    checkpoint = audit_chain_checkpoint()
    _raw_keys("UPDATE audit_chaincheckpoint SET sequence = %s WHERE id = %s", [2, checkpoint.pk])
    forged = ChainCheckpoint(sequence=9, head_hash="f" * 64, taken_at=timezone.now(), mac="0" * 64)
    forged.save()

    problems = audit_chain_verify().problems

    assert problems == [
        f"checkpoint {checkpoint.pk} fails its integrity check (forged or altered)",
        f"checkpoint {forged.pk} fails its integrity check (forged or altered)",
    ]


def test_the_checkpoint_task_writes_a_row_in_the_keys_database_only():
    _chained_events(2)
    record_event(action=events.KEYS_ROTATED)  # left unchained: the task chains it first

    assert audit_chain_checkpoint_task.delay().get() == 3

    checkpoint = ChainCheckpoint.objects.using("keys").get()
    assert checkpoint.sequence == 3 and checkpoint.mac == checkpoint.compute_mac()
    assert ChainCheckpoint._meta.db_table in connections["keys"].introspection.table_names()
    assert ChainCheckpoint._meta.db_table not in connection.introspection.table_names()


def test_checkpoint_only_option(capsys):
    _chained_events(2)
    call_command("verify_audit_chain", "--checkpoint-only")
    assert "taken at sequence 2" in capsys.readouterr().out
    assert ChainCheckpoint.objects.get().sequence == 2


def test_a_head_that_does_not_verify_is_not_checkpointed():
    *_, fourth = _chained_events()
    _raw("UPDATE audit_auditevent SET reason = 'x' WHERE id = %s", [fourth.pk])
    assert audit_chain_checkpoint() is None
    assert not ChainCheckpoint.objects.exists()


# --- events written before the chain was keyed ----------------------------------------


def test_legacy_events_verify_and_the_first_checkpoint_anchors_them():
    first = _legacy_event(1, GENESIS_HASH, 0)
    second = _legacy_event(2, first.hash, 1)
    assert audit_chain_verify().intact  # and anchored: a checkpoint at 2
    (keyed,) = _chained_events(1)
    assert keyed.previous_hash == second.hash
    assert keyed.hash_scheme == AuditEvent.HashScheme.HMAC_SHA256
    assert audit_chain_verify().intact

    _rehash_without_the_key(1, reason="covered up")  # consistent for the legacy part

    anchor_of_the_legacy_part = ChainCheckpoint.objects.get(sequence=2)
    problems = audit_chain_verify().problems
    assert f"event 2 differs from checkpoint {anchor_of_the_legacy_part.pk}" in problems
    assert "event 3 was altered after it was written" in problems


# --- chaining at commit ---------------------------------------------------------------


def test_an_event_is_chained_when_its_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        recorded = [record_event(action=events.KEYS_ROTATED) for _ in range(3)]
    assert all(e.sequence is None and e.hash is None for e in recorded)
    assert len(callbacks) == 1  # one chaining per transaction, whatever it records

    callbacks[0]()

    chained = list(AuditEvent.objects.order_by("sequence").values_list("id", "sequence"))
    assert chained == [(e.pk, n) for n, e in enumerate(recorded, start=1)]
    assert audit_chain_verify().intact


def test_a_row_slipped_in_unchained_is_never_chained():
    _chained_events(2)
    forged = AuditEvent(occurred_at=timezone.now(), action=events.KEYS_ROTATED, reason="x")
    forged.content_mac = "0" * 64
    forged.save()

    assert audit_chain_extend() == 0

    assert AuditEvent.objects.get(pk=forged.pk).sequence is None
    assert audit_chain_verify().problems == [
        f"an unchained event (id {forged.pk}) was not written by the application"
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET reason = 'x'",
        "UPDATE audit_auditevent SET sequence = 99, hash = 'h', reason = 'x'",
        "DELETE FROM audit_auditevent",
    ],
)
def test_the_database_refuses_anything_but_chaining_an_unchained_event(statement):
    record_event(action=events.KEYS_ROTATED)  # unchained
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    audit_chain_extend()  # the one update the triggers allow
    assert AuditEvent.objects.get().sequence == 1
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET sequence = 2, hash = 'h'")


def test_generate_env_writes_an_audit_chain_key(tmp_path):
    target = tmp_path / ".env"
    call_command("generate_env", path=str(target))
    line = next(li for li in target.read_text().splitlines() if li.startswith("AUDIT_CHAIN_KEY="))
    assert len(line.split("=", 1)[1]) == 44
