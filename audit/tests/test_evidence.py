"""The privacy evidence report (issue 12 item 8) on a small data set counted by hand.

The period is March 2026 (local days, Asia/Shanghai); "today" is 10 April 2026.
"""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from audit import events, incidents
from audit.evidence import privacy_report
from audit.models import (
    AccessAlert,
    AuditEvent,
    DestructionRecord,
    Incident,
    PurgedSubject,
    SubjectRequest,
)
from audit.services import record_event
from customers.models import Consent
from customers.services.cards import new_consent
from customers.tests.factories import company_people, make_customer

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 4, 10)
START, END = datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)

EXPECTED = {
    "consents_given": 3,
    "consents_withdrawn": 2,
    "reveals": 3,
    "exports": 2,
    "alerts": 2,
    "purge_runs": 2,
    "customers_purged": 2,
    "requests": 4,
    "requests_access": 1,
    "requests_correction": 1,
    "requests_deletion": 1,
    "requests_withdrawal": 1,
    "requests_on_time": 1,
    "requests_late": 1,
    "requests_overdue": 1,
    "requests_pending": 1,
    "incidents": 3,
    "incidents_serious": 2,
    "incidents_authorities": 2,
    "incidents_customers": 1,
    "incidents_open": 2,
}


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=TZ)


def event_at(moment, **kwargs):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return record_event(**kwargs)


@pytest.fixture
def people():
    return company_people()


@pytest.fixture(autouse=True)
def today():
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        yield


def _consent(customer, user, given, withdrawn=None):
    consent = new_consent(customer, user, purpose="service", channel="paper", policy_version="1")
    consent.given_at, consent.withdrawn_at = given, withdrawn
    consent.save()


def _request(customer, user, kind, received, *, completed=None, status="open"):
    row = SubjectRequest(
        kind=kind,
        status=status,
        customer_id=customer.pk,
        customer_code=customer.code,
        received_on=received,
        due_on=received + datetime.timedelta(days=15),
        handler=user,
        completed_at=completed,
    )
    row.save()


def _data_set(people):
    """The hand-counted data set."""
    owner, dpo = people["owner"], people["dpo"]
    customer = make_customer(owner)
    Consent.objects.all().delete()  # the card's own consents carry today's date

    # Consents: given 5 Mar, 15 Mar and 31 Mar 23:59; withdrawn 10 Mar and 20 Mar.
    _consent(customer, owner, at(2026, 3, 5, 9))
    _consent(customer, owner, at(2026, 2, 20, 9), at(2026, 3, 10, 9))
    _consent(customer, owner, at(2026, 3, 15, 9), at(2026, 3, 20, 9))
    _consent(customer, owner, at(2026, 3, 31, 23, 59))
    _consent(customer, owner, at(2026, 4, 1, 0, 30))  # outside

    # Reveals 2 Mar, 15 Mar, 31 Mar 23:00; exports 3 and 4 Mar; others outside or not counted.
    for moment in (at(2026, 3, 2, 10), at(2026, 3, 15, 10), at(2026, 3, 31, 23)):
        event_at(moment, action="customers.revealed", actor=owner, obj=customer)
    for moment in (at(2026, 3, 3, 10), at(2026, 3, 4, 10)):
        event_at(moment, action="customers.exported", actor=owner)
    event_at(at(2026, 2, 28, 23, 59), action="customers.revealed", actor=owner, obj=customer)
    event_at(at(2026, 4, 1, 0, 10), action="customers.exported", actor=owner)
    event_at(at(2026, 3, 5, 10), action=events.AUDIT_EVENTS_EXPORTED, actor=dpo)

    # Alerts: two in March, one in February.
    for n, start in enumerate((at(2026, 3, 2, 10), at(2026, 3, 9), at(2026, 2, 27, 10))):
        AccessAlert.objects.create(
            user=owner, kind="reveal", window="hour", window_start=start, limit=3, count=3 + n
        )

    # Purges: two runs done in March (one purged two customers), one running, one in February.
    runs = []
    for started, status in (
        (at(2026, 3, 3, 2), "done"),
        (at(2026, 3, 4, 2), "done"),
        (at(2026, 3, 5, 2), "running"),
        (at(2026, 2, 3, 2), "done"),
    ):
        runs.append(
            DestructionRecord.objects.create(trigger="schedule", status=status, started_at=started)
        )
    for n, created in enumerate((at(2026, 3, 3, 2), at(2026, 3, 3, 2), at(2026, 2, 3, 2))):
        subject = PurgedSubject.objects.create(
            record=runs[0],
            customer_id=900_000 + n,
            customer_code=f"P{n}",
            data_key_id=uuid.uuid4(),
            state="destroyed",
        )
        PurgedSubject.objects.filter(pk=subject.pk).update(created_at=created)

    # Requests received in March: on time (answered on its due day, late evening), late,
    # open and overdue, open and not yet due; one received in February.
    _request(customer, dpo, "access", START, completed=at(2026, 3, 16, 23, 30), status="done")
    _request(
        customer,
        dpo,
        "deletion",
        datetime.date(2026, 3, 5),
        completed=at(2026, 3, 25, 10),
        status="refused",
    )
    _request(customer, dpo, "correction", datetime.date(2026, 3, 20))
    _request(customer, dpo, "withdrawal", END)
    _request(customer, dpo, "access", datetime.date(2026, 2, 27))

    # Incidents detected in March: high (everyone told, closed), low (open), critical
    # (authorities told, open); one in February.
    def incident(detected, severity, **kwargs):
        incidents.incident_create(
            actor=dpo, summary="lost file", detected_at=detected, severity=severity, **kwargs
        )

    incident(
        at(2026, 3, 2, 10),
        "high",
        status="closed",
        authorities_told_at=at(2026, 3, 3, 10),
        customers_told_at=at(2026, 3, 4, 10),
    )
    incident(at(2026, 3, 12, 10), "low")
    incident(at(2026, 3, 31, 22), "critical", authorities_told_at=at(2026, 4, 1, 10))
    incident(at(2026, 2, 12, 10), "critical", authorities_told_at=at(2026, 2, 13, 10))
    return customer


