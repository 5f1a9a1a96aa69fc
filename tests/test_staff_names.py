"""Staff appear by their name (孙军), not by their login, on the audit trail, the import
pages and the credit pages. The audit console and "who saw this customer's data" keep the
login each event recorded as a muted detail after the name (the account an auditor filters
and exports by); the other privacy pages keep it in a ``title``."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit import incidents, retention
from audit.services import record_event
from credit import services as credit_services
from credit.tests.factories import complete_organisation, trading_customer
from credit.tests.factories import people as credit_people
from crm.tests.factories import UserFactory
from customers.models import ImportJob
from customers.tests.factories import company_people, make_customer

pytestmark = pytest.mark.django_db

CONSOLE = "/audit/events/"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF\n"


def named(user, login: str, first: str, last: str):
    """The user signs in as ``login`` and is called ``first``/``last``."""
    user.username, user.first_name, user.last_name = login, first, last
    user.save(update_fields=["username", "first_name", "last_name"])
    return user


def name_the_cast(cast: dict) -> dict:
    named(cast["owner"], "sunjun", "军", "孙")  # a Chinese name: family name first, no space
    named(cast["north_manager"], "wangfang", "芳", "王")
    named(cast["gm"], "aberg", "Anna", "Berg")
    named(cast["dpo"], "dpo1", "静", "李")
    named(cast["auditor"], "audit1", "伟", "赵")
    return cast


LOGINS = ("sunjun", "wangfang", "aberg", "dpo1", "audit1")


def page_of(client, user, url, **params) -> str:
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def event_cells(html: str, column: int) -> list[str]:
    """The ``column``-th cell of each event row, as HTML."""
    rows = re.findall(r"<tr[^>]*data-event-row>(.*?)</tr>", html, re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[column] for row in rows]


def shown_as(name: str, login: str) -> str:
    return (
        f'<span data-actor-name>{name}</span> <small class="text-body-secondary" '
        f"data-actor-login>{login}</small>"
    )


# --- the audit trail ---------------------------------------------------------------------------


@pytest.fixture
def people():
    return name_the_cast(company_people())


@pytest.fixture
def customer(people):
    return make_customer(people["owner"])


def test_the_console_names_the_user_with_his_login_muted_after(client, people, customer):
    record_event(action="customers.viewed", actor=people["owner"], obj=customer)
    record_event(action="customers.viewed", actor=people["gm"], obj=customer)

    html = page_of(client, people["dpo"], CONSOLE, actor=people["owner"].pk)
    assert event_cells(html, 2) == [shown_as("孙军", "sunjun"), shown_as("孙军", "sunjun")]
    html = page_of(client, people["dpo"], CONSOLE, actor=people["gm"].pk)
    assert event_cells(html, 2) == [shown_as("Anna Berg", "aberg")]
    # The htmx page of rows is the same partial.
    client.force_login(people["dpo"])
    partial = client.get(CONSOLE, {"actor": people["gm"].pk}, HTTP_HX_REQUEST="true")
    assert event_cells(partial.content.decode(), 2) == [shown_as("Anna Berg", "aberg")]


def test_the_console_shows_the_recorded_login_of_a_user_without_a_name_or_gone(
    client, people, customer
):
    nameless = UserFactory(username="nameless1", first_name="", last_name="")
    record_event(action="customers.viewed", actor=nameless, obj=customer)
    gone = UserFactory(username="gone1", first_name="离", last_name="职")
    seen_by_gone, seen_by_no_one = make_customer(people["owner"]), make_customer(people["owner"])
    record_event(action="customers.viewed", actor=gone, obj=seen_by_gone)
    get_user_model().objects.filter(pk=gone.pk).delete()
    record_event(action="customers.viewed", obj=seen_by_no_one)

    html = page_of(client, people["dpo"], CONSOLE, actor=nameless.pk)
    assert event_cells(html, 2) == ["<span data-actor-name>nameless1</span>"]  # no repeat
    for seen, shown in ((seen_by_gone, "gone1"), (seen_by_no_one, "—")):
        html = page_of(client, people["dpo"], CONSOLE, action="customers.viewed", object_id=seen.pk)
        assert event_cells(html, 2) == [shown]


def test_who_saw_a_customer_names_each_user(client, people, customer):
    record_event(action="customers.viewed", actor=people["gm"], obj=customer)
    record_event(action="customers.viewed", actor=people["north_manager"], obj=customer)

    html = page_of(
        client, people["auditor"], reverse("audit:customer-accesses", args=[customer.code])
    )
    # Newest first: the two views, then the card's creation by its owner.
    assert event_cells(html, 1) == [
        shown_as("王芳", "wangfang"),
        shown_as("Anna Berg", "aberg"),
        shown_as("孙军", "sunjun"),
    ]
    # No login stands alone as a visible name anywhere on the page.
    for login in LOGINS:
        assert f">{login}<" not in html.replace(f"data-actor-login>{login}<", "")


def test_who_saw_a_customer_costs_the_same_queries_whatever_the_users(
    client, people, customer, assert_queries
):
    url = reverse("audit:customer-accesses", args=[customer.code])
    client.force_login(people["auditor"])
    client.get(url)  # session and content types warmed
    # session, user, user and group permissions, groups (menu), the customer, count, page,
    # the actors' roles; on keys: the page's data keys.
    with assert_queries(default=9, keys=1):
        client.get(url)
    for who in ("gm", "north_manager", "south_rep", "service", "dpo"):
        record_event(action="customers.viewed", actor=people[who], obj=customer)
    with assert_queries(default=9, keys=1):
        html = client.get(url).content.decode()
    assert len(event_cells(html, 1)) == 6 and shown_as("王芳", "wangfang") in html


def test_the_privacy_pages_name_staff_with_the_login_as_a_title(client, people, customer):
    retention.legal_hold_place(actor=people["dpo"], customer=customer, reason="court order")
    incidents.incident_create(
        actor=people["dpo"],
        customers=[customer],
        summary="laptop lost",
        detected_at=timezone.now() - datetime.timedelta(hours=1),
        severity="high",
        status="open",
        containment="",
        authorities_told_at=None,
        customers_told_at=None,
    )
    named_dpo = '<span title="dpo1">李静</span>'

    assert named_dpo in page_of(client, people["dpo"], reverse("audit:retention"))
    assert named_dpo in page_of(client, people["dpo"], reverse("audit:incident-list"))
    for url in (reverse("audit:retention"), reverse("audit:incident-list")):
        assert ">dpo1<" not in page_of(client, people["dpo"], url)


# --- the import pages --------------------------------------------------------------------------


def _job(user, name: str) -> ImportJob:
    return ImportJob.objects.create(
        target="customers", file_name=name, created_by=user, status=ImportJob.Status.DONE
    )


def test_the_import_list_and_page_name_who_imported(client, people):
    job = _job(people["owner"], "a.csv")
    _job(people["north_manager"], "b.csv")

    listing = page_of(client, people["gm"], reverse("customers:import-list"))
    assert "<td>孙军</td>" in listing and "<td>王芳</td>" in listing
    detail = page_of(client, people["owner"], reverse("customers:import-detail", args=[job.pk]))
    assert '<dd class="col-sm-10">孙军, ' in detail
    for html in (listing, detail):
        assert "sunjun" not in html and "wangfang" not in html


def test_the_import_list_costs_the_same_queries_whatever_the_users(client, people, assert_queries):
    url = reverse("customers:import-list")
    _job(people["owner"], "a.csv")
    client.force_login(people["gm"])
    client.get(url)  # session warmed
    # session, user, user and group permissions, count, groups (menu), the page with who
    # imported each file (joined); nothing on keys.
    with assert_queries(default=7, keys=0):
        client.get(url)
    jobs = [_job(people[who], f"{who}.csv") for who in ("north_manager", "north_rep", "gm")]
    with assert_queries(default=7, keys=0):
        html = client.get(url).content.decode()
    assert [reverse("customers:import-detail", args=[job.pk]) in html for job in jobs] == [
        True,
        True,
        True,
    ]
    assert html.count("<td>孙军</td>") == 1 and html.count("<td>Anna Berg</td>") == 1


# --- the credit pages --------------------------------------------------------------------------


@pytest.fixture
def world(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    cast = name_the_cast(credit_people())
    # Submitted by 孙军, approved by 王芳 (manager) and Anna Berg (head office); the active
    # limit requested by 孙军 and approved by 王芳.
    customer = trading_customer(cast, "1000.00")
    return cast, customer


def test_the_credit_tab_names_who_submitted_requested_decided_and_held(client, world):
    cast, customer = world
    credit_services.limit_request(
        actor=cast["owner"], customer=customer, amount=Decimal("2000.00"), justification="x"
    )
    credit_services.hold_place(actor=cast["owner"], customer=customer, reason="strike")
    credit_services.investigation_record(
        actor=cast["owner"], customer=customer, source="bank", kind="daily", operator="ok"
    )

    html = page_of(
        client, cast["north_manager"], reverse("customers:tab", args=[customer.pk, "credit"])
    )
    assert "by 孙军" in html and "manager: 王芳" in html and "head office: Anna Berg" in html
    assert "<td>孙军</td><td>—</td>" in html  # the pending request
    assert "<td>孙军</td><td>王芳</td>" in html  # the active limit
    assert " · 孙军 · " in html  # the hold
    assert "<td>孙军</td></tr>" in html  # the investigation's author
    for login in LOGINS:
        assert login not in html


def test_the_approvals_inbox_names_requesters_and_deciders(client, world):
    cast, customer = world
    credit_services.limit_request(
        actor=cast["owner"], customer=customer, amount=Decimal("2000.00"), justification="x"
    )
    special = credit_services.limit_request(
        actor=cast["owner"], customer=customer, amount=Decimal("3000.00"), justification="x"
    )
    credit_services.limit_approve(
        actor=cast["north_manager"], limit=special, comment="expand trade", special=True
    )
    credit_services.limit_request(
        actor=cast["owner"], customer=customer, amount=Decimal("4000.00"), justification="x"
    )
    waiting = complete_organisation(cast["owner"])
    credit_services.account_submit(actor=cast["owner"], customer=waiting)

    html = page_of(client, cast["north_manager"], reverse("credit:inbox"))
    assert html.count("<td>孙军</td>") == 2  # the two pending requests
    assert " · 孙军</td>" in html  # the opening waiting
    assert "<td>王芳</td>" in html  # the exception granted
    for login in LOGINS:
        assert login not in html


def test_the_investigation_page_names_its_author_and_uploaders(client, world):
    cast, customer = world
    investigation = credit_services.investigation_record(
        actor=cast["owner"], customer=customer, source="bank", kind="daily", operator="ok"
    )
    credit_services.attachment_add(
        actor=cast["owner"],
        investigation=investigation,
        upload=SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf"),
    )

    html = page_of(
        client, cast["north_manager"], reverse("credit:investigation", args=[investigation.pk])
    )
    assert '<dd class="col-sm-9">孙军</dd>' in html
    assert re.search(r"<td>[^<]+ · 孙军</td>", html)
    for login in LOGINS:
        assert login not in html


# --- complaints -----------------------------------------------------------------------------


def test_complaint_assignee_is_named_on_the_board_and_the_cards_complaints_tab(client):
    from complaints import services as complaint_services
    from complaints.tests.factories import make_complaint, service_manager, service_staff

    manager = named(service_manager(), "svcmgr1", "敏", "周")
    staff = named(service_staff(), "svc07", "军", "孙")
    complaint = make_complaint(actor=staff)
    complaint_services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=staff)

    board = page_of(client, manager, reverse("complaints:board"))
    assert "孙军" in board
    assert "svc07" not in board

    owner = complaint.customer.owner  # the rep whose card it is follows its complaints
    tab = page_of(
        client, owner, reverse("customers:tab", args=[complaint.customer_id, "complaints"])
    )
    assert "<td>孙军</td>" in tab
    assert "svc07" not in tab
