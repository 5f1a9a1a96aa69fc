"""A merge takes the duplicate's owner (with his team), service stage and status through the
card's own actions, under their rules, in the merge's transaction: an owner change (a
manager within his team, the general manager across teams), a stage move with the
duplicate's responsible user, a status change the card's transitions allow. The kind is
never taken."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from crm import roles
from crm.tests.factories import TeamFactory, UserFactory
from customers import events, services
from customers.models import Customer, Interaction, ServiceStage, StageMove
from customers.services import merge
from customers.services.merge import customer_merge_preview
from customers.services.workspace import customer_owner_change, customer_status_change
from customers.tests.factories import api_client_for, make_customer, manager_of, rep

pytestmark = pytest.mark.django_db

Status = Customer.Status


@pytest.fixture
def people():
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    return {
        "north": north,
        "south": south,
        "owner": rep(team=north),
        "colleague": rep(team=north),
        "manager": manager_of(north),
        "south_rep": rep(team=south),
        "south_manager": manager_of(south),
        "gm": UserFactory(role=roles.GENERAL_MANAGER),
        "service": UserFactory(role=roles.SERVICE_STAFF),
        "auditor": UserFactory(role=roles.AUDITOR),
    }


@pytest.fixture
def pair(people):
    """The survivor is the owner's; the duplicate his colleague's (both of team North),
    with one interaction to move."""
    survivor = make_customer(people["owner"], name="张明华")
    duplicate = make_customer(people["colleague"], name="张明华")
    services.interaction_log(
        actor=people["colleague"], customer=duplicate, kind="call", summary="电话回访"
    )
    return survivor, duplicate


def _merge(actor, survivor, duplicate, names, reason="same person"):
    return services.customer_merge(
        actor=actor,
        survivor_id=survivor.pk,
        duplicate_id=duplicate.pk,
        reason=reason,
        take_from_duplicate=names,
    )


def _events(action, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("pk"))


def _assert_nothing_merged(survivor, duplicate, owner_id, status=Status.PROSPECT):
    """Both cards as they were: the duplicate open with its interaction, the survivor's
    owner and status unchanged, no merge recorded."""
    card, other = Customer.objects.get(pk=survivor.pk), Customer.objects.get(pk=duplicate.pk)
    assert (card.owner_id, card.status, card.version) == (owner_id, status, survivor.version)
    assert other.status != Status.MERGED and other.merged_into_id is None
    assert Interaction.objects.filter(customer=duplicate).count() == 1
    assert Interaction.objects.filter(customer=survivor).count() == 0
    assert _events(events.CUSTOMER_MERGED) == []


def _second_stage():
    return ServiceStage.objects.get(code="signed")


# --- owner ----------------------------------------------------------------------------------


def test_a_manager_takes_the_duplicates_owner_within_his_team(people, pair):
    survivor, duplicate = pair
    manager, colleague = people["manager"], people["colleague"]

    _merge(manager, survivor, duplicate, ["owner"])

    card = Customer.objects.get(pk=survivor.pk)
    assert (card.owner_id, card.team_id) == (colleague.pk, people["north"].pk)
    (changed,) = _events(events.CUSTOMER_OWNER_CHANGED, actor=manager)
    assert changed.object_id == str(survivor.pk) and changed.reason == "same person"
    assert changed.data == {
        "from_owner_id": people["owner"].pk,
        "to_owner_id": colleague.pk,
        "bulk": False,
    }
    assert card.history.filter(owner_id=colleague.pk).count() == 1
    (merged,) = _events(events.CUSTOMER_MERGED)
    # Field names only, never values.
    assert merged.data["taken_from_duplicate"] == ["owner"]
    assert Customer.objects.get(pk=duplicate.pk).status == Status.MERGED


def test_the_general_manager_takes_an_owner_of_another_team_with_his_team(people):
    south_rep = people["south_rep"]
    survivor = make_customer(people["owner"])
    duplicate = make_customer(south_rep)

    _merge(people["gm"], survivor, duplicate, ["owner"])

    card = Customer.objects.get(pk=survivor.pk)
    assert (card.owner_id, card.team_id) == (south_rep.pk, people["south"].pk)
    (changed,) = _events(events.CUSTOMER_OWNER_CHANGED, actor=people["gm"])
    assert changed.data["to_owner_id"] == south_rep.pk


def test_a_manager_cannot_take_an_owner_of_another_team(people, pair, monkeypatch):
    """The duplicate goes to a rep of team South (the general manager reassigns it) while
    the manager confirms the merge: its owner is no longer one he may give cards to."""
    survivor, duplicate = pair
    manager, south_rep = people["manager"], people["south_rep"]
    checked = merge._pair

    def checked_then_reassigned(actor, survivor_id, duplicate_id):
        checked(actor, survivor_id, duplicate_id)
        customer_owner_change(actor=people["gm"], customer_id=duplicate_id, owner=south_rep)

    monkeypatch.setattr(merge, "_pair", checked_then_reassigned)

    with pytest.raises(ValidationError) as refused:
        _merge(manager, survivor, duplicate, ["owner"])

    assert refused.value.message_dict["take_from_duplicate"] == [
        "Owner: The duplicate's owner cannot be made owner by you: choose an active sales "
        "rep or manager of your own team (the general manager: of any team)."
    ]
    _assert_nothing_merged(survivor, duplicate, people["owner"].pk)
    assert _events(events.CUSTOMER_OWNER_CHANGED, actor=manager) == []


def test_an_inactive_owner_cannot_be_taken(people, pair):
    survivor, duplicate = pair
    colleague = people["colleague"]
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])

    with pytest.raises(ValidationError) as refused:
        _merge(people["manager"], survivor, duplicate, ["owner"])

    assert refused.value.message_dict["take_from_duplicate"][0].startswith(
        "Owner: The duplicate's owner cannot be made owner by you"
    )
    _assert_nothing_merged(survivor, duplicate, people["owner"].pk)


def test_a_refusal_by_a_cards_action_rolls_the_whole_merge_back(people, pair, monkeypatch):
    """The actions run after the rows moved, in the merge's transaction: when one refuses
    (here the status change, as if the card had changed meanwhile), nothing stays, the
    owner change before it included."""
    survivor, duplicate = pair
    customer_status_change(
        actor=people["colleague"], customer_id=duplicate.pk, to_status=Status.ACTIVE
    )

    def refused(**kwargs):
        raise ValidationError({"to_status": ["changed meanwhile"]})

    monkeypatch.setattr(merge, "customer_status_change", refused)

    history = survivor.history.count()

    with pytest.raises(ValidationError):
        _merge(people["manager"], survivor, duplicate, ["owner", "status"])

    _assert_nothing_merged(survivor, duplicate, people["owner"].pk)
    assert _events(events.CUSTOMER_OWNER_CHANGED) == []
    assert survivor.history.count() == history


# --- stage ----------------------------------------------------------------------------------


def test_the_stage_is_taken_as_a_stage_move_with_the_duplicates_responsible(people, pair):
    survivor, duplicate = pair
    manager, colleague = people["manager"], people["colleague"]
    first, second = survivor.stage, _second_stage()
    services.stage_move(
        actor=colleague, customer_id=duplicate.pk, to_stage=second, responsible=colleague
    )
    assert StageMove.objects.filter(customer=survivor).count() == 1
    assert StageMove.objects.filter(customer=duplicate).count() == 2

    _merge(manager, survivor, duplicate, ["stage"])

    card = Customer.objects.get(pk=survivor.pk)
    assert (card.stage_id, card.stage_owner_id) == (second.pk, colleague.pk)
    # Its own move, the duplicate's two, and the merge's.
    assert StageMove.objects.filter(customer=survivor).count() == 4
    move = StageMove.objects.filter(customer=survivor).latest("pk")
    assert (move.from_stage_id, move.to_stage_id) == (first.pk, second.pk)
    assert (move.responsible_id, move.moved_by_id) == (colleague.pk, manager.pk)
    (moved,) = _events(events.STAGE_MOVED, actor=manager)
    assert moved.object_id == str(survivor.pk)
    assert moved.data == {"from": first.pk, "to": second.pk, "responsible_id": colleague.pk}
    assert _events(events.CUSTOMER_MERGED)[0].data["taken_from_duplicate"] == ["stage"]


def test_a_stage_whose_responsible_works_on_another_team_needs_the_owner_too(people):
    """The duplicate's responsible user (team South) works on the survivor only once its
    owner is taken too (the owner change comes first)."""
    gm, south_rep = people["gm"], people["south_rep"]
    survivor = make_customer(people["owner"])
    duplicate = make_customer(south_rep)
    services.stage_move(
        actor=south_rep, customer_id=duplicate.pk, to_stage=_second_stage(), responsible=south_rep
    )

    preview = customer_merge_preview(actor=gm, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    stage = next(f for f in preview.fields if f.name == "stage")
    assert stage.mergeable and stage.note == ""
    assert stage.hint.endswith("Only together with the duplicate's owner.")

    with pytest.raises(ValidationError) as refused:
        _merge(gm, survivor, duplicate, ["stage"])
    assert refused.value.message_dict["take_from_duplicate"] == [
        "Service stage: The duplicate's stage has no responsible user who works on the "
        "surviving card."
    ]
    assert _events(events.CUSTOMER_MERGED) == []

    _merge(gm, survivor, duplicate, ["stage", "owner"])
    card = Customer.objects.get(pk=survivor.pk)
    assert (card.owner_id, card.stage.code, card.stage_owner_id) == (
        south_rep.pk,
        "signed",
        south_rep.pk,
    )


# --- status ---------------------------------------------------------------------------------


def test_an_allowed_status_is_taken_as_a_status_change(people, pair):
    survivor, duplicate = pair
    manager = people["manager"]
    customer_status_change(
        actor=people["colleague"], customer_id=duplicate.pk, to_status=Status.ACTIVE
    )

    _merge(manager, survivor, duplicate, ["status"])

    assert Customer.objects.get(pk=survivor.pk).status == Status.ACTIVE
    (changed,) = _events(events.CUSTOMER_STATUS_CHANGED, actor=manager)
    assert changed.object_id == str(survivor.pk)
    assert changed.data == {"from": Status.PROSPECT, "to": Status.ACTIVE}


def test_a_status_transition_not_allowed_is_refused_with_its_message(people, pair):
    survivor, duplicate = pair
    colleague = people["colleague"]
    customer_status_change(actor=colleague, customer_id=duplicate.pk, to_status=Status.ACTIVE)
    customer_status_change(
        actor=colleague, customer_id=duplicate.pk, to_status=Status.DORMANT, reason="no orders"
    )

    with pytest.raises(ValidationError) as refused:
        _merge(people["manager"], survivor, duplicate, ["status", "owner"])

    assert refused.value.message_dict["take_from_duplicate"] == [
        "Status: A Prospect card cannot become Dormant."
    ]
    _assert_nothing_merged(survivor, duplicate, people["owner"].pk)
    preview = customer_merge_preview(
        actor=people["manager"], survivor_id=survivor.pk, duplicate_id=duplicate.pk
    )
    status = next(f for f in preview.fields if f.name == "status")
    assert (status.differs, status.mergeable) == (True, False)
    assert status.note == "A Prospect card cannot become Dormant."
    assert "status" not in preview.choosable and "owner" in preview.choosable


def test_a_status_that_needs_a_reason_is_refused_without_one(people, pair):
    survivor, duplicate = pair
    customer_status_change(
        actor=people["colleague"], customer_id=duplicate.pk, to_status=Status.CLOSED, reason="x"
    )
    with pytest.raises(ValidationError) as refused:
        _merge(people["manager"], survivor, duplicate, ["status"], reason="")
    assert refused.value.message_dict["take_from_duplicate"] == [
        "Status: Say why the status changes."
    ]
    _assert_nothing_merged(survivor, duplicate, people["owner"].pk)


# --- kind, team, and what does not differ ---------------------------------------------------


def test_the_kind_and_team_are_never_taken_and_the_preview_says_why(people):
    gm = people["gm"]
    survivor = make_customer(people["owner"])
    duplicate = make_customer(people["south_rep"], kind=Customer.Kind.ORGANISATION)

    preview = customer_merge_preview(actor=gm, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    notes = {f.name: (f.mergeable, f.note) for f in preview.fields if f.name in ("kind", "team")}
    assert notes == {
        "kind": (False, "The kind decides which fields a card has: it is not taken in a merge."),
        "team": (False, "The team follows the owner: take the owner to take it."),
    }
    with pytest.raises(ValidationError) as refused:
        _merge(gm, survivor, duplicate, ["kind", "team"])
    assert len(refused.value.message_dict["take_from_duplicate"]) == 2
    assert Customer.objects.get(pk=survivor.pk).kind == Customer.Kind.INDIVIDUAL


def test_an_owner_stage_or_status_the_same_on_both_cards_is_not_taken(people, pair):
    survivor, duplicate = pair
    customer_owner_change(actor=people["manager"], customer_id=duplicate.pk, owner=people["owner"])
    _merge(people["manager"], survivor, duplicate, ["owner", "stage", "status"])
    assert _events(events.CUSTOMER_MERGED)[0].data["taken_from_duplicate"] == []
    assert _events(events.STAGE_MOVED) == []
    assert _events(events.CUSTOMER_STATUS_CHANGED) == []


# --- the page and the API -------------------------------------------------------------------


def _preview_url(survivor, duplicate):
    return (
        reverse("customers:merge-preview") + f"?survivor={survivor.code}&duplicate={duplicate.code}"
    )


@pytest.fixture
def differing(people, pair):
    """The duplicate: the colleague's, at the second stage, active."""
    survivor, duplicate = pair
    colleague = people["colleague"]
    services.stage_move(
        actor=colleague, customer_id=duplicate.pk, to_stage=_second_stage(), responsible=colleague
    )
    customer_status_change(actor=colleague, customer_id=duplicate.pk, to_status=Status.ACTIVE)
    return survivor, duplicate


