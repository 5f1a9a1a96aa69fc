"""The incident register (issue 12 item 5): services, history, audit, pages, API, and the
contact list that only the DPO opens (each opening audited)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from audit import events, incidents
from audit.models import AuditEvent, Incident, IncidentCustomer
from crm import privacy
from customers.tests.factories import company_people, make_customer

pytestmark = pytest.mark.django_db

SECRET = "leak: laptop with list of 张三丰 left on train"
OTHER_ROLES = ("owner", "north_manager", "gm", "service", "admin")


@pytest.fixture
def people():
    return company_people()


@pytest.fixture
def affected(people):
    return [
        make_customer(people["owner"], name="张三丰", phone="13911112222"),
        make_customer(people["owner"], name="李四光", phone="13933334444"),
    ]


def _record(people, affected, **kwargs) -> Incident:
    values = {
        "summary": SECRET,
        "detected_at": timezone.now() - datetime.timedelta(hours=3),
        "severity": Incident.Severity.HIGH,
        "customers": affected,
        "containment": "remote wipe requested",
    }
    return incidents.incident_create(actor=people["dpo"], **{**values, **kwargs})


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- services ------------------------------------------------------------------------------


def test_create_encrypts_the_text_links_customers_keeps_history_and_audits(people, affected):
    incident = _record(people, affected)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT summary, containment FROM audit_incident WHERE id = %s", [incident.pk]
        )
        summary, containment = cursor.fetchone()
        cursor.execute("SELECT summary FROM audit_historicalincident WHERE id = %s", [incident.pk])
        history_summary = cursor.fetchone()[0]
    assert "张三丰" not in summary and "laptop" not in summary
    assert "remote wipe" not in containment and "laptop" not in history_summary
    assert Incident.objects.get(pk=incident.pk).summary == SECRET

    assert sorted(IncidentCustomer.objects.values_list("customer_code", flat=True)) == sorted(
        c.code for c in affected
    )
    assert incident.history.count() == 1
    assert incident.history.get().history_user == people["dpo"]
    assert IncidentCustomer.history.filter(incident_id=incident.pk).count() == 2
    event = AuditEvent.objects.get(action=events.INCIDENT_RECORDED)
    assert event.actor_id == people["dpo"].pk and event.object_id == str(incident.pk)
    assert event.data == {
        "severity": "high",
        "status": "open",
        "customers": sorted(c.code for c in affected),
    }
    assert "张三丰" not in str(event.data) and not event.reason


def test_update_records_changed_fields_and_customers_never_the_text(people, affected):
    incident = _record(people, affected[:1])
    told = timezone.now() - datetime.timedelta(hours=1)

    incidents.incident_update(
        actor=people["dpo"],
        incident_id=incident.pk,
        customers=affected[1:],
        containment="wiped",
        authorities_told_at=told,
        status=Incident.Status.CLOSED,
    )
    incident.refresh_from_db()
    assert incident.closed_at is not None and incident.authorities_told_at == told
    assert list(incident.affected.values_list("customer_code", flat=True)) == [affected[1].code]
    event = AuditEvent.objects.get(action=events.INCIDENT_CHANGED)
    assert event.data == {
        "fields": ["authorities_told_at", "containment", "status"],
        "customers_added": [affected[1].code],
        "customers_removed": [affected[0].code],
        "status": "closed",
    }
    assert incident.history.count() == 2

    # The same values again: nothing is written, nothing recorded.
    incidents.incident_update(
        actor=people["dpo"], incident_id=incident.pk, customers=affected[1:], containment="wiped"
    )
    assert AuditEvent.objects.filter(action=events.INCIDENT_CHANGED).count() == 1
    assert incident.history.count() == 2


def test_validation_refuses_future_and_inconsistent_moments_and_unknown_codes(people, affected):
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        _record(people, affected, detected_at=now + datetime.timedelta(hours=1))
    assert "detected_at" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _record(people, affected, customers_told_at=now - datetime.timedelta(days=2))
    assert "customers_told_at" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _record(people, affected, summary="  ")
    assert "summary" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        incidents.customers_by_codes(f"{affected[0].code}, NOPE-9")
    assert error.value.message_dict == {"customers": ["No customer has these codes: NOPE-9"]}
    assert (
        Incident.objects.count() == 0
        and not AuditEvent.objects.filter(action=events.INCIDENT_RECORDED).exists()
    )


@pytest.mark.parametrize("role", ["auditor", *OTHER_ROLES])
def test_only_the_dpo_records_and_changes_incidents(people, affected, role):
    with pytest.raises(PermissionDenied):
        incidents.incident_create(
            actor=people[role],
            summary="x",
            detected_at=timezone.now(),
            severity="low",
        )
    incident = _record(people, affected)
    with pytest.raises(PermissionDenied):
        incidents.incident_update(actor=people[role], incident_id=incident.pk, severity="low")
    with pytest.raises(PermissionDenied):
        incidents.incident_contacts(actor=people[role], incident=incident)
    assert Incident.objects.get().severity == "high"
    assert not AuditEvent.objects.filter(action=events.INCIDENT_CONTACTS_VIEWED).exists()


def test_contact_list_gives_names_and_phones_and_each_opening_is_audited(people, affected):
    incident = _record(people, affected)
    for opening in (1, 2):
        contacts = incidents.incident_contacts(actor=people["dpo"], incident=incident)
        assert sorted((c.name, c.phone) for c in contacts) == [
            ("张三丰", "13911112222"),
            ("李四光", "13933334444"),
        ]
        assert AuditEvent.objects.filter(action=events.INCIDENT_CONTACTS_VIEWED).count() == opening
    event = AuditEvent.objects.filter(action=events.INCIDENT_CONTACTS_VIEWED).first()
    assert event.data == {"customers": sorted(c.code for c in affected)}
    assert "1391111" not in str(event.data)


def test_the_access_package_lists_the_incidents_that_affected_the_customer(people, affected):
    incident = _record(people, affected[:1])
    exported = privacy.export(affected[0])["audit"]["audit.incident"]
    assert [row["id"] for row in exported] == [incident.pk]
    assert "summary" not in exported[0]
    assert privacy.export(affected[1])["audit"]["audit.incident"] == []


# --- pages ---------------------------------------------------------------------------------


def test_pages_for_the_dpo_who_records_edits_and_opens_the_contact_list(client, people, affected):
    client.force_login(people["dpo"])
    assert client.get("/audit/incidents/new/").status_code == 200
    response = client.post(
        "/audit/incidents/new/",
        {
            "summary": SECRET,
            "detected_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "severity": "critical",
            "status": "open",
            "customers": f"{affected[0].code.lower()} {affected[1].code}",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and response.url == f"/audit/incidents/{incident.pk}/"
    assert incident.affected.count() == 2 and incident.reported_by == people["dpo"]

    html = client.get(f"/audit/incidents/{incident.pk}/").content.decode()
    assert SECRET in html and f"/audit/incidents/{incident.pk}/contacts/" in html
    list_html = client.get("/audit/incidents/").content.decode()
    assert list_html.count("data-incident-row") == 1

    response = client.post(
        f"/audit/incidents/{incident.pk}/",
        {
            "summary": SECRET,
            "detected_at": timezone.localtime(incident.detected_at).strftime("%Y-%m-%dT%H:%M"),
            "severity": "critical",
            "status": "contained",
            "customers": "NOPE-1",
        },
    )
    assert response.status_code == 200 and "No customer has these codes: NOPE-1" in (
        response.content.decode()
    )
    assert Incident.objects.get().status == "open"

    contacts = client.get(f"/audit/incidents/{incident.pk}/contacts/")
    assert contacts.status_code == 200 and contacts["Cache-Control"] == "no-store"
    assert contacts.content.decode().count("data-contact-row") == 2
    assert "13911112222" in contacts.content.decode()
    assert AuditEvent.objects.filter(action=events.INCIDENT_CONTACTS_VIEWED).count() == 1


def test_the_auditor_reads_incidents_without_the_contact_list(client, people, affected):
    incident = _record(people, affected)
    client.force_login(people["auditor"])
    assert client.get("/audit/incidents/").status_code == 200
    html = client.get(f"/audit/incidents/{incident.pk}/").content.decode()
    assert SECRET in html and "/contacts/" not in html and "13911112222" not in html
    assert client.get("/audit/incidents/new/").status_code == 403
    assert client.post(f"/audit/incidents/{incident.pk}/", {"severity": "low"}).status_code == 403
    assert client.get(f"/audit/incidents/{incident.pk}/contacts/").status_code == 403
    assert not AuditEvent.objects.filter(action=events.INCIDENT_CONTACTS_VIEWED).exists()


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_see_no_incident_page(client, people, affected, role):
    incident = _record(people, affected)
    client.force_login(people[role])
    for url in (
        "/audit/incidents/",
        "/audit/incidents/new/",
        f"/audit/incidents/{incident.pk}/",
        f"/audit/incidents/{incident.pk}/contacts/",
    ):
        assert client.get(url).status_code == 403, url


def test_incident_list_page_runs_the_same_queries_whatever_the_rows(
    client, people, affected, assert_queries
):
    client.force_login(people["auditor"])
    _record(people, affected)
    client.get("/audit/incidents/")
    with assert_queries(default=7, keys=0) as few:
        client.get("/audit/incidents/")
    for _ in range(5):
        _record(people, affected)
    with assert_queries(default=few["default"], keys=0):
        response = client.get("/audit/incidents/")
    assert response.content.decode().count("data-incident-row") == 6


# --- API -----------------------------------------------------------------------------------


def test_api_records_lists_changes_and_gives_contacts_to_the_dpo_only(people, affected):
    dpo = _api(people["dpo"])
    response = dpo.post(
        "/api/v1/audit/incidents/",
        {
            "summary": SECRET,
            "detected_at": (timezone.now() - datetime.timedelta(hours=1)).isoformat(),
            "severity": "medium",
            "customers": [affected[0].code],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["customers"] == [affected[0].code] and body["summary"] == SECRET
    assert body["reported_by"] == people["dpo"].username and body["status"] == "open"
    pk = body["id"]

    response = dpo.patch(
        f"/api/v1/audit/incidents/{pk}/",
        {"customers": [c.code for c in affected], "severity": "high"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["customers"] == sorted(c.code for c in affected)
    assert response.json()["severity"] == "high"

    bad = dpo.patch(f"/api/v1/audit/incidents/{pk}/", {"customers": ["NOPE-2"]}, format="json")
    assert bad.status_code == 400

    auditor = _api(people["auditor"])
    listing = auditor.get("/api/v1/audit/incidents/")
    assert listing.status_code == 200 and listing.json()["count"] == 1
    assert auditor.get(f"/api/v1/audit/incidents/{pk}/contacts/").status_code == 403
    assert auditor.post("/api/v1/audit/incidents/", {}, format="json").status_code == 403
    assert auditor.patch(f"/api/v1/audit/incidents/{pk}/", {}, format="json").status_code == 403

    contacts = dpo.get(f"/api/v1/audit/incidents/{pk}/contacts/")
    assert contacts.status_code == 200 and contacts["Cache-Control"] == "no-store"
    assert sorted(row["phone"] for row in contacts.json()) == ["13911112222", "13933334444"]
    assert AuditEvent.objects.filter(action=events.INCIDENT_CONTACTS_VIEWED).count() == 1

    for role in OTHER_ROLES:
        client = _api(people[role])
        assert client.get("/api/v1/audit/incidents/").status_code == 403, role
        assert client.get(f"/api/v1/audit/incidents/{pk}/contacts/").status_code == 403, role
    assert APIClient().get("/api/v1/audit/incidents/").status_code in (401, 403)
