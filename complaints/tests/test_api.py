"""``/api/v1/complaints/…``: the contract, each endpoint for anonymous, the roles that may
not and the role that may, exact query counts on the list and the report."""

import datetime

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from complaints import services
from complaints.models import CalendarDay, Complaint
from complaints.tests.factories import aware, make_complaint, service_manager, service_staff
from crm import roles
from crm.tests.factories import UserFactory
from customers.tests.factories import api_client_for, make_customer

pytestmark = pytest.mark.django_db

OPERATIONS = [
    ("/api/v1/complaints/", "GET", "v1_complaints_list"),
    ("/api/v1/complaints/", "POST", "v1_complaints_create"),
    ("/api/v1/complaints/calendar/days/{day}/", "GET", "v1_complaints_calendar_days_retrieve"),
    ("/api/v1/complaints/calendar/days/{day}/", "PUT", "v1_complaints_calendar_days_update"),
    ("/api/v1/complaints/calendar/days/{day}/", "DELETE", "v1_complaints_calendar_days_destroy"),
    ("/api/v1/complaints/calendar/due/", "GET", "v1_complaints_calendar_due_retrieve"),
    ("/api/v1/complaints/lookup/", "POST", "v1_complaints_lookup_create"),
    ("/api/v1/complaints/reports/", "GET", "v1_complaints_reports_retrieve"),
    ("/api/v1/complaints/{id}/", "GET", "v1_complaints_retrieve"),
    ("/api/v1/complaints/{id}/assign/", "POST", "v1_complaints_assign_create"),
    ("/api/v1/complaints/{id}/link/", "POST", "v1_complaints_link_create"),
    ("/api/v1/complaints/{id}/notes/", "GET", "v1_complaints_notes_list"),
    ("/api/v1/complaints/{id}/notes/", "POST", "v1_complaints_notes_create"),
    ("/api/v1/complaints/{id}/return-visit/", "POST", "v1_complaints_return_visit_create"),
    ("/api/v1/complaints/{id}/reveal/", "POST", "v1_complaints_reveal_create"),
    ("/api/v1/complaints/{id}/transition/", "POST", "v1_complaints_transition_create"),
]
URLS = [
    ("/api/v1/complaints/", "complaint-list"),
    ("/api/v1/complaints/7/", "complaint-detail"),
    ("/api/v1/complaints/7/transition/", "complaint-transition"),
    ("/api/v1/complaints/7/assign/", "complaint-assign"),
    ("/api/v1/complaints/calendar/due/", "complaint-calendar-due"),
    ("/api/v1/complaints/calendar/days/2026-10-01/", "complaint-calendar-day"),
]


def test_the_contract_operations_exist():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        (path, method.upper(), item[method]["operationId"])
        for path, item in schema["paths"].items()
        for method in ("get", "post", "put", "patch", "delete")
        if method in item
    ]
    assert [op for op in OPERATIONS if op not in operations] == []


@pytest.mark.parametrize(("path", "name"), URLS)
def test_urls_resolve(path, name):
    assert resolve(path).url_name == name


def body(**overrides):
    return {
        "channel": "phone",
        "category": "delivery",
        "severity": "medium",
        "description": "货物破损",
        "received_at": "2026-11-25T09:00:00+08:00",
        **overrides,
    }


# --- receipt ----------------------------------------------------------------------------


def test_create_answers_the_contract_fields():
    staff = service_staff()
    customer = make_customer()
    services.caller_lookup(actor=staff, by="code", value=customer.code, purpose="log_complaint")
    response = api_client_for(staff).post(
        "/api/v1/complaints/", body(customer=customer.pk), format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert {"id", "code", "status", "first_response_due", "resolution_due"} <= set(data)
    assert data["status"] == "received"
    assert data["first_response_due"] == "2026-11-25T18:00:00+08:00"
    assert data["resolution_due"] == "2026-12-01T18:00:00+08:00"


def test_create_for_a_caller_and_bad_input():
    client = api_client_for(service_staff())
    response = client.post(
        "/api/v1/complaints/", body(caller_name="王五", caller_phone="13911112222"), format="json"
    )
    assert response.status_code == 201
    bad = client.post("/api/v1/complaints/", body(severity="urgent", category="x"), format="json")
    assert bad.status_code == 400 and {"severity", "category"} <= set(bad.json())
    none = client.post("/api/v1/complaints/", body(), format="json")
    assert none.status_code == 400 and "customer" in none.json()


def test_create_for_a_customer_not_seen_is_404():
    customer = make_customer()
    response = api_client_for(service_staff()).post(
        "/api/v1/complaints/", body(customer=customer.pk), format="json"
    )
    assert response.status_code == 404
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (roles.SALES_REP, 403),
        (roles.SALES_MANAGER, 403),
        (roles.AUDITOR, 403),
        (roles.DPO, 403),
        (roles.ADMIN, 403),
        (roles.SERVICE_STAFF, 201),
        (roles.SERVICE_MANAGER, 201),
    ],
)
def test_who_logs_complaints(role, status):
    response = api_client_for(UserFactory(role=role)).post(
        "/api/v1/complaints/", body(caller_name="王五"), format="json"
    )
    assert response.status_code == status