def test_the_preview_page_offers_owner_stage_and_status(client, people, differing):
    survivor, duplicate = differing
    client.force_login(people["manager"])
    html = client.get(_preview_url(survivor, duplicate)).content.decode()
    for name in ("owner", "stage", "status"):
        assert f'name="take_{name}" id="take_{name}_survivor" value="survivor" checked' in html
        assert f'id="take_{name}_duplicate" value="duplicate">' in html
    assert "Taken as an owner change: the owner&#x27;s team comes too." in html
    assert "Taken as a stage move, with the duplicate&#x27;s responsible user." in html
    assert 'name="take_team"' not in html


def test_the_page_merges_with_owner_stage_and_status_taken(client, people, differing):
    survivor, duplicate = differing
    client.force_login(people["manager"])
    response = client.post(
        reverse("customers:merge"),
        {
            "survivor": survivor.code,
            "duplicate": duplicate.code,
            "reason": "same person",
            "take_owner": "duplicate",
            "take_stage": "duplicate",
            "take_status": "duplicate",
        },
    )
    assert response.status_code == 302
    card = Customer.objects.get(pk=survivor.pk)
    assert (card.owner_id, card.stage.code, card.status) == (
        people["colleague"].pk,
        "signed",
        Status.ACTIVE,
    )
    merged = _events(events.CUSTOMER_MERGED)[0]
    assert merged.data["taken_from_duplicate"] == ["owner", "stage", "status"]
    for action in (events.CUSTOMER_OWNER_CHANGED, events.STAGE_MOVED):
        assert len(_events(action, actor=people["manager"])) == 1
    assert len(_events(events.CUSTOMER_STATUS_CHANGED, actor=people["manager"])) == 1


