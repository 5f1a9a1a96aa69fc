"""Defects of the complaint pages found in a walk-through: the board's assignee and overdue
filters, names instead of logins and status labels instead of codes on a complaint, the
look-up purposes in the audit console."""

import re

import pytest
from django.urls import reverse

from audit import events as audit_events
from complaints import services
from complaints.filters import ComplaintFilter
from complaints.forms import LOOKUP_PURPOSE_CHOICES, AssignForm
from complaints.models import Complaint
from complaints.tests.factories import aware, make_complaint, service_manager, service_staff
from crm import roles
from crm.tests.factories import UserFactory
from customers.tests.factories import api_client_for

pytestmark = pytest.mark.django_db


def counts(html: str) -> dict[str, int]:
    return {
        status: int(number) for status, number in re.findall(r'id="count-([a-z_]+)">(\d+)<', html)
    }


def select_options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)


@pytest.fixture
def queue():
    """A manager, two service staff (王颖 and 李强), a sales rep; three complaints: one for
    王颖, one for 李强, one unassigned."""
    manager = service_manager(username="svc_manager", first_name="敏", last_name="周")
    wang = service_staff(username="service1", first_name="颖", last_name="王")
    li = service_staff(username="service2", first_name="强", last_name="李")
    UserFactory(role=roles.SALES_REP, username="rep1", first_name="军", last_name="孙")
    complaints = [make_complaint(actor=manager) for _ in range(3)]
    services.complaint_assign(actor=manager, complaint_id=complaints[0].pk, assignee=wang)
    services.complaint_assign(actor=manager, complaint_id=complaints[1].pk, assignee=li)
    return manager, wang, li, complaints


# --- 1. the assignee filter -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["王颖", "service1", "1.5", "-1", "99999999999999999999", " "])
def test_board_ignores_an_assignee_that_is_not_a_choice(client, queue, value):
    client.force_login(queue[0])
    response = client.get(reverse("complaints:board"), {"assignee": value})
    assert response.status_code == 200
    assert counts(response.content.decode())["received"] == 3


def test_board_ignores_a_bad_assignee_but_keeps_the_other_filters(client, queue):
    manager = queue[0]
    make_complaint(actor=manager, severity="low")
    client.force_login(manager)
    html = client.get(
        reverse("complaints:board"), {"assignee": "王颖", "severity": "low"}
    ).content.decode()
    assert counts(html)["received"] == 1


def test_board_filters_by_assignee_and_unassigned(client, queue):
    manager, wang, li, _complaints = queue
    client.force_login(manager)
    board = reverse("complaints:board")
    assert counts(client.get(board, {"assignee": wang.pk}).content.decode())["received"] == 1
    assert counts(client.get(board, {"assignee": "none"}).content.decode())["received"] == 1
    # A user who does not handle complaints is not a choice: no filter.
    rep = UserFactory(role=roles.SALES_REP)
    assert counts(client.get(board, {"assignee": rep.pk}).content.decode())["received"] == 3


def test_board_assignee_filter_is_a_select_of_handlers_by_name(client, queue):
    manager, wang, li, _complaints = queue
    client.force_login(manager)
    html = client.get(reverse("complaints:board"), {"assignee": li.pk}).content.decode()
    options = select_options(html, "assignee")
    assert options == [
        ("", "---------"),
        ("none", "Unassigned"),
        (str(wang.pk), "王颖"),
        (str(li.pk), "李强"),
        (str(manager.pk), "周敏"),
    ]
    assert re.search(rf'<option value="{li.pk}" selected>李强</option>', html)
    assert "A user id, or none." not in html
    assert ComplaintFilter.base_filters["assignee"].extra.get("help_text") is None


@pytest.mark.parametrize("value", ["王颖", "service1", "99999999999999999999"])
def test_api_ignores_an_assignee_that_is_not_a_choice(queue, value):
    client = api_client_for(queue[0])
    response = client.get("/api/v1/complaints/", {"assignee": value})
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_api_filters_by_assignee_id_and_none(queue):
    manager, wang, li, complaints = queue
    client = api_client_for(manager)
    rows = client.get("/api/v1/complaints/", {"assignee": wang.pk}).json()["results"]
    assert [row["code"] for row in rows] == [complaints[0].code]
    rows = client.get("/api/v1/complaints/", {"assignee": "none"}).json()["results"]
    assert [row["code"] for row in rows] == [complaints[2].code]