def test_anonymous_gets_401_everywhere():
    client = APIClient()
    assert client.get("/api/v1/complaints/").status_code == 401
    assert client.post("/api/v1/complaints/", body(), format="json").status_code == 401
    assert client.post("/api/v1/complaints/1/transition/", {"to": "closed"}).status_code == 401
    assert client.post("/api/v1/complaints/1/assign/", {"user": 1}).status_code == 401
    assert client.get("/api/v1/complaints/calendar/due/?start=x&hours=1").status_code == 401
    assert client.put("/api/v1/complaints/calendar/days/2026-10-01/", {}).status_code == 401
    assert client.post("/api/v1/complaints/lookup/", {}).status_code == 401
    assert client.get("/api/v1/complaints/reports/").status_code == 401


# --- list, detail, moves, assignment ---------------------------------------------------------


def test_list_filters_and_query_count(assert_queries):
    manager = service_manager()
    for n in range(3):
        make_complaint(actor=manager, received_at=aware(f"2026-01-0{n + 5} 09:00"))
    make_complaint(actor=manager, severity="low")
    client = api_client_for(manager)
    with assert_queries(default=2, keys=1):
        response = client.get("/api/v1/complaints/?status=received&overdue=true")
    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert all(row["overdue"] for row in response.json()["results"])
    assert client.get("/api/v1/complaints/?severity=low").json()["count"] == 1


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.ADMIN])
def test_roles_without_complaints_cannot_list(role):
    assert api_client_for(UserFactory(role=role)).get("/api/v1/complaints/").status_code in (
        200,
        403,
    )
    if role == roles.ADMIN:
        assert api_client_for(UserFactory(role=role)).get("/api/v1/complaints/").status_code == 403


def test_rep_sees_only_his_customers_complaints():
    complaint = make_complaint()
    other = make_complaint()
    client = api_client_for(complaint.customer.owner)
    assert [row["id"] for row in client.get("/api/v1/complaints/").json()["results"]] == [
        complaint.pk
    ]
    assert client.get(f"/api/v1/complaints/{other.pk}/").status_code == 404
    detail = client.get(f"/api/v1/complaints/{complaint.pk}/").json()
    assert detail["caller_name"] == "" and detail["description"] == "货物破损，客户要求退换。"


def test_transition_illegal_move_is_400_with_a_message():
    staff = service_staff()
    complaint = make_complaint(actor=staff)
    client = api_client_for(staff)
    response = client.post(
        f"/api/v1/complaints/{complaint.pk}/transition/", {"to": "closed"}, format="json"
    )
    assert response.status_code == 400
    assert "cannot move" in response.json()["to"][0]
    ok = client.post(
        f"/api/v1/complaints/{complaint.pk}/transition/",
        {"to": "investigating", "note": "已联系客户"},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["status"] == "investigating"
    stale = client.post(
        f"/api/v1/complaints/{complaint.pk}/transition/",
        {"to": "resolved", "resolution": "换货", "version": 1},
        format="json",
    )
    assert stale.status_code == 409


def test_transition_by_another_staff_member_is_404_or_403():
    manager, staff, other = service_manager(), service_staff(), service_staff()
    complaint = make_complaint(actor=manager)
    services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=staff)
    response = api_client_for(other).post(
        f"/api/v1/complaints/{complaint.pk}/transition/", {"to": "investigating"}, format="json"
    )
    assert response.status_code == 404
    rep = complaint.customer.owner
    response = api_client_for(rep).post(
        f"/api/v1/complaints/{complaint.pk}/transition/", {"to": "investigating"}, format="json"
    )
    assert response.status_code == 403
    assert Complaint.objects.get(pk=complaint.pk).status == "received"


def test_assign_by_the_service_manager_only():
    manager, staff = service_manager(), service_staff()
    complaint = make_complaint(actor=manager)
    denied = api_client_for(service_staff()).post(
        f"/api/v1/complaints/{complaint.pk}/assign/", {"user": staff.pk}, format="json"
    )
    assert denied.status_code == 403
    response = api_client_for(manager).post(
        f"/api/v1/complaints/{complaint.pk}/assign/", {"user": staff.username}, format="json"
    )
    assert response.status_code == 200 and response.json()["assignee"] == staff.pk
    unknown = api_client_for(manager).post(
        f"/api/v1/complaints/{complaint.pk}/assign/", {"user": "nobody"}, format="json"
    )
    assert unknown.status_code == 400


