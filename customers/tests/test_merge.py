"""Merging duplicate cards: every child row moves, nothing is lost, both histories stay."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import TextField
from django.db.models.functions import Cast

from audit.models import AuditEvent
from crm import encryption, roles
from crm.tests.factories import TeamFactory, UserFactory
from customers import events, services
from customers.models import Contact, Customer, Interaction, StageMove
from customers.services.merge import child_counts
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db


def _fill(customer, actor):
    services.contact_save(actor=actor, customer=customer, name="王芳", phone="13900000001")
    services.consent_record(actor=actor, customer=customer, purpose="marketing", channel="web")
    services.interaction_log(actor=actor, customer=customer, kind="call", summary="电话回访")
    services.interaction_log(actor=actor, customer=customer, kind="visit", summary="上门拜访")
    services.visit_plan_add(actor=actor, customer=customer)


@pytest.fixture
def pair():
    team = TeamFactory(name="North")
    owner = rep(team=team)
    manager = manager_of(team)
    survivor = make_customer(owner, name="张明华")
    duplicate = make_customer(owner, name="张明华 ")
    _fill(survivor, owner)
    _fill(duplicate, owner)
    services.customer_update(
        actor=owner, customer_id=duplicate.pk, version=1, changes={"address": "北京市海淀区1号"}
    )
    return manager, owner, survivor, duplicate


def test_every_child_row_moves_and_nothing_is_lost(pair):
    manager, _owner, survivor, duplicate = pair
    before_survivor, before_duplicate = child_counts(survivor), child_counts(duplicate)
    assert sum(before_duplicate.values()) >= 7

    moved = services.customer_merge(
        actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk, reason="same person"
    )

    after_survivor, after_duplicate = child_counts(survivor), child_counts(duplicate)
    assert sum(after_duplicate.values()) == 0
    for label, count in before_duplicate.items():
        assert after_survivor[label] == before_survivor[label] + count, label
        assert moved.get(label, 0) == count
    duplicate.refresh_from_db()
    assert duplicate.status == Customer.Status.MERGED and duplicate.merged_into == survivor


def test_moved_rows_are_re_encrypted_under_the_survivors_key(pair):
    manager, _owner, survivor, duplicate = pair
    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    tokens = Contact.objects.filter(customer=survivor).values_list(
        Cast("name", TextField()), flat=True
    )
    assert {encryption.key_id_of(t) for t in tokens} == {str(survivor.data_key_id)}
    assert {c.name for c in Contact.objects.filter(customer=survivor)} == {"王芳"}
    summaries = {i.summary for i in Interaction.objects.filter(customer=survivor)}
    assert summaries == {"电话回访", "上门拜访"}


def test_both_histories_and_the_merge_show_on_the_survivor(pair):
    manager, _owner, survivor, duplicate = pair
    services.customer_merge(
        actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk, reason="same person"
    )
    from customers.selectors import customer_timeline

    timeline = customer_timeline(customer=survivor)
    titles = [entry.title for entry in timeline]
    assert titles.count("Card created") == 2
    assert "Card merged" in titles
    changed = [e for e in timeline if e.title == "Card changed"]
    assert any(
        label == "address" and value == "北京市海淀区****"
        for e in changed
        for label, value in e.changes
    )
    event = AuditEvent.objects.get(action=events.CUSTOMER_MERGED)
    assert event.data["duplicate_id"] == duplicate.pk and event.reason == "same person"
    assert StageMove.objects.filter(customer=survivor).count() == 2


def test_merge_rules(pair):
    manager, owner, survivor, duplicate = pair
    with pytest.raises(PermissionDenied):
        services.customer_merge(actor=owner, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    with pytest.raises(ValidationError):
        services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=survivor.pk)
    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    with pytest.raises(ValidationError):
        services.customer_merge(actor=manager, survivor_id=duplicate.pk, duplicate_id=survivor.pk)


def test_merged_card_frees_its_phone_and_leaves_lists(pair):
    manager, owner, survivor, duplicate = pair
    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    from customers.selectors import customer_list

    assert duplicate.pk not in set(customer_list(user=manager).values_list("pk", flat=True))
    gm = UserFactory(role=roles.GENERAL_MANAGER)
    assert customer_list(user=gm).count() == 1