# --- 2. names and status labels on a complaint ------------------------------------------------


def test_complaint_page_shows_names_and_status_labels_not_logins_or_codes(client, queue):
    manager, wang, _li, complaints = queue
    complaint = complaints[0]
    services.complaint_transition(actor=wang, complaint_id=complaint.pk, to="investigating")
    client.force_login(manager)
    html = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "· 周敏</dd>" in html  # received by
    assert '<dd class="col-sm-8">王颖</dd>' in html  # assignee
    assert "→ 王颖 · 周敏" in html  # the assignment on the timeline
    assert ": Received · 周敏" in html and ": Investigating · 王颖" in html
    for login in ("svc_manager", "service1", "service2"):
        assert login not in html
    assert ": received" not in html and ": investigating" not in html
    options = select_options(html, "user")
    assert (str(wang.pk), "王颖") in options
    assert not [label for _value, label in options if label.startswith("service")]


def test_assign_form_labels_users_by_name_and_falls_back_to_the_login(queue):
    nameless = service_staff(username="service9", first_name="", last_name="")
    labels = {value: label for value, label in AssignForm().fields["user"].choices if value != ""}
    assert labels[queue[1].pk] == "王颖"
    assert labels[nameless.pk] == "service9"


def test_complaint_page_queries_do_not_grow_with_the_timeline(client, queue, assert_queries):
    manager, wang, li, complaints = queue
    complaint = complaints[0]
    client.force_login(manager)
    url = reverse("complaints:detail", args=[complaint.pk])
    client.get(url)
    with assert_queries(keys=1) as before:
        client.get(url)
    services.complaint_transition(actor=wang, complaint_id=complaint.pk, to="investigating")
    services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=li)
    services.complaint_note_add(actor=li, complaint_id=complaint.pk, note="已回电")
    with assert_queries(default=before["default"], keys=1):
        html = client.get(url).content.decode()
    assert "→ 李强 · 周敏" in html


# --- 3. look-up purposes in the audit console -------------------------------------------------


def test_lookup_purposes_are_registered_with_their_labels():
    assert [code for code, _label in LOOKUP_PURPOSE_CHOICES] == list(services.LOOKUP_PURPOSES)
    assert audit_events.purpose_label("log_complaint") == "Log a complaint"
    assert audit_events.purpose_label("complaint_handling") == "Complaint handling"
    assert audit_events.purpose_label("inquiry") == "Answer an inquiry"


def test_audit_console_shows_the_lookup_purpose_label(client):
    make_complaint()  # looked up by code, purpose "log_complaint"
    client.force_login(UserFactory(role=roles.AUDITOR))
    html = client.get(reverse("audit:event-list")).content.decode()
    assert html.count('border">Log a complaint</span>') == 1
    assert "log_complaint" not in html


# --- 4. the overdue filter --------------------------------------------------------------------


def test_board_overdue_filter_defaults_to_any(client, queue):
    manager = queue[0]
    client.force_login(manager)
    html = client.get(reverse("complaints:board")).content.decode()
    assert select_options(html, "overdue") == [("", "Any"), ("true", "Yes"), ("false", "No")]
    assert "Unknown" not in html


def test_board_and_api_overdue_filter(client, queue):
    manager = queue[0]
    make_complaint(actor=manager, received_at=aware("2026-01-05 09:00"))
    client.force_login(manager)
    board = reverse("complaints:board")
    html = client.get(board, {"overdue": "true"}).content.decode()
    assert counts(html)["received"] == 1
    assert re.search(r'<option value="true" selected>Yes</option>', html)
    assert counts(client.get(board, {"overdue": "false"}).content.decode())["received"] == 3
    assert counts(client.get(board, {"overdue": "maybe"}).content.decode())["received"] == 4
    api = api_client_for(manager)
    assert api.get("/api/v1/complaints/", {"overdue": "true"}).json()["count"] == 1
    assert api.get("/api/v1/complaints/", {"overdue": "false"}).json()["count"] == 3
    assert Complaint.objects.count() == 4
