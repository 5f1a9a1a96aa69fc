"""Home dashboards by role (issue 13 item 1): figures from data, bounded queries, tables
beside every chart."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from crm import roles
from crm.tests.factories import TeamFactory, UserFactory
from customers import dashboards, services
from customers.services import workspace
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    north = TeamFactory(name="North")
    owner, colleague = rep(team=north, first_name="Jun"), rep(team=north)
    manager = manager_of(north)
    customers = [make_customer(owner) for _ in range(3)] + [make_customer(colleague)]
    today = timezone.localdate()
    for customer in customers[:2]:
        services.interaction_log(
            actor=owner,
            customer=customer,
            kind="call",
            summary="回访",
            next_follow_up=today + datetime.timedelta(days=1 if today.weekday() < 6 else 0),
        )
    workspace.customer_status_change(actor=owner, customer_id=customers[0].pk, to_status="active")
    return {"owner": owner, "colleague": colleague, "manager": manager, "customers": customers}


def _context(user, assert_queries, **counts):
    with assert_queries(**counts):
        return dashboards.context_for(user)


@pytest.mark.parametrize("extra", [0, 5])
def test_rep_sees_his_day_in_fixed_queries(world, assert_queries, extra):
    owner = world["owner"]
    for _ in range(extra):
        customer = make_customer(owner)
        services.interaction_log(
            actor=owner, customer=customer, kind="visit", next_follow_up=timezone.localdate()
        )
    context = _context(owner, assert_queries, default=7)
    mine = context["mine"]
    assert len(mine["follow_ups"]) == 2 + extra
    assert len(mine["recent"]) == 2 + extra
    assert sum(row["count"] for row in mine["by_stage"]) == 3 + extra
    assert "team" not in context and "charts" not in context


@pytest.mark.parametrize("reps", [1, 4])
def test_manager_sees_each_rep_of_his_team_in_fixed_queries(world, assert_queries, reps):
    for _ in range(reps - 1):
        make_customer(rep(team=world["owner"].team))
    context = _context(world["manager"], assert_queries, default=14)
    rows = {row["user"].pk: row for row in context["team"]["rows"]}
    assert rows[world["owner"].pk]["customers"] == 3
    assert rows[world["owner"].pk]["follow_ups"] == 2
    assert rows[world["owner"].pk]["interactions"] == 2
    assert rows[world["colleague"].pk]["customers"] == 1
    assert context["team"]["totals"]["customers"] == 4 + reps - 1


def test_general_manager_sees_company_charts_with_tables(world, client, assert_queries):
    gm = UserFactory(role=roles.GENERAL_MANAGER)
    context = _context(gm, assert_queries, default=10)
    charts = {chart.key: chart for chart in context["charts"]}
    assert {row["label"]: row["count"] for row in charts["status"].rows} == {
        "Prospect": 3,
        "Active": 1,
    }
    assert charts["team"].rows == [{"label": "North", "count": 4}]
    assert charts["new"].rows[-1]["count"] == 4 and len(charts["new"].rows) == 12
    assert charts["interactions"].rows[-1]["count"] >= 2 and len(charts["interactions"].rows) == 8
    client.force_login(gm)
    html = client.get(reverse("home")).content.decode()
    assert 'data-chart="chart-status"' in html and 'id="chart-status"' in html
    assert 'data-testid="chart-table-status"' in html and "chart.umd.min.js" in html
    assert "What you can open" not in html


def test_dpo_and_auditor_see_reveals_exports_denials_per_day(world, client, assert_queries):
    owner = world["owner"]
    services.customer_reveal(
        actor=owner, customer=world["customers"][0], fields=["phone"], purpose="call_back"
    )
    for role in (roles.DPO, roles.AUDITOR):
        user = UserFactory(role=role)
        context = _context(user, assert_queries, default=4)
        today = context["privacy"]["days"][-1]
        assert today["reveals"] == 1 and today["date"] == timezone.localdate().isoformat()
        assert today["label"] == date_format(timezone.localdate(), "MONTH_DAY_FORMAT")
        assert context["privacy"]["unusual"] == []
        client.force_login(user)
        assert 'data-testid="privacy-figures"' in client.get(reverse("home")).content.decode()


def test_unusual_activity_names_the_user(world, assert_queries):
    owner = world["owner"]
    for _ in range(3):
        services.customer_reveal(
            actor=owner, customer=world["customers"][0], fields=["phone"], purpose="call_back"
        )
    from customers import selectors

    privacy = selectors.dashboard_privacy(threshold=2)
    assert [(row["user"], row["count"]) for row in privacy["unusual"]] == [(owner, 3)]


def test_service_staff_see_the_cards_shared_with_them(world, client, assert_queries):
    service = UserFactory(role=roles.SERVICE_STAFF)
    customer = world["customers"][1]
    services.customer_access_grant(
        actor=world["owner"], customer=customer, user=service, reason="complaint"
    )
    context = _context(service, assert_queries, default=3)
    assert context["shared"] == [customer]
    client.force_login(service)
    html = client.get(reverse("home")).content.decode()
    assert customer.code in html and 'data-testid="shared"' in html


def test_anonymous_is_sent_to_sign_in_and_admin_gets_no_customer_panel(client):
    assert client.get(reverse("home")).status_code == 302
    assert dashboards.context_for(UserFactory(role=roles.ADMIN)) is None


def test_chart_labels_are_dates_in_the_readers_language(world):
    from django.utils import translation

    from customers import selectors

    today = timezone.localdate()
    with translation.override("zh-hans"):
        figures = selectors.dashboard_company()
        privacy = selectors.dashboard_privacy()
    assert figures["new_per_month"][-1]["label"] == f"{today.year}年{today.month}月"
    monday = today - datetime.timedelta(days=today.weekday())
    assert figures["interactions_per_week"][-1]["label"] == f"{monday.month}月{monday.day}日"
    assert privacy["days"][-1]["label"] == f"{today.month}月{today.day}日"
    with translation.override("en"):
        assert selectors.dashboard_company()["new_per_month"][-1]["label"] == date_format(
            today, "YEAR_MONTH_FORMAT"
        )
