"""Pages and API of the privacy registers: who may, who may not, exact query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from audit import events, retention, subject_requests
from audit.models import AuditEvent, LegalHold, SubjectRequest
from audit.tests import factories as f
from crm import roles
from crm.tests.factories import UserFactory
from customers.tests.factories import company_people, make_customer

pytestmark = pytest.mark.django_db

PAGES = ["/audit/retention/", "/audit/requests/", "/audit/monitoring/"]
API_LISTS = [
    "/api/v1/audit/requests/",
    "/api/v1/audit/legal-holds/",
    "/api/v1/audit/destruction-records/",
    "/api/v1/audit/alerts/",
]

# The privacy operations of the API (issue 12): path, method, operationId.
OPERATIONS = [
    ("/api/v1/audit/alerts/", "GET", "v1_audit_alerts_list"),
    ("/api/v1/audit/destruction-records/", "GET", "v1_audit_destruction_records_list"),
    ("/api/v1/audit/destruction-records/{id}/", "GET", "v1_audit_destruction_records_retrieve"),
    ("/api/v1/audit/legal-holds/", "GET", "v1_audit_legal_holds_list"),
    ("/api/v1/audit/legal-holds/", "POST", "v1_audit_legal_holds_create"),
    ("/api/v1/audit/legal-holds/{id}/lift/", "POST", "v1_audit_legal_holds_lift_create"),
    ("/api/v1/audit/requests/", "GET", "v1_audit_requests_list"),
    ("/api/v1/audit/requests/", "POST", "v1_audit_requests_create"),
    ("/api/v1/audit/requests/{id}/", "GET", "v1_audit_requests_retrieve"),
    ("/api/v1/audit/requests/{id}/close/", "POST", "v1_audit_requests_close_create"),
    ("/api/v1/audit/requests/{id}/package/", "GET", "v1_audit_requests_package_retrieve"),
    ("/api/v1/audit/incidents/", "GET", "v1_audit_incidents_list"),
    ("/api/v1/audit/incidents/", "POST", "v1_audit_incidents_create"),
    ("/api/v1/audit/incidents/{id}/", "GET", "v1_audit_incidents_retrieve"),
    ("/api/v1/audit/incidents/{id}/", "PATCH", "v1_audit_incidents_partial_update"),
    ("/api/v1/audit/incidents/{id}/contacts/", "GET", "v1_audit_incidents_contacts_list"),
]


@pytest.fixture
def people():
    return company_people()


def test_the_privacy_operations_are_in_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = {
        (path, method.upper(), operation["operationId"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if path.startswith("/api/v1/audit/") and not path.startswith("/api/v1/audit/events")
    }
    assert found == set(OPERATIONS)


@pytest.mark.parametrize("url", PAGES)
def test_pages_refuse_the_anonymous_and_other_roles(client, people, url):
    response = client.get(url)
    # No page for the anonymous: refused, or sent to the sign-in page.
    assert response.status_code == 403 or response.url.startswith("/login/")
    for role in ("owner", "north_manager", "gm", "service", "admin"):
        client.force_login(people[role])
        assert client.get(url).status_code == 403, role


@pytest.mark.parametrize("url", PAGES)
def test_pages_open_for_the_dpo_and_the_auditor(client, people, url):
    for role in ("dpo", "auditor"):
        client.force_login(people[role])
        assert client.get(url).status_code == 200, role


@pytest.mark.parametrize("url", API_LISTS)
def test_api_lists_refuse_the_anonymous_and_other_roles(people, url):
    assert APIClient().get(url).status_code in (401, 403)
    for role in ("owner", "gm", "service", "admin"):
        client = APIClient()
        client.force_authenticate(people[role])
        assert client.get(url).status_code == 403, role
    for role in ("dpo", "auditor"):
        client = APIClient()
        client.force_authenticate(people[role])
        assert client.get(url).status_code == 200, role


def test_the_request_list_costs_a_fixed_number_of_queries(client, people, assert_queries):
    dpo = people["dpo"]
    for _ in range(3):
        subject_requests.subject_request_open(
            actor=dpo, customer=make_customer(people["owner"]), kind="access", details="说明"
        )
    api = APIClient()
    api.force_authenticate(dpo)
    with assert_queries(default=2, keys=1):
        response = api.get("/api/v1/audit/requests/")
    assert response.json()["count"] == 3
    assert response.json()["results"][0]["details"] == "说明"
    client.force_login(dpo)
    with assert_queries(keys=1) as counts:
        assert client.get("/audit/requests/").status_code == 200
    three = counts["default"]
    subject_requests.subject_request_open(
        actor=dpo, customer=make_customer(people["owner"]), kind="access"
    )
    with assert_queries(default=three, keys=1):  # no query per row
        assert client.get("/audit/requests/").status_code == 200


def test_the_dpo_registers_and_closes_a_request_through_the_api(people):
    dpo, auditor = people["dpo"], people["auditor"]
    customer = f.canary_customer(people["owner"])
    api = APIClient()
    api.force_authenticate(auditor)
    created = api.post(
        "/api/v1/audit/requests/", {"customer_code": customer.code, "kind": "access"}
    )
    assert created.status_code == 403
    api.force_authenticate(dpo)
    bad = api.post("/api/v1/audit/requests/", {"customer_code": "NOPE", "kind": "access"})
    assert bad.status_code == 400 and "customer_code" in bad.json()
    created = api.post(
        "/api/v1/audit/requests/", {"customer_code": customer.code, "kind": "access"}
    )
    assert created.status_code == 201
    request_id = created.json()["id"]
    package = api.get(f"/api/v1/audit/requests/{request_id}/package/")
    assert package.status_code == 200
    assert package.json()["categories"]["customers.customer"][0]["name"] == f.CANARY_NAME
    closed = api.post(f"/api/v1/audit/requests/{request_id}/close/", {"outcome": "已提供副本"})
    assert closed.status_code == 200 and closed.json()["status"] == "done"


def test_holds_through_the_api_and_pages(client, people):
    dpo = people["dpo"]
    customer = make_customer(people["owner"])
    api = APIClient()
    api.force_authenticate(dpo)
    assert (
        api.post("/api/v1/audit/legal-holds/", {"customer_code": customer.code}).status_code == 400
    )
    placed = api.post(
        "/api/v1/audit/legal-holds/", {"customer_code": customer.code, "reason": "诉讼"}
    )
    assert placed.status_code == 201
    hold_id = placed.json()["id"]
    lifted = api.post(f"/api/v1/audit/legal-holds/{hold_id}/lift/", {"reason": "结案"})
    assert lifted.status_code == 200 and lifted.json()["is_active"] is False
    client.force_login(dpo)
    response = client.post(
        "/audit/retention/", {"hold-customer_code": customer.code, "hold-reason": "再次"}
    )
    assert response.status_code == 302
    assert LegalHold.objects.filter(lifted_at__isnull=True).count() == 1
    auditor = APIClient()
    auditor.force_authenticate(people["auditor"])
    assert (
        auditor.post(
            "/api/v1/audit/legal-holds/", {"customer_code": customer.code, "reason": "x"}
        ).status_code
        == 403
    )


def test_the_destruction_record_download_is_audited(client, people):
    dpo = people["dpo"]
    record = retention.customer_purge(actor=dpo, customer=make_customer(people["owner"]))
    client.force_login(people["auditor"])
    response = client.get(reverse("audit:destruction-record-download", args=[record.pk]))
    assert response.status_code == 200
    assert response.json()["record_hash"] == record.record_hash
    assert response.json()["hash_matches"] is True
    assert AuditEvent.objects.filter(action=events.DESTRUCTION_RECORD_DOWNLOADED).count() == 1


def test_the_package_pages_download_json_and_xlsx(client, people):
    dpo = people["dpo"]
    customer = make_customer(people["owner"])
    request = subject_requests.subject_request_open(actor=dpo, customer=customer, kind="access")
    client.force_login(dpo)
    assert client.get(f"/audit/requests/{request.pk}/").status_code == 200
    for fmt in ("json", "xlsx"):
        response = client.get(f"/audit/requests/{request.pk}/package.{fmt}")
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
    assert client.get(f"/audit/requests/{request.pk}/package.csv").status_code == 404
    client.force_login(people["auditor"])
    assert client.get(f"/audit/requests/{request.pk}/package.json").status_code == 403


def test_a_deletion_request_page_shows_why_it_is_refused(client, people):
    dpo = people["dpo"]
    customer = make_customer(people["owner"])
    retention.legal_hold_place(actor=dpo, customer=customer, reason="诉讼")
    request = subject_requests.subject_request_open(actor=dpo, customer=customer, kind="deletion")
    client.force_login(dpo)
    page = client.get(f"/audit/requests/{request.pk}/").content.decode()
    assert "legal hold" in page
    response = client.post(f"/audit/requests/{request.pk}/", {"outcome": "删除"})
    assert response.status_code == 200  # the form shows the refusal
    assert SubjectRequest.objects.get(pk=request.pk).status == "open"


def test_the_dpo_edits_policies_and_thresholds_on_the_pages(client, people):
    from audit.models import AlertThreshold, RetentionPolicy

    policy = RetentionPolicy.objects.get(category="customer")
    threshold = AlertThreshold.objects.get(kind="reveal", window="hour")
    client.force_login(people["auditor"])
    assert client.post(f"/audit/retention/policies/{policy.pk}/", {"years": 9}).status_code == 403
    client.force_login(people["dpo"])
    client.post(f"/audit/retention/policies/{policy.pk}/", {"years": 9, "is_active": "on"})
    client.post("/audit/monitoring/", {"threshold": threshold.pk, "limit": 5, "is_active": "on"})
    policy.refresh_from_db()
    threshold.refresh_from_db()
    assert (policy.years, threshold.limit) == (9, 5)
    assert client.get("/audit/retention/?preview=1").status_code == 200


def test_the_dpo_sees_the_privacy_entry_in_the_header(client, people):
    client.force_login(people["dpo"])
    assert "/audit/requests/" in client.get("/").content.decode()
    client.force_login(UserFactory(role=roles.SALES_REP))
    assert "/audit/requests/" not in client.get("/").content.decode()