def test_a_refused_status_shows_its_message_on_the_page(client, people, pair):
    survivor, duplicate = pair
    colleague = people["colleague"]
    customer_status_change(
        actor=colleague, customer_id=duplicate.pk, to_status=Status.CLOSED, reason="gone"
    )
    client.force_login(people["manager"])
    html = client.get(_preview_url(survivor, duplicate)).content.decode()
    # A prospect may be closed (the merge's reason is the reason) ...
    assert 'id="take_status_duplicate" value="duplicate">' in html
    # ... but a closed card becomes active again, never a prospect.
    html = client.get(_preview_url(duplicate, survivor)).content.decode()
    assert "A Closed card cannot become Prospect." in html
    assert 'name="take_status"' not in html


def test_the_api_preview_reports_each_choice_and_why_not(people, pair):
    survivor, duplicate = pair
    colleague = people["colleague"]
    customer_status_change(actor=colleague, customer_id=duplicate.pk, to_status=Status.ACTIVE)
    customer_status_change(
        actor=colleague, customer_id=duplicate.pk, to_status=Status.DORMANT, reason="no orders"
    )
    response = api_client_for(people["manager"]).get(
        "/api/v1/customers/merge/preview/", {"survivor": survivor.pk, "duplicate": duplicate.pk}
    )
    assert response.status_code == 200
    body = response.json()
    fields = {f["field"]: f for f in body["fields"]}
    assert (fields["owner"]["mergeable"], fields["owner"]["note"]) == (True, "")
    assert fields["owner"]["hint"] == "Taken as an owner change: the owner's team comes too."
    assert (fields["owner"]["survivor"], fields["owner"]["duplicate"]) == (
        people["owner"].username,
        colleague.username,
    )
    assert (fields["status"]["mergeable"], fields["status"]["note"]) == (
        False,
        "A Prospect card cannot become Dormant.",
    )
    assert fields["stage"]["differs"] is False
    assert "owner" in body["choosable"]
    assert not {"stage", "status", "kind", "team"} & set(body["choosable"])


