"""An app built on customers plugs into the card through registries alone (issue 7).

``tests.plugin_app`` (installed only in tests/settings.py) registers a card tab of each kind,
a timeline source, an API section and role permissions from its ``AppConfig.ready()``; the
customer pages and API show them without any change to ``customers/``.
"""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from crm import roles
from crm.tests.factories import TeamFactory, UserFactory
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
    from customers.services.cards import PLAIN_FIELDS

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
