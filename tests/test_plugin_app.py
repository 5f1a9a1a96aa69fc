"""An app built on customers plugs into the card through registries alone (issue 7).

``tests.plugin_app`` (installed only in tests/settings.py) registers a card tab of each kind,
a timeline source, an API section, role permissions, a merge policy and an import target
from its ``AppConfig.ready()``; the customer pages, API, merge and import use them without
any change to ``customers/``.
"""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from crm import roles
from crm.tests.factories import TeamFactory, UserFactory
from customers import events
from customers.models import ImportJob
from customers.tests.factories import make_customer, manager_of, rep
from tests.plugin_app.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def card():
    """A customer of a sales rep, with an open and a confidential ticket; his manager."""
    owner = rep(team=TeamFactory(name="North"))
    manager = manager_of(owner.team)
    customer = make_customer(owner)
    Ticket.objects.create(customer=customer, title="Late delivery", note="rang twice")
    Ticket.objects.create(customer=customer, title="Quiet word", confidential=True)
    return customer, owner, manager


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- roles --------------------------------------------------------------------------------


def test_the_apps_permissions_reach_the_role_groups():
    rep_group = Group.objects.get(name=roles.SALES_REP)
    manager_group = Group.objects.get(name=roles.SALES_MANAGER)
    assert rep_group.permissions.filter(codename="view_ticket").exists()
    assert not rep_group.permissions.filter(codename="view_confidential_ticket").exists()
    assert manager_group.permissions.filter(codename="view_confidential_ticket").exists()


# --- card tabs ----------------------------------------------------------------------------


def test_the_apps_tab_is_listed_renders_alone_and_in_the_card(client, card):
    customer, owner, _manager = card
    client.force_login(owner)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert reverse("customers:tab", args=[customer.pk, "tickets"]) in page
    # Registered order: after the stages (60), before the timeline (70).
    assert page.index("?tab=stages") < page.index("?tab=tickets") < page.index("?tab=timeline")

    partial = client.get(reverse("customers:tab", args=[customer.pk, "tickets"]))
    assert partial.status_code == 200
    html = partial.content.decode()
    assert "Late delivery" in html and "Quiet word" not in html and "<html" not in html

    full = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "tickets"})
    assert full.status_code == 200
    assert "Late delivery" in full.content.decode() and customer.code in full.content.decode()


def test_a_confidential_ticket_shows_to_the_manager_only(client, card):
    customer, _owner, manager = card
    client.force_login(manager)
    html = client.get(reverse("customers:tab", args=[customer.pk, "tickets"])).content.decode()
    assert "Late delivery" in html and "Quiet word" in html


def test_without_the_permission_the_tab_is_hidden_and_its_urls_are_404(client, card):
    customer, _owner, _manager = card
    dpo = UserFactory(role=roles.DPO)  # sees every card, holds no ticket permission
    client.force_login(dpo)
    page = client.get(reverse("customers:detail", args=[customer.pk]))
    assert page.status_code == 200
    assert "?tab=tickets" not in page.content.decode()
    assert client.get(reverse("customers:tab", args=[customer.pk, "tickets"])).status_code == 404
    asked = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "tickets"})
    assert asked.status_code == 404
    # The other tabs stay (the DPO, an overseer, sees the card's grants).
    assert client.get(reverse("customers:tab", args=[customer.pk, "access"])).status_code == 200


def test_a_tab_answered_by_its_own_view(client, card):
    customer, owner, manager = card
    client.force_login(owner)
    partial = client.get(reverse("customers:tab", args=[customer.pk, "ticket-count"]))
    assert partial.status_code == 200
    assert partial.content.decode() == '<p id="ticket-count">1 tickets</p>'
    full = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "ticket-count"})
    assert '<p id="ticket-count">1 tickets</p>' in full.content.decode()
    # Its permission is a rule on the card (the owner only): hidden from the manager.
    client.force_login(manager)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "?tab=ticket-count" not in page
    tab = client.get(reverse("customers:tab", args=[customer.pk, "ticket-count"]))
    assert tab.status_code == 404


def test_an_unknown_tab_is_404_alone_and_the_profile_in_the_card(client, card):
    customer, owner, _manager = card
    client.force_login(owner)
    assert client.get(reverse("customers:tab", args=[customer.pk, "nothing"])).status_code == 404
    full = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "nothing"})
    assert full.status_code == 200 and full.context["tab"] == "profile"