def test_notes_return_visit_reveal_and_link():
    staff = service_staff()
    complaint = make_complaint(actor=staff, caller=True)
    client = api_client_for(staff)
    assert (
        client.post(
            f"/api/v1/complaints/{complaint.pk}/notes/", {"note": "已回电"}, format="json"
        ).status_code
        == 201
    )
    notes = client.get(f"/api/v1/complaints/{complaint.pk}/notes/").json()
    assert [n["kind"] for n in notes] == ["received", "note"] and notes[1]["note"] == "已回电"
    revealed = client.post(f"/api/v1/complaints/{complaint.pk}/reveal/", {}, format="json")
    assert revealed.json() == {"caller_name": "李四", "caller_phone": "13912345678"}
    early = client.post(
        f"/api/v1/complaints/{complaint.pk}/return-visit/", {"outcome": "satisfied"}, format="json"
    )
    assert early.status_code == 400
    customer = make_customer()
    assert (
        client.post(
            f"/api/v1/complaints/{complaint.pk}/link/", {"customer": customer.pk}, format="json"
        ).status_code
        == 404
    )
    client.post(
        "/api/v1/complaints/lookup/",
        {"by": "code", "value": customer.code, "purpose": "complaint_handling"},
        format="json",
    )
    linked = client.post(
        f"/api/v1/complaints/{complaint.pk}/link/", {"customer": customer.pk}, format="json"
    )
    assert linked.status_code == 200 and linked.json()["customer"] == customer.pk


# --- look-up ------------------------------------------------------------------------------


def test_lookup_answers_the_masked_summary():
    customer = make_customer(phone="13600136000", name="张明华")
    client = api_client_for(service_staff())
    response = client.post(
        "/api/v1/complaints/lookup/",
        {"by": "phone", "value": "13600136000", "purpose": "log_complaint"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["code"] == customer.code
    assert response.json()["phone"] == "136****6000" and response.json()["name"] == "张*华"
    missing = client.post(
        "/api/v1/complaints/lookup/",
        {"by": "phone", "value": "13600136001", "purpose": "log_complaint"},
        format="json",
    )
    assert missing.status_code == 404
    name = client.post(
        "/api/v1/complaints/lookup/",
        {"by": "name", "value": "张明", "purpose": "log_complaint"},
        format="json",
    )
    assert name.status_code == 400
    for role in (roles.SALES_REP, roles.AUDITOR, roles.ADMIN):
        assert (
            api_client_for(UserFactory(role=role))
            .post(
                "/api/v1/complaints/lookup/",
                {"by": "code", "value": customer.code, "purpose": "log_complaint"},
                format="json",
            )
            .status_code
            == 403
        )


# --- calendar -----------------------------------------------------------------------------


def test_calendar_due_and_days():
    admin = UserFactory(role=roles.ADMIN)
    client = api_client_for(admin)
    put = client.put(
        "/api/v1/complaints/calendar/days/2026-11-27/",
        {"kind": "holiday", "name": "公司假日"},
        format="json",
    )
    assert put.status_code == 200 and CalendarDay.objects.get().kind == "holiday"
    staff_client = api_client_for(service_staff())
    due = staff_client.get(
        "/api/v1/complaints/calendar/due/", {"start": "2026-11-26T17:00:00+08:00", "hours": "2"}
    )
    assert due.status_code == 200
    assert due.json() == {"due": "2026-11-30T10:00:00+08:00"}
    assert client.delete("/api/v1/complaints/calendar/days/2026-11-27/").status_code == 204
    assert client.delete("/api/v1/complaints/calendar/days/2026-11-27/").status_code == 404
    due = staff_client.get(
        "/api/v1/complaints/calendar/due/", {"start": "2026-11-26T17:00:00+08:00", "hours": "2"}
    )
    assert due.json() == {"due": "2026-11-27T10:00:00+08:00"}
    bad = staff_client.get("/api/v1/complaints/calendar/due/", {"start": "soon", "hours": "x"})
    assert bad.status_code == 400 and {"start", "hours"} <= set(bad.json())
    assert (
        client.put(
            "/api/v1/complaints/calendar/days/2026-13-01/", {"kind": "holiday"}, format="json"
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "role", [roles.SERVICE_STAFF, roles.SERVICE_MANAGER, roles.SALES_REP, roles.GENERAL_MANAGER]
)
def test_only_the_admin_enters_calendar_days(role):
    client = api_client_for(UserFactory(role=role))
    response = client.put(
        "/api/v1/complaints/calendar/days/2026-10-01/", {"kind": "holiday"}, format="json"
    )
    assert response.status_code == 403
    assert client.delete("/api/v1/complaints/calendar/days/2026-10-01/").status_code == 403
    assert not CalendarDay.objects.exists()


# --- reports ------------------------------------------------------------------------------


def test_report_permissions_and_query_count(assert_queries):
    make_complaint()
    for role in (roles.SERVICE_STAFF, roles.SALES_REP, roles.ADMIN):
        assert (
            api_client_for(UserFactory(role=role)).get("/api/v1/complaints/reports/").status_code
            == 403
        )
    client = api_client_for(service_manager())
    with assert_queries(default=13, keys=0):  # 11 for the complaints, 2 for the surveys
        response = client.get("/api/v1/complaints/reports/?start=2020-01-01&period=week")
    assert response.status_code == 200 and response.json()["total"] == 1
    assert response.json()["surveys"]["invited"] == 0


def test_received_at_is_aware_in_the_answer():
    staff = service_staff()
    response = api_client_for(staff).post(
        "/api/v1/complaints/", body(caller_name="王五"), format="json"
    )
    complaint = Complaint.objects.get(pk=response.json()["id"])
    assert complaint.received_at == datetime.datetime.fromisoformat("2026-11-25T09:00:00+08:00")
