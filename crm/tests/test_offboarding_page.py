"""The deactivate page's choice of successor, its help text and the hand-over's reason
(``crm.offboarding``, ``crm.services.user_deactivate``)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from complaints import services as complaint_services
from complaints.tests.factories import make_complaint, service_manager, service_staff
from crm import roles, services
from crm.fields import change_reason_of
from crm.tests.factories import UserFactory
from customers.models import Customer
from customers.tests.factories import company_people, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return company_people()


@pytest.fixture
def admin_client(cast):
    client = Client()
    client.force_login(cast["admin"])
    return client


def page_of(client, user) -> str:
    return client.get(reverse("users:deactivate", args=[user.pk])).content.decode()


def offered(page: str) -> set[int]:
    select = re.search(r'<select name="successor".*?</select>', page, re.S)
    if select is None:
        return set()
    return {int(pk) for pk in re.findall(r'<option value="(\d+)"', select.group(0))}


def help_of(page: str) -> str:
    match = re.search(r'<select name="successor".*?<div class="form-text">(.*?)</div>', page, re.S)
    return match.group(1) if match else ""


def assigned(manager, user):
    complaint = make_complaint(actor=manager)
    return complaint_services.complaint_assign(
        actor=manager, complaint_id=complaint.pk, assignee=user
    )


def deactivated(user) -> AuditEvent:
    return AuditEvent.objects.get(action="user.deactivated", object_id=str(user.pk))


# --- who may succeed ------------------------------------------------------------------------


def test_a_team_manager_holding_nothing_is_offered_only_the_sales_managers(admin_client, cast):
    leaving = cast["north_manager"]
    UserFactory(role=roles.SALES_MANAGER, is_active=False)
    page = page_of(admin_client, leaving)
    # Not the DPO, auditor, admin, GM, service staff or reps: they cannot take the team.
    assert offered(page) == {cast["south_manager"].pk}
    tag = re.search(r'<select name="successor"[^>]*>', page).group(0)
    assert " required" not in tag  # optional: without one the team has no manager


def test_a_team_manager_holding_cards_needs_a_sales_manager(admin_client, cast):
    leaving, north = cast["north_manager"], cast["north_manager"].team
    card = make_customer(leaving)
    page = page_of(admin_client, leaving)
    assert offered(page) == {cast["south_manager"].pk}
    assert " required" in re.search(r'<select name="successor"[^>]*>', page).group(0)

    response = admin_client.post(
        reverse("users:deactivate", args=[leaving.pk]), {"successor": cast["north_rep"].pk}
    )
    assert response.status_code == 400
    with pytest.raises(ValidationError) as refused:
        services.user_deactivate(actor=cast["admin"], user=leaving, successor=cast["north_rep"])
    assert "successor" in refused.value.error_dict
    leaving.refresh_from_db()
    card.refresh_from_db()
    north.refresh_from_db()
    assert (leaving.is_active, card.owner_id, north.manager_id) == (True, leaving.pk, leaving.pk)

    successor = cast["south_manager"]
    response = admin_client.post(
        reverse("users:deactivate", args=[leaving.pk]), {"successor": successor.pk}
    )
    assert response.status_code == 302
    card.refresh_from_db()
    north.refresh_from_db()
    assert (card.owner_id, north.manager_id) == (successor.pk, successor.pk)
    event = deactivated(leaving)
    assert (event.data["successor_id"], event.data["teams_manager_id"]) == (
        successor.pk,
        successor.pk,
    )
    assert event.data["handed_over"] == 1


def test_a_team_manager_holding_nothing_may_not_name_a_non_manager(admin_client, cast):
    leaving, north = cast["north_manager"], cast["north_manager"].team
    response = admin_client.post(
        reverse("users:deactivate", args=[leaving.pk]), {"successor": cast["dpo"].pk}
    )
    assert response.status_code == 400
    with pytest.raises(ValidationError):
        services.user_deactivate(actor=cast["admin"], user=leaving, successor=cast["north_rep"])
    leaving.refresh_from_db()
    north.refresh_from_db()
    assert (leaving.is_active, north.manager_id) == (True, leaving.pk)


def test_a_user_holding_nothing_and_managing_nothing_needs_no_successor(admin_client, cast):
    leaving = cast["auditor"]
    page = page_of(admin_client, leaving)
    assert "This user holds nothing and manages no team: no successor is needed." in page
    assert 'name="successor"' not in page
    response = admin_client.post(
        reverse("users:deactivate", args=[leaving.pk]), {"successor": cast["dpo"].pk}
    )
    assert response.status_code == 302
    event = deactivated(leaving)
    assert (event.data["successor_id"], event.data["handed_over"]) == (None, 0)


def test_the_page_says_when_nobody_may_take_everything_over(admin_client, cast):
    leaving = cast["north_manager"]
    make_customer(leaving)
    cast["south_manager"].is_active = False
    cast["south_manager"].save(update_fields=["is_active"])
    page = page_of(admin_client, leaving)
    assert offered(page) == set()
    assert "No active user may take over all of this" in page


# --- the help text says what this user holds ------------------------------------------------


def test_the_help_text_of_service_staff_names_only_their_complaints(admin_client, cast):
    manager, leaving = service_manager(), service_staff()
    colleague = service_staff()
    for _ in range(4):
        assigned(manager, leaving)
    page = page_of(admin_client, leaving)
    assert help_of(page) == (
        "Who may take over what this user holds: "
        "4 open complaints: service staff or the service manager."
    )
    assert offered(page) == {manager.pk, colleague.pk, cast["service"].pk}


def test_the_help_text_of_a_manager_names_their_cards_and_team(admin_client, cast):
    leaving = cast["north_manager"]
    make_customer(leaving)
    assert help_of(page_of(admin_client, leaving)) == (
        "Who may take over what this user holds: 1 customer card: a sales rep or a sales "
        "manager; the team North: a sales manager."
    )


def test_the_help_text_of_a_rep_names_their_cards(admin_client, cast):
    leaving = cast["owner"]
    for _ in range(3):
        make_customer(leaving)
    page = page_of(admin_client, leaving)
    assert help_of(page) == (
        "Who may take over what this user holds: 3 customer cards: a sales rep or a sales manager."
    )
    assert " his " not in page and "He " not in page


# --- the reason of the hand-over ------------------------------------------------------------


def test_without_a_reason_no_sentence_is_stored_with_the_handed_over_cards(admin_client, cast):
    leaving, successor = cast["owner"], cast["north_rep"]
    card = make_customer(leaving)
    response = admin_client.post(
        reverse("users:deactivate", args=[leaving.pk]), {"successor": successor.pk, "reason": ""}
    )
    assert response.status_code == 302
    record = Customer.history.filter(id=card.pk).order_by("-history_id").first()
    assert record.owner_id == successor.pk
    assert change_reason_of(record) != "user deactivated"
    (handed,) = AuditEvent.objects.filter(action="customers.handed_over")
    assert handed.reason == ""
    assert deactivated(leaving).reason == ""


def test_the_reason_given_goes_with_the_cards_complaints_and_events(admin_client, cast):
    leaving, successor = cast["owner"], cast["north_rep"]
    card = make_customer(leaving)
    response = admin_client.post(
        reverse("users:deactivate", args=[leaving.pk]),
        {"successor": successor.pk, "reason": "  离职交接  "},
    )
    assert response.status_code == 302
    record = Customer.history.filter(id=card.pk).order_by("-history_id").first()
    assert (record.owner_id, change_reason_of(record)) == (successor.pk, "离职交接")
    (handed,) = AuditEvent.objects.filter(action="customers.handed_over")
    assert handed.reason == "离职交接"
    assert deactivated(leaving).reason == "离职交接"


def test_the_reason_goes_with_the_complaints(cast):
    manager, leaving, successor = service_manager(), service_staff(), service_staff()
    complaint = assigned(manager, leaving)
    services.user_deactivate(actor=cast["admin"], user=leaving, successor=successor, reason="调岗")
    record = complaint.history.order_by("-history_id").first()
    assert (record.assignee_id, change_reason_of(record)) == (successor.pk, "调岗")