# --- timeline -----------------------------------------------------------------------------


def test_the_timeline_source_sees_the_viewer(client, card):
    customer, owner, manager = card
    client.force_login(owner)
    html = client.get(reverse("customers:tab", args=[customer.pk, "timeline"])).content.decode()
    assert "Ticket: Late delivery" in html and "Ticket: Quiet word" not in html

    titles = [
        e["title"] for e in _api(manager).get(f"/api/v1/customers/{customer.pk}/history/").json()
    ]
    assert {"Ticket: Late delivery", "Ticket: Quiet word"} <= set(titles)

    dpo = UserFactory(role=roles.DPO)
    titles = [e["title"] for e in _api(dpo).get(f"/api/v1/customers/{customer.pk}/history/").json()]
    assert not any(title.startswith("Ticket:") for title in titles)
    assert "Card created" in titles


# --- API sections -------------------------------------------------------------------------


def test_the_api_card_carries_the_section_the_caller_may_see(card):
    customer, owner, manager = card
    body = _api(owner).get(f"/api/v1/customers/{customer.pk}/").json()
    assert [t["title"] for t in body["sections"]["tickets"]] == ["Late delivery"]
    body = _api(manager).get(f"/api/v1/customers/{customer.pk}/").json()
    assert sorted(t["title"] for t in body["sections"]["tickets"]) == [
        "Late delivery",
        "Quiet word",
    ]
    body = _api(UserFactory(role=roles.DPO)).get(f"/api/v1/customers/{customer.pk}/").json()
    assert body["sections"] == {}


