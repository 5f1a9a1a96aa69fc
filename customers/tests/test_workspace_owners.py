"""Managers' tools (issue 13 items 2 and 5): reassign a card's owner from the card or a list
selection, hand a leaving rep's customers over, plan and export a selection.

Who may: the sales manager within the teams he manages, the general manager across teams.
Who may not: a rep (no bulk actions at all), a manager for another team's cards or owners,
the DPO, the auditor, service staff.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from customers import events, selectors
from customers.models import Customer, VisitPlanEntry
from customers.services import workspace
from customers.tests.factories import api_client_for, company_people, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return company_people()


@pytest.fixture
def cards(people):
    """Two cards of the North owner, one of the South rep."""
    return {
        "north": [make_customer(people["owner"]), make_customer(people["owner"])],
        "south": make_customer(people["south_rep"]),
    }


def _owners(*customers):
    return [Customer.objects.get(pk=c.pk).owner_id for c in customers]


# --- who may be chosen ----------------------------------------------------------------------


def test_pickers_offer_only_users_who_may_own(people):
    north = {people["owner"], people["north_manager"], people["north_rep"]}
    assert set(selectors.owner_candidates(people["north_manager"])) == north
    gm_choice = set(selectors.owner_candidates(people["gm"]))
    assert gm_choice == north | {people["south_manager"], people["south_rep"]}
    for role in ("owner", "service", "dpo", "auditor", "admin"):
        assert list(selectors.owner_candidates(people[role])) == [], role
    people["north_rep"].is_active = False
    people["north_rep"].save()
    assert people["north_rep"] not in selectors.owner_candidates(people["north_manager"])
    assert people["north_rep"] in selectors.handover_sources(people["north_manager"])


# --- the card -------------------------------------------------------------------------------


def test_manager_reassigns_a_card_within_his_team(people, cards):
    card = cards["north"][0]
    workspace.customer_owner_change(
        actor=people["north_manager"],
        customer_id=card.pk,
        owner=people["north_rep"],
        reason="Holiday cover",
    )
    card.refresh_from_db()
    assert (card.owner_id, card.team_id, card.version) == (
        people["north_rep"].pk,
        people["north_rep"].team_id,
        2,
    )
    event = AuditEvent.objects.get(action=events.CUSTOMER_OWNER_CHANGED)
    assert event.data == {
        "from_owner_id": people["owner"].pk,
        "to_owner_id": people["north_rep"].pk,
        "bulk": False,
    }
    assert card.history.first().history_user_id == people["north_manager"].pk


def test_manager_cannot_give_a_card_outside_his_team_nor_take_another_teams(people, cards):
    with pytest.raises(ValidationError) as error:
        workspace.customer_owner_change(
            actor=people["north_manager"],
            customer_id=cards["north"][0].pk,
            owner=people["south_rep"],
        )
    assert list(error.value.message_dict) == ["owner"]
    with pytest.raises(Exception) as hidden:  # another team's card: not even visible
        workspace.customer_owner_change(
            actor=people["north_manager"],
            customer_id=cards["south"].pk,
            owner=people["north_rep"],
        )
    assert getattr(hidden.value, "answer", None) == 404
    assert _owners(cards["north"][0], cards["south"]) == [
        people["owner"].pk,
        people["south_rep"].pk,
    ]
    assert not AuditEvent.objects.filter(action=events.CUSTOMER_OWNER_CHANGED).exists()


def test_general_manager_reassigns_across_teams(people, cards):
    workspace.customer_owner_change(
        actor=people["gm"], customer_id=cards["south"].pk, owner=people["owner"]
    )
    cards["south"].refresh_from_db()
    assert cards["south"].owner_id == people["owner"].pk
    assert cards["south"].team_id == people["owner"].team_id


@pytest.mark.parametrize("role", ["owner", "dpo", "auditor", "service"])
def test_other_roles_cannot_reassign(people, cards, role):
    with pytest.raises(PermissionDenied):
        workspace.customer_owner_change(
            actor=people[role], customer_id=cards["north"][0].pk, owner=people["north_rep"]
        )
    assert _owners(cards["north"][0]) == [people["owner"].pk]


def test_the_card_offers_the_owner_form_to_the_manager_only(client, people, cards):
    url = reverse("customers:detail", args=[cards["north"][0].pk])
    client.force_login(people["north_manager"])
    html = client.get(url).content.decode()
    assert 'data-testid="owner-change"' in html
    response = client.post(
        reverse("customers:owner-change", args=[cards["north"][0].pk]),
        {"owner": people["north_rep"].pk, "reason": "cover"},
    )
    assert response.status_code == 302
    assert _owners(cards["north"][0]) == [people["north_rep"].pk]
    client.force_login(people["owner"])
    assert (
        'data-testid="owner-change"'
        not in client.get(reverse("customers:detail", args=[cards["north"][1].pk])).content.decode()
    )
    refused = client.post(
        reverse("customers:owner-change", args=[cards["north"][1].pk]),
        {"owner": people["north_rep"].pk},
    )
    assert refused.status_code == 403
    assert _owners(cards["north"][1]) == [people["owner"].pk]


# --- the list's bulk actions ----------------------------------------------------------------


def test_bulk_reassign_is_all_or_nothing_with_one_event_per_card(people, cards):
    north = cards["north"]
    with pytest.raises(ValidationError):
        workspace.customers_reassign(
            actor=people["north_manager"],
            customer_ids=[north[0].pk, cards["south"].pk],
            owner=people["north_rep"],
        )
    assert _owners(*north) == [people["owner"].pk] * 2
    count = workspace.customers_reassign(
        actor=people["north_manager"],
        customer_ids=[c.pk for c in north],
        owner=people["north_rep"],
        reason="Rebalance",
    )
    assert count == 2 and _owners(*north) == [people["north_rep"].pk] * 2
    changed = AuditEvent.objects.filter(action=events.CUSTOMER_OWNER_CHANGED)
    assert sorted(int(e.object_id) for e in changed) == sorted(c.pk for c in north)
    assert all(e.data["bulk"] is True for e in changed)
    # Again: nothing changes, nothing is recorded.
    assert (
        workspace.customers_reassign(
            actor=people["north_manager"],
            customer_ids=[c.pk for c in north],
            owner=people["north_rep"],
        )
        == 0
    )
    assert changed.count() == 2


def test_rep_sees_no_bulk_actions_and_may_not_post_them(client, people, cards):
    client.force_login(people["owner"])
    html = client.get(reverse("customers:list")).content.decode()
    assert 'data-testid="bulk-actions"' not in html and "data-bulk-row" not in html
    response = client.post(
        reverse("customers:bulk"),
        {"action": "reassign", "ids": [cards["north"][0].pk], "owner": people["north_rep"].pk},
    )
    assert response.status_code == 403
    assert _owners(cards["north"][0]) == [people["owner"].pk]


def test_manager_bulk_reassigns_from_the_list(client, people, cards):
    client.force_login(people["north_manager"])
    html = client.get(reverse("customers:list")).content.decode()
    assert 'data-testid="bulk-actions"' in html and "data-bulk-all" in html
    assert html.count("data-bulk-row") == 2
    assert (
        people["south_rep"].username not in html.split('id="customer-bulk"')[1].split("</form>")[0]
    )
    response = client.post(
        reverse("customers:bulk"),
        {
            "action": "reassign",
            "ids": [c.pk for c in cards["north"]],
            "owner": people["north_rep"].pk,
        },
    )
    assert response.status_code == 302
    assert _owners(*cards["north"]) == [people["north_rep"].pk] * 2
    refused = client.post(
        reverse("customers:bulk"),
        {"action": "reassign", "ids": [cards["north"][0].pk], "owner": people["south_rep"].pk},
    )
    assert refused.status_code == 302  # the form refuses an owner outside the team
    assert _owners(cards["north"][0]) == [people["north_rep"].pk]


def test_bulk_visit_plan_puts_prospects_on_their_owners_plans(people, cards):
    active = cards["north"][1]
    Customer.objects.filter(pk=active.pk).update(status="active")
    counts = workspace.customers_visit_plan_add(
        actor=people["north_manager"], customer_ids=[c.pk for c in cards["north"]]
    )
    assert counts == {"added": 1, "not_prospects": 1, "already_planned": 0}
    entry = VisitPlanEntry.objects.get()
    assert (entry.customer_id, entry.rep_id) == (cards["north"][0].pk, people["owner"].pk)
    again = workspace.customers_visit_plan_add(
        actor=people["north_manager"], customer_ids=[cards["north"][0].pk]
    )
    assert again == {"added": 0, "not_prospects": 0, "already_planned": 1}
    event = AuditEvent.objects.filter(action=events.CUSTOMERS_PLANNED).order_by("pk").first()
    assert event.data == {"added": 1, "not_prospects": 1, "already_planned": 0, "rep_id": None}
    with pytest.raises(PermissionDenied):
        workspace.customers_visit_plan_add(
            actor=people["owner"], customer_ids=[cards["north"][0].pk]
        )


def test_export_selection_holds_only_the_selected_rows(client, people, cards):
    client.force_login(people["north_manager"])
    response = client.post(
        reverse("customers:bulk"),
        {"action": "export", "ids": [cards["north"][0].pk, cards["south"].pk], "format": "csv"},
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert cards["north"][0].code in body
    assert cards["north"][1].code not in body and cards["south"].code not in body
    event = AuditEvent.objects.get(action=events.CUSTOMERS_EXPORTED)
    assert event.data["count"] == 1 and event.data["filters"] == ["ids"]


# --- a rep who leaves -------------------------------------------------------------------------


def test_manager_hands_over_a_reps_customers_with_one_counted_event(people, cards):
    count = workspace.customers_hand_over(
        actor=people["north_manager"],
        from_user=people["owner"],
        to_user=people["north_rep"],
        reason="Leaves the company",
    )
    assert count == 2 and _owners(*cards["north"]) == [people["north_rep"].pk] * 2
    event = AuditEvent.objects.get(action=events.CUSTOMERS_HANDED_OVER)
    assert event.data == {
        "from_user_id": people["owner"].pk,
        "to_user_id": people["north_rep"].pk,
        "count": 2,
    }
    assert not AuditEvent.objects.filter(action=events.CUSTOMER_OWNER_CHANGED).exists()


def test_hand_over_is_refused_across_teams_for_a_manager_and_allowed_for_the_gm(people, cards):
    with pytest.raises(ValidationError) as error:
        workspace.customers_hand_over(
            actor=people["north_manager"],
            from_user=people["south_rep"],
            to_user=people["north_rep"],
            reason="x",
        )
    assert list(error.value.message_dict) == ["from_user"]
    with pytest.raises(ValidationError):
        workspace.customers_hand_over(
            actor=people["north_manager"],
            from_user=people["owner"],
            to_user=people["south_rep"],
            reason="x",
        )
    assert _owners(cards["south"], *cards["north"]) == [
        people["south_rep"].pk,
        people["owner"].pk,
        people["owner"].pk,
    ]
    assert (
        workspace.customers_hand_over(
            actor=people["gm"],
            from_user=people["south_rep"],
            to_user=people["owner"],
            reason="Left",
        )
        == 1
    )
    assert _owners(cards["south"]) == [people["owner"].pk]
    with pytest.raises(PermissionDenied):
        workspace.customers_hand_over(
            actor=people["owner"],
            from_user=people["north_rep"],
            to_user=people["owner"],
            reason="x",
        )


def test_hand_over_page_for_managers_only(client, people, cards):
    client.force_login(people["owner"])
    assert client.get(reverse("customers:hand-over")).status_code == 403
    client.force_login(people["north_manager"])
    assert client.get(reverse("customers:hand-over")).status_code == 200
    missing_reason = client.post(
        reverse("customers:hand-over"),
        {"from_user": people["owner"].pk, "owner": people["north_rep"].pk},
    )
    assert missing_reason.status_code == 400
    done = client.post(
        reverse("customers:hand-over"),
        {"from_user": people["owner"].pk, "owner": people["north_rep"].pk, "reason": "Left"},
    )
    assert done.status_code == 302
    assert _owners(*cards["north"]) == [people["north_rep"].pk] * 2


# --- the API --------------------------------------------------------------------------------


def test_api_owner_change_reassign_and_hand_over(people, cards):
    manager = api_client_for(people["north_manager"])
    card = cards["north"][0]
    answer = manager.post(
        f"/api/v1/customers/{card.pk}/owner/",
        {"owner": people["north_rep"].username},
        format="json",
    )
    assert answer.status_code == 204
    outside = manager.post(
        f"/api/v1/customers/{card.pk}/owner/",
        {"owner": people["south_rep"].username},
        format="json",
    )
    assert outside.status_code == 400
    hidden = manager.post(
        f"/api/v1/customers/{cards['south'].pk}/owner/",
        {"owner": people["north_rep"].username},
        format="json",
    )
    assert hidden.status_code == 404
    bulk = manager.post(
        "/api/v1/customers/reassign/",
        {"customers": [c.pk for c in cards["north"]], "owner": people["owner"].username},
        format="json",
    )
    assert bulk.status_code == 200 and bulk.json() == {"count": 1}  # one was his already
    rep_answer = api_client_for(people["owner"]).post(
        "/api/v1/customers/hand-over/",
        {
            "from_user": people["owner"].username,
            "owner": people["north_rep"].username,
            "reason": "x",
        },
        format="json",
    )
    assert rep_answer.status_code == 403
    handed = manager.post(
        "/api/v1/customers/hand-over/",
        {
            "from_user": people["owner"].username,
            "owner": people["north_rep"].username,
            "reason": "Left",
        },
        format="json",
    )
    assert handed.status_code == 200 and handed.json() == {"count": 2}
    assert _owners(*cards["north"]) == [people["north_rep"].pk] * 2
