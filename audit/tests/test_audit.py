"""The append-only, hash-chained audit trail."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from audit import events
from audit.models import AppendOnlyError, AuditEvent
from audit.services import GENESIS_HASH, audit_chain_extend, audit_chain_verify, record_event
from crm.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _three_events():
    """Three events, chained as they are once their transaction commits."""
    user = UserFactory()
    recorded = [
        record_event(action=events.USER_CREATED, actor=None, obj=user, data={"n": i})
        for i in range(3)
    ]
    audit_chain_extend()
    for event in recorded:
        event.refresh_from_db()
    return recorded


def _raw(sql, params=()):
    """Run SQL with the append-only triggers out of the way (what an attacker with DB
    access could do) so that the chain check has something to catch."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")
            cursor.execute(sql, params)


def test_events_link_to_the_previous_one():
    first, second, third = _three_events()
    assert (first.sequence, first.previous_hash) == (1, GENESIS_HASH)
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert third.sequence == second.sequence + 1
    report = audit_chain_verify()
    assert report.intact and report.checked == AuditEvent.objects.count()


def test_orm_refuses_update_and_delete():
    event = _three_events()[0]
    event.reason = "edited"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="edited")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_auditevent SET reason = 'x'", "DELETE FROM audit_auditevent"]
)
def test_database_trigger_refuses_raw_sql(statement):
    _three_events()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert "x" not in {event.reason for event in AuditEvent.objects.all()}


def test_chain_check_catches_an_edited_event():
    _, second, _ = _three_events()
    _raw("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["covered up", second.pk])
    report = audit_chain_verify()
    assert not report.intact
    assert f"event {second.sequence} was altered after it was written" in report.problems
    with pytest.raises(CommandError, match="Audit chain broken"):
        call_command("verify_audit_chain")


def test_chain_check_catches_a_deleted_event():
    _, second, third = _three_events()
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    problems = audit_chain_verify().problems
    assert any("missing" in p for p in problems)
    assert f"event {third.sequence} does not link to the event before it" in problems


def test_chain_check_catches_a_rewritten_hash():
    first, second, _ = _three_events()
    # Recomputing the edited event's own hash is not enough: the next link breaks.
    second.reason = "covered up"
    _raw(
        "UPDATE audit_auditevent SET reason = %s, hash = %s, content_mac = %s WHERE id = %s",
        ["covered up", second.compute_hash(), second.compute_content_mac(), second.pk],
    )
    problems = audit_chain_verify().problems
    assert problems == [f"event {second.sequence + 1} does not link to the event before it"]


def test_verify_command_prints_the_head_on_success(capsys):
    _three_events()
    call_command("verify_audit_chain")
    assert "Audit chain intact" in capsys.readouterr().out


def test_sign_in_sign_out_and_failed_sign_in_are_recorded(client):
    user = UserFactory(username="alice")
    client.post(
        reverse("login"),
        {"username": "alice", "password": "wrong"},
        HTTP_USER_AGENT="pytest-browser",
        REMOTE_ADDR="10.1.2.3",
    )
    failed = AuditEvent.objects.get(action=events.AUTH_LOGIN_FAILED)
    assert failed.data == {"username": "alice"}
    assert failed.ip_address == "10.1.2.3" and failed.user_agent == "pytest-browser"

    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    login = AuditEvent.objects.get(action=events.AUTH_LOGIN)
    assert login.actor_id == user.pk and login.actor_username == "alice"

    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(action=events.AUTH_LOGOUT, actor_id=user.pk).count() == 1
    assert audit_chain_verify().intact


def test_event_records_nothing_but_what_it_is_given():
    event = record_event(action=events.KEYS_ROTATED, data={"values": 3}, reason="quarterly")
    assert event.actor_id is None and event.actor_username == ""
    assert event.data == {"values": 3} and event.reason == "quarterly"
    assert str(event.action_label) == "Encryption keys rotated"