def test_the_api_merge_takes_owner_stage_and_status(people, differing):
    survivor, duplicate = differing
    response = api_client_for(people["gm"]).post(
        "/api/v1/customers/merge/",
        {
            "survivor": survivor.pk,
            "duplicate": duplicate.pk,
            "reason": "same person",
            "take_from_duplicate": ["owner", "stage", "status"],
        },
        format="json",
    )
    assert response.status_code == 200
    assert set(response.json()) == {"survivor", "moved"}
    card = Customer.objects.get(pk=survivor.pk)
    assert (card.owner_id, card.stage.code, card.status) == (
        people["colleague"].pk,
        "signed",
        Status.ACTIVE,
    )


def test_the_api_refuses_a_status_not_allowed_with_400(people, pair):
    survivor, duplicate = pair
    colleague = people["colleague"]
    customer_status_change(actor=colleague, customer_id=duplicate.pk, to_status=Status.ACTIVE)
    customer_status_change(
        actor=colleague, customer_id=duplicate.pk, to_status=Status.DORMANT, reason="no orders"
    )
    response = api_client_for(people["manager"]).post(
        "/api/v1/customers/merge/",
        {
            "survivor": survivor.pk,
            "duplicate": duplicate.pk,
            "reason": "same person",
            "take_from_duplicate": ["status"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["take_from_duplicate"] == [
        "Status: A Prospect card cannot become Dormant."
    ]
    _assert_nothing_merged(survivor, duplicate, people["owner"].pk)


@pytest.mark.parametrize("who", ["owner", "colleague", "service", "auditor"])
def test_who_may_not_merge_gets_403_with_the_new_choices(people, differing, who):
    survivor, duplicate = differing
    response = api_client_for(people[who]).post(
        "/api/v1/customers/merge/",
        {
            "survivor": survivor.pk,
            "duplicate": duplicate.pk,
            "reason": "same person",
            "take_from_duplicate": ["owner", "stage", "status"],
        },
        format="json",
    )
    assert response.status_code == 403
    _assert_nothing_merged(survivor, duplicate, people["owner"].pk)
    with pytest.raises(PermissionDenied):
        _merge(people[who], survivor, duplicate, ["owner"])


def test_the_preview_page_judges_the_choices_in_a_fixed_number_of_queries(
    client, people, differing, assert_queries
):
    """Beyond the preview's own queries (``test_workspace_merge_preview``): whether the
    manager may reassign the survivor and make the duplicate's owner its owner (2), and
    whether the stage's responsible user works on the survivor (1). The status needs none
    (a reopening would ask the owner's team manager: 1)."""
    from customers.tests.test_workspace_merge_preview import PAGE_QUERIES, _link_queries

    survivor, duplicate = differing
    client.force_login(people["manager"])
    with assert_queries(default=PAGE_QUERIES + _link_queries() + 3, keys=1):
        assert client.get(_preview_url(survivor, duplicate)).status_code == 200
