"""The audit console (issue 12 items 1 and 2): pickers, presets, customer links, flags in SQL,
"who saw my data", audited exports, the chain's state, exact query counts."""

from __future__ import annotations

import csv
import datetime
import io
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse

from audit import events
from audit.models import AuditEvent
from audit.services import record_event
from customers import services
from customers.models import Customer
from customers.tests.factories import company_people, make_customer

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 3, 10)  # a Tuesday
CONSOLE = "/audit/events/"
OTHER_ROLES = ("owner", "north_manager", "gm", "service", "admin")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def event_at(moment, **kwargs) -> AuditEvent:
    """An event written at ``moment`` (the trail is append-only: it cannot be moved later)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return record_event(**kwargs)


def rows(response) -> int:
    return response.content.decode().count("data-event-row")


@pytest.fixture
def people():
    return company_people()


@pytest.fixture
def customer(people):
    return make_customer(people["owner"])


def _login(client, user):
    client.force_login(user)
    return client


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [CONSOLE, "/audit/events/export.csv", "/audit/events/export.xlsx"])
def test_console_and_export_are_for_the_dpo_and_the_auditor_only(client, people, customer, url):
    accesses = f"/audit/customers/{customer.code}/accesses/"
    for role in ("dpo", "auditor"):
        _login(client, people[role])
        assert client.get(url).status_code == 200, role
        assert client.get(accesses).status_code == 200, role
    exported = AuditEvent.objects.filter(action=events.AUDIT_EVENTS_EXPORTED).count()
    for role in OTHER_ROLES:
        _login(client, people[role])
        assert client.get(url).status_code == 403, role
        assert client.get(accesses).status_code == 403, role
    # A refused export leaves no export event.
    assert AuditEvent.objects.filter(action=events.AUDIT_EVENTS_EXPORTED).count() == exported
    client.logout()
    response = client.get(url)
    assert response.status_code == 403 or response.url.startswith("/login/")


def test_who_saw_an_unknown_customer_is_404(client, people):
    _login(client, people["dpo"])
    assert client.get("/audit/customers/NOPE-1/accesses/").status_code == 404


# --- pickers and filters ---------------------------------------------------------------------


def test_pickers_show_users_under_translated_roles_and_labelled_event_types(client, people):
    owner = people["owner"]
    owner.first_name, owner.last_name = "军", "孙"
    owner.save(update_fields=["first_name", "last_name"])
    people["dpo"].first_name = people["dpo"].last_name = ""
    people["dpo"].save(update_fields=["first_name", "last_name"])
    _login(client, people["dpo"])
    html = client.get(CONSOLE).content.decode()
    assert '<optgroup label="Sales rep">' in html
    # Known by name, with the login the trail records; a user without a name by his login.
    assert f'<option value="{owner.pk}">孙军 ({owner.username})</option>' in html
    assert f'<option value="{people["dpo"].pk}">{people["dpo"].username}</option>' in html
    assert '<option value="customers.viewed">Customer card viewed</option>' in html
    assert '<option value="customers.">All: Customers</option>' in html
    assert '<option value="today">Today</option>' in html
    assert '<option value="last_month">Last month</option>' in html

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(CONSOLE).content.decode()
    assert '<optgroup label="销售代表">' in html
    assert '<option value="customers.viewed">已查看客户档案</option>' in html


def test_filters_by_actor_action_area_object_and_customer(client, people, customer):
    other = make_customer(people["owner"])
    owner, south = people["owner"], people["south_rep"]
    interaction = services.interaction_log(
        actor=owner, customer=customer, kind="call", summary="called"
    )
    record_event(action="customers.viewed", actor=owner, obj=customer)
    record_event(action="customers.viewed", actor=south, obj=customer)
    record_event(action="customers.viewed", actor=south, obj=other)
    record_event(action="customers.revealed", actor=owner, obj=customer, data={"purpose": "x"})
    record_event(action="complaints.viewed", actor=south, obj=interaction)  # under its key
    _login(client, people["auditor"])

    def count(**query):
        return rows(client.get(CONSOLE, query))

    assert count(actor=south.pk) == 3
    assert count(actor=south.pk, action="customers.viewed") == 2
    assert (
        count(action="customers.")
        == AuditEvent.objects.filter(action__startswith="customers.").count()
    )
    assert count(object_type="customers.customer", object_id=str(other.pk)) == 2  # created, viewed
    # The customer's code: the card's events and its records' (under its data key).
    about = AuditEvent.objects.filter(subject_key_id=customer.data_key_id).count()
    assert about == 6  # created, interaction logged, 2 views, reveal, complaint view
    assert count(customer=customer.code.lower()) == about
    response = client.get(CONSOLE, {"customer": customer.code})
    assert reverse("audit:customer-accesses", args=[customer.code]) in response.content.decode()
    assert count(customer="NO-SUCH-CODE") == 0
    # A code typed by hand is refused: the picker's values only.
    bad = client.get(CONSOLE, {"action": "made.up"})
    assert "Select a valid choice" in bad.content.decode()


def test_rows_show_the_customer_code_linked_to_the_card(client, people, customer):
    interaction = services.interaction_log(
        actor=people["owner"], customer=customer, kind="call", summary="called"
    )
    record_event(action="complaints.viewed", actor=people["service"], obj=interaction)
    _login(client, people["dpo"])
    html = client.get(CONSOLE, {"action": "complaints.viewed"}).content.decode()
    assert f'<a href="/customers/{customer.pk}/">{customer.code}</a>' in html


@mock.patch("django.utils.timezone.localdate", return_value=TODAY)
def test_date_presets_and_range(_today, client, people):
    user = people["owner"]
    for moment in (
        at(2026, 3, 10, 10),  # today
        at(2026, 3, 5, 10),  # last 7 days (4–10 March)
        at(2026, 3, 2, 10),  # this month
        at(2026, 2, 15, 10),  # last month
        at(2026, 1, 31, 23, 30),  # before
    ):
        event_at(moment, action="customers.exported", actor=user)
    _login(client, people["dpo"])

    def count(**query):
        return rows(client.get(CONSOLE, {"actor": user.pk, **query}))

    assert count(period="today") == 1
    assert count(period="last_7_days") == 2
    assert count(period="this_month") == 3
    assert count(period="last_month") == 1
    assert count(since="2026-02-01", until="2026-03-02") == 2  # the last day included
    assert count(until="2026-01-31") == 1


# --- flags (SQL) -----------------------------------------------------------------------------


def test_after_hours_and_outside_team_are_flagged_and_filterable(client, people, customer):
    north_rep, south_rep, service = people["north_rep"], people["south_rep"], people["service"]
    interaction = services.interaction_log(
        actor=people["owner"], customer=customer, kind="call", summary="called"
    )
    tuesday_day, tuesday_night, saturday = (
        at(2026, 3, 10, 10),
        at(2026, 3, 10, 22),
        at(2026, 3, 7, 10),
    )
    cases = [
        (tuesday_day, people["owner"], customer, False, False),
        (tuesday_day, people["north_manager"], customer, False, False),
        (tuesday_day, north_rep, customer, False, False),  # the owner's team
        (tuesday_day, people["gm"], customer, False, False),  # overseeing role
        (tuesday_day, south_rep, customer, False, True),
        (tuesday_day, service, interaction, False, True),  # a record, under the card's key
        (tuesday_night, people["owner"], customer, True, False),
        (saturday, people["north_manager"], customer, True, False),
        (tuesday_night, south_rep, customer, True, True),
    ]
    written = []
    for moment, actor, obj, _after, _outside in cases:
        written.append(event_at(moment, action="customers.viewed", actor=actor, obj=obj))

    from audit.selectors import audit_console_list

    flags = {
        e.pk: (e.after_hours, e.outside_team)
        for e in audit_console_list(user=people["dpo"]).filter(action="customers.viewed")
    }
    assert [flags[e.pk] for e in written] == [(c[3], c[4]) for c in cases]

    _login(client, people["dpo"])
    base = {"action": "customers.viewed"}
    assert rows(client.get(CONSOLE, {**base, "flagged": "after_hours"})) == 3
    assert rows(client.get(CONSOLE, {**base, "flagged": "outside_team"})) == 3
    assert rows(client.get(CONSOLE, {**base, "flagged": "any"})) == 5
    html = client.get(CONSOLE, {**base, "flagged": "any"}).content.decode()
    assert html.count('data-flag="after-hours"') == 3
    assert html.count('data-flag="outside-team"') == 3


# --- who saw my data -------------------------------------------------------------------------


def test_who_saw_my_data_lists_who_when_what_and_purpose(client, people, customer):
    other = make_customer(people["owner"])
    event_at(at(2026, 3, 10, 9, 15), action="customers.viewed", actor=people["gm"], obj=customer)
    event_at(
        at(2026, 3, 10, 9, 20),
        action="customers.revealed",
        actor=people["owner"],
        obj=customer,
        reason="call_back",
        data={"fields": ["phone"], "purpose": "call_back"},
    )
    record_event(action="customers.viewed", actor=people["south_rep"], obj=other)
    _login(client, people["auditor"])
    response = client.get(reverse("audit:customer-accesses", args=[customer.code]))
    html = response.content.decode()
    assert rows(response) == 3  # created, viewed, revealed
    assert "03/10/2026 09:15:00" in html and "Customer card viewed" in html
    assert "Personal data revealed" in html and "Call back" in html
    assert "General manager" in html and people["south_rep"].username not in html


# --- export ----------------------------------------------------------------------------------


def test_export_writes_the_filtered_events_and_is_audited(client, people, customer):
    for _ in range(3):
        record_event(action="customers.viewed", actor=people["south_rep"], obj=customer)
    record_event(action="customers.viewed", actor=people["owner"], obj=customer)
    _login(client, people["dpo"])

    response = client.get("/audit/events/export.csv", {"actor": people["south_rep"].pk})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="audit-events.csv"'
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(table) == 4 and table[0][:3] == ["#", "Time", "User"]
    assert {row[2] for row in table[1:]} == {people["south_rep"].username}
    assert {row[7] for row in table[1:]} == {customer.code}
    exported = AuditEvent.objects.get(action=events.AUDIT_EVENTS_EXPORTED)
    assert exported.actor_id == people["dpo"].pk
    assert exported.data == {
        "format": "csv",
        "rows": 3,
        "filters": {"actor": str(people["south_rep"].pk)},
    }

    from openpyxl import load_workbook

    response = client.get("/audit/events/export.xlsx", {"action": "customers.viewed"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row == 5  # header and four views
    assert AuditEvent.objects.filter(action=events.AUDIT_EVENTS_EXPORTED).count() == 2


def test_an_unknown_export_format_is_404(client, people):
    _login(client, people["dpo"])
    assert client.get("/audit/events/export.pdf").status_code == 404


# --- the chain's state -----------------------------------------------------------------------


def test_the_console_shows_the_last_checkpoint_and_verification(client, people):
    _login(client, people["dpo"])
    html = client.get(CONSOLE).content.decode()
    assert "no checkpoint yet" in html and "Never verified" in html
    call_command("verify_audit_chain", stdout=io.StringIO())
    verified = AuditEvent.objects.get(action=events.AUDIT_CHAIN_VERIFIED)
    assert verified.data["intact"] is True and verified.data["problems"] == 0
    html = client.get(CONSOLE).content.decode()
    checked = verified.data["checked"]
    assert f"intact ({checked} events)" in html
    assert f"last checkpoint at event {verified.data['head_sequence']}" in html


# --- one card-viewed event per opening of a card ---------------------------------------------


def test_opening_a_card_and_each_tab_records_one_card_viewed_event(client, people, customer):
    from customers import card_tabs

    _login(client, people["owner"])
    before = AuditEvent.objects.filter(action="customers.viewed").count()
    assert client.get(f"/customers/{customer.pk}/").status_code == 200
    tabs = [tab.key for tab in card_tabs.visible_tabs(people["owner"], customer)]
    assert len(tabs) >= 5
    for key in tabs:
        assert client.get(f"/customers/{customer.pk}/tab/{key}/").status_code == 200, key
    assert AuditEvent.objects.filter(action="customers.viewed").count() == before + 1


# --- bounded queries -------------------------------------------------------------------------


@pytest.mark.parametrize("views", [4, 40])
def test_console_list_runs_the_same_queries_whatever_the_rows(
    client, people, customer, assert_queries, views
):
    interaction = services.interaction_log(
        actor=people["owner"], customer=customer, kind="call", summary="called"
    )
    for n in range(views):
        actor = (people["south_rep"], people["owner"], people["service"])[n % 3]
        event_at(
            at(2026, 3, 10, 10, n % 60),
            action="customers.revealed",
            actor=actor,
            obj=customer,
            reason=f"r{n}",
            data={"purpose": "call_back"},
        )
        event_at(
            at(2026, 3, 10, 10, n % 60), action="complaints.viewed", actor=actor, obj=interaction
        )
    _login(client, people["dpo"])
    ContentType.objects.get_for_model(Customer)
    client.get(CONSOLE)  # session, permissions and content types warmed
    # session, user, user and group permissions, groups (menu), count, page, the chain's
    # last verification, the actor picker; on keys: the page's data keys, the checkpoint.
    with assert_queries(default=9, keys=2):
        response = client.get(CONSOLE)
    assert rows(response) == min(AuditEvent.objects.count(), 50)
    # An htmx page of rows: no form, no chain state (the user's groups are still read).
    with assert_queries(default=7, keys=1):
        response = client.get(CONSOLE, {"flagged": "outside_team"}, HTTP_HX_REQUEST="true")
    flagged = 2 * len([n for n in range(views) if n % 3 != 1])
    assert rows(response) == min(flagged, 50)