def _counts(rows) -> dict:
    return {row.key: row.count for row in rows}


def test_the_report_counts_the_hand_counted_data_set(people):
    _data_set(people)
    assert _counts(privacy_report(start=START, end=END)) == EXPECTED


def test_the_report_runs_a_fixed_number_of_queries(people, assert_queries):
    _data_set(people)
    # consents, accesses, alerts, purge runs, customers purged, requests, incidents
    with assert_queries(default=7, keys=0):
        rows = privacy_report(start=START, end=END)
    # Twenty more reveals and five more incidents: the same queries.
    for _ in range(20):
        event_at(at(2026, 3, 20, 10), action="customers.revealed", actor=people["owner"])
    for _ in range(5):
        incidents.incident_create(
            actor=people["dpo"], summary="x", detected_at=at(2026, 3, 21), severity="low"
        )
    with assert_queries(default=7, keys=0):
        again = _counts(privacy_report(start=START, end=END))
    assert _counts(rows) == EXPECTED
    assert again == {**EXPECTED, "reveals": 23, "incidents": 8, "incidents_open": 7}


def test_the_command_prints_text_and_csv(people, capsys):
    _data_set(people)
    call_command("privacy_report", "--from", "2026-03-01", "--to", "2026-03-31")
    out = capsys.readouterr().out
    assert "Privacy evidence from 2026-03-01 to 2026-03-31" in out
    assert "  Consents given: 3" in out and "  Answered late: 1" in out
    assert "  Incidents detected: 3" in out

    call_command("privacy_report", "--from", "2026-03-01", "--to", "2026-03-31", "--csv")
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0] == ["section", "item", "label", "count"]
    assert {row[1]: int(row[3]) for row in table[1:]} == EXPECTED

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("privacy_report", "--from", "March", "--to", "2026-03-31")
    with pytest.raises(CommandError, match="before the start"):
        call_command("privacy_report", "--from", "2026-03-31", "--to", "2026-03-01")


@pytest.mark.parametrize("role", ["dpo", "auditor"])
def test_the_page_and_its_csv_for_the_dpo_and_the_auditor(client, people, role):
    _data_set(people)
    client.force_login(people[role])
    response = client.get("/audit/evidence/", {"start": "2026-03-01", "end": "2026-03-31"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("data-evidence=") == len(EXPECTED)
    assert '<tr data-evidence="requests_overdue">' in html

    response = client.get(
        "/audit/evidence/report.csv", {"start": "2026-03-01", "end": "2026-03-31"}
    )
    assert response.status_code == 200
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="privacy-evidence-2026-03-01-2026-03-31.csv"'
    )
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row[1]: int(row[3]) for row in table[1:]} == EXPECTED
    download = AuditEvent.objects.get(action=events.EVIDENCE_REPORT_DOWNLOADED)
    assert download.actor_id == people[role].pk
    assert download.data == {"from": "2026-03-01", "to": "2026-03-31"}


def test_a_reversed_period_is_a_form_error(client, people):
    client.force_login(people["dpo"])
    response = client.get("/audit/evidence/", {"start": "2026-03-31", "end": "2026-03-01"})
    assert "The end cannot be before the start." in response.content.decode()
    assert "data-evidence=" not in response.content.decode()
    bad = client.get("/audit/evidence/report.csv", {"start": "2026-03-31", "end": "2026-03-01"})
    assert bad.status_code == 400


@pytest.mark.parametrize("role", ["owner", "north_manager", "gm", "service", "admin"])
def test_other_roles_get_no_evidence(client, people, role):
    client.force_login(people[role])
    assert client.get("/audit/evidence/").status_code == 403
    assert (
        client.get(
            "/audit/evidence/report.csv", {"start": "2026-03-01", "end": "2026-03-31"}
        ).status_code
        == 403
    )
    assert not AuditEvent.objects.filter(action=events.EVIDENCE_REPORT_DOWNLOADED).exists()
    assert Incident.objects.count() == 0