def test_the_api_card_keeps_its_contract(card):
    customer, owner, _manager = card
    body = _api(owner).get(f"/api/v1/customers/{customer.pk}/").json()
    from customers.card_fields import PLAIN_FIELDS

    assert set(body) == {
        "id",
        "code",
        "kind",
        "status",
        "name",
        "phone",
        "owner",
        "team",
        "business_type",
        "tier",
        "stage",
        "reverification_due",
        "version",
        "created_at",
        "updated_at",
        "email",
        "address",
        "birth_date",
        "headquarters_address",
        "trading_address",
        "mailing_address",
        "managers",
        *PLAIN_FIELDS,
        "stage_owner",
        "reverified_at",
        "reverified_by",
        "is_minor",
        "merged_into",
        "contacts",
        "identity_documents",
        "consents",
        "sections",
    }
    # Writes answer the same card, sections included.
    changed = _api(owner).patch(
        f"/api/v1/customers/{customer.pk}/",
        {"version": body["version"], "tier": None, "reason": "check"},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert "tickets" in changed.json()["sections"]


# --- merge policy -------------------------------------------------------------------------


def test_a_merge_combines_same_titled_tickets_and_moves_the_others(client, card):
    survivor, owner, manager = card
    duplicate = make_customer(owner)
    earlier = survivor.plugin_tickets.get(title="Late delivery").opened_at - timedelta(days=3)
    twin = Ticket.objects.create(
        customer=duplicate, title="Late delivery", confidential=True, opened_at=earlier
    )
    moved = Ticket.objects.create(customer=duplicate, title="Broken pallet", note="两箱破损")

    client.force_login(manager)
    response = client.post(
        reverse("customers:merge"),
        {"survivor": survivor.code, "duplicate": duplicate.code, "reason": "same company"},
    )
    assert response.status_code == 302, response.content.decode()

    # The ticket without a twin moved, its note re-encrypted under the survivor's key.
    moved.refresh_from_db()
    assert moved.customer_id == survivor.pk
    assert Ticket.objects.get(pk=moved.pk).note == "两箱破损"
    # The twins were combined: the survivor's ticket took the earlier opening and the
    # stricter confidentiality; the duplicate's stays on the merged card, not deleted.
    kept = survivor.plugin_tickets.get(title="Late delivery")
    assert (kept.opened_at, kept.confidential) == (earlier, True)
    assert Ticket.objects.get(pk=twin.pk).customer_id == duplicate.pk
    assert Ticket.objects.count() == 4
    event = AuditEvent.objects.get(action=events.CUSTOMER_MERGED)
    assert event.data["moved"]["plugin_app.ticket"] == 1
    assert event.data["combined"] == {"plugin_app.ticket": 1}
    assert kept.history.first().history_user == manager


# --- import target ------------------------------------------------------------------------


def _post_import(user, content: str, capture, **fields):
    upload = SimpleUploadedFile("tickets.csv", content.encode(), content_type="text/csv")
    client = _api(user)
    with capture(execute=True):
        response = client.post(
            "/api/v1/customers/imports/",
            {"file": upload, "target": "tickets", **fields},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    return client.get(f"/api/v1/customers/imports/{response.data['id']}/").json()


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    return tmp_path


def test_tickets_import_through_the_customers_endpoint(
    card, upload_dir, django_capture_on_commit_callbacks
):
    customer, owner, _manager = card
    content = (
        "客户编号,标题,保密,受理日期,备注\n"
        f"{customer.code},Wrong invoice,否,2026-03-02,called back\n"
        f"{customer.code},Rude driver,是,,\n"
    )
    job = _post_import(owner, content, django_capture_on_commit_callbacks)

    assert job["status"] == ImportJob.Status.DONE
    assert (job["rows_total"], job["rows_valid"], job["rows_invalid"]) == (2, 2, 0)
    assert job["rows_imported"] == 2 and job["errors"] == []
    invoice = Ticket.objects.get(customer=customer, title="Wrong invoice")
    assert (invoice.confidential, invoice.note) == (False, "called back")
    assert timezone.localtime(invoice.opened_at).date() == date(2026, 3, 2)
    assert Ticket.objects.get(customer=customer, title="Rude driver").confidential
    assert invoice.history.first().history_user == owner
    assert AuditEvent.objects.filter(action="plugin_app.tickets_imported").count() == 1

    # The same file again creates nothing twice: each row is a duplicate.
    again = _post_import(owner, content, django_capture_on_commit_callbacks)
    assert again["status"] == ImportJob.Status.REJECTED and again["rows_imported"] == 0
    assert {(e["line"], e["column"]) for e in again["errors"]} == {(2, "title"), (3, "title")}
    assert Ticket.objects.filter(customer=customer).count() == 4


def test_a_tickets_dry_run_reports_lines_and_columns_and_writes_nothing(
    card, upload_dir, django_capture_on_commit_callbacks
):
    customer, owner, _manager = card
    stranger = make_customer(rep(team=TeamFactory(name="South")))
    content = (
        "customer_code,title,opened_on,confidential\n"
        f"{stranger.code},Not mine,,\n"  # a customer the importer may not see
        f"{customer.code},,,\n"  # no title
        f"{customer.code},Late delivery,,\n"  # the customer already has this ticket
        f"{customer.code},Bad date,2026-13-40,\n"
        f"{customer.code},Bad flag,,maybe\n"
        f"{customer.code},Fine,2026-01-05,yes\n"
    )
    before = Ticket.objects.count()
    job = _post_import(owner, content, django_capture_on_commit_callbacks, dry_run="true")

    assert job["status"] == ImportJob.Status.CHECKED
    assert (job["rows_total"], job["rows_valid"], job["rows_invalid"]) == (6, 1, 5)
    assert job["rows_imported"] == 0
    assert [(e["line"], e["column"]) for e in job["errors"]] == [
        (2, "customer_code"),
        (3, "title"),
        (4, "title"),
        (5, "opened_on"),
        (6, "confidential"),
    ]
    messages = {e["line"]: e["message"] for e in job["errors"]}
    assert messages[2] == "There is no customer with this code that you may see."
    assert messages[4] == "This customer already has a ticket with this title."
    assert Ticket.objects.count() == before


def test_the_tickets_target_needs_its_own_permission(card, upload_dir):
    customer, _owner, _manager = card
    general_manager = UserFactory(role=roles.GENERAL_MANAGER)  # imports; adds no tickets
    assert general_manager.has_perm("customers.import_customer")
    upload = SimpleUploadedFile("t.csv", f"customer_code,title\n{customer.code},X\n".encode())
    response = _api(general_manager).post(
        "/api/v1/customers/imports/",
        {"file": upload, "target": "tickets"},
        format="multipart",
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_the_import_page_offers_the_tickets_target(client, card):
    _customer, owner, _manager = card
    client.force_login(owner)
    page = client.get(reverse("customers:import-create")).content.decode()
    assert 'value="tickets"' in page
