"""Merging duplicate cards: every child row moves, nothing is lost, both histories stay."""

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import TextField
from django.db.models.functions import Cast

from audit.models import AuditEvent
from crm import encryption, roles
from crm.tests.factories import TeamFactory, UserFactory
from customers import events, services
from customers.models import Contact, Customer, Interaction, StageMove
from customers.selectors import child_counts
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

    timeline = customer_timeline(customer=survivor, user=manager)
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


# --- merge policies: conflicts refuse, combine or stay; nothing is deleted ---------------


def _total_rows(*models):
    return {m._meta.label_lower: m._default_manager.count() for m in models}


def test_a_conflict_without_a_policy_refuses_and_nothing_changes(pair):
    from tests.testapp.models import Membership

    manager, _owner, survivor, duplicate = pair
    Membership.objects.create(customer=survivor, club="golf")
    Membership.objects.create(customer=duplicate, club="golf")
    Membership.objects.create(customer=duplicate, club="chess")
    before = child_counts(survivor), child_counts(duplicate)

    with pytest.raises(ValidationError) as refused:
        services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)

    assert "Memberships: 1" in refused.value.messages[0]
    assert (child_counts(survivor), child_counts(duplicate)) == before
    duplicate.refresh_from_db()
    assert duplicate.status != Customer.Status.MERGED
    assert not AuditEvent.objects.filter(action=events.CUSTOMER_MERGED).exists()


def test_refuse_if_conflict_lists_what_conflicts(pair, monkeypatch):
    from customers import merge_policies
    from customers.models import VisitPlanEntry

    manager, _owner, survivor, duplicate = pair
    monkeypatch.setitem(
        merge_policies._policies,
        "customers.visitplanentry",
        merge_policies.MergePolicy(merge_policies.REFUSE_IF_CONFLICT),
    )
    before = _total_rows(VisitPlanEntry)
    with pytest.raises(ValidationError) as refused:
        services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    assert "Visit plan entries: 1" in refused.value.messages[0]
    assert _total_rows(VisitPlanEntry) == before
    assert VisitPlanEntry.objects.filter(customer=duplicate, status="active").count() == 1


def test_a_business_rule_declared_with_same_row_refuses(pair, monkeypatch):
    from django.db.models import Q

    from customers import merge_policies

    manager, _owner, survivor, duplicate = pair
    monkeypatch.setitem(
        merge_policies._policies,
        "customers.consent",
        merge_policies.MergePolicy(
            merge_policies.REFUSE_IF_CONFLICT,
            same_row=("purpose",),
            where=Q(withdrawn_at__isnull=True),
        ),
    )
    with pytest.raises(ValidationError) as refused:
        services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    assert "Consents: 1" in refused.value.messages[0]


def test_the_refusal_is_shown_on_the_page_and_answers_400_in_the_api(pair, client):
    from rest_framework.test import APIClient

    from tests.testapp.models import Membership

    manager, _owner, survivor, duplicate = pair
    Membership.objects.create(customer=survivor, club="golf")
    Membership.objects.create(customer=duplicate, club="golf")
    client.force_login(manager)
    from django.urls import reverse

    page = client.post(
        reverse("customers:merge"),
        {"survivor": survivor.code, "duplicate": duplicate.code, "reason": "same person"},
    )
    assert page.status_code == 200
    assert "Memberships: 1" in page.content.decode()
    api = APIClient()
    api.force_authenticate(manager)
    response = api.post(
        "/api/v1/customers/merge/",
        {"survivor": survivor.pk, "duplicate": duplicate.pk, "reason": "same person"},
        format="json",
    )
    assert response.status_code == 400
    assert "Memberships: 1" in response.json()["non_field_errors"][0]
    assert Membership.objects.count() == 2


def test_active_visit_plan_entries_of_one_rep_combine(pair):
    import datetime

    from customers.models import VisitPlanEntry

    manager, owner, survivor, duplicate = pair
    soon = datetime.date.today() + datetime.timedelta(days=2)
    VisitPlanEntry.objects.filter(customer=duplicate).update(next_visit_on=soon)
    total = VisitPlanEntry.objects.count()

    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)

    entries = VisitPlanEntry.objects.filter(customer=survivor, rep=owner).order_by("pk")
    assert [e.status for e in entries] == ["active", "cancelled"]
    assert entries[0].next_visit_on == soon  # the earlier planned visit carried over
    assert entries[1].removed_reason == ""  # the merge was given no reason
    assert VisitPlanEntry.objects.count() == total


def test_custom_attribute_values_combine_and_the_duplicates_rows_stay(pair):
    from customers.models import CustomAttribute, CustomAttributeValue

    manager, owner, survivor, duplicate = pair
    CustomAttribute.objects.create(
        code="health", label="Health", value_type="text", sensitivity="sensitive"
    )
    CustomAttribute.objects.create(code="size", label="Size", value_type="text")
    CustomAttribute.objects.create(code="shoe", label="Shoe", value_type="text")
    services.attribute_values_set(
        actor=owner, customer=survivor, values={"health": "", "size": "L", "shoe": "42"}
    )
    services.attribute_values_set(
        actor=owner, customer=duplicate, values={"health": "糖尿病", "size": "M", "shoe": "43"}
    )
    total = CustomAttributeValue.objects.count()

    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)

    values = {
        v.attribute.code: v.display_value
        for v in CustomAttributeValue.objects.filter(customer=survivor).select_related("attribute")
    }
    assert values == {"health": "糖尿病", "size": "L", "shoe": "42"}
    assert CustomAttributeValue.objects.count() == total  # nothing deleted
    assert CustomAttributeValue.objects.filter(customer=duplicate).count() == 3
    health = CustomAttributeValue.objects.get(customer=survivor, attribute__code="health")
    assert encryption.key_id_of(raw_token(health, "secret_value")) == str(survivor.data_key_id)
    event = AuditEvent.objects.get(action=events.CUSTOMER_MERGED)
    assert event.data["combined"]["customers.customattributevalue"] == 3


def raw_token(row, field):
    return (
        type(row).objects.filter(pk=row.pk).values_list(Cast(field, TextField()), flat=True).get()
    )


def test_a_redundant_grant_is_revoked_with_audit_and_a_lone_grant_moves(pair):
    from django.contrib.auth.models import Group, Permission

    from customers.models import CustomerGroupObjectPermission, CustomerUserObjectPermission

    manager, _owner, survivor, duplicate = pair
    both, only_duplicate = UserFactory(), UserFactory()
    services.customer_access_grant(actor=manager, customer=survivor, user=both, reason="case")
    services.customer_access_grant(actor=manager, customer=duplicate, user=both, reason="case")
    services.customer_access_grant(
        actor=manager, customer=duplicate, user=only_duplicate, reason="case"
    )
    group = Group.objects.create(name="hotline")
    view = Permission.objects.get(codename="view_customer")
    for card in (survivor, duplicate):
        CustomerGroupObjectPermission.objects.create(
            group=group, permission=view, content_object=card
        )

    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)

    on_survivor = CustomerUserObjectPermission.objects.filter(content_object=survivor)
    assert set(on_survivor.values_list("user_id", flat=True)) == {both.pk, only_duplicate.pk}
    assert not CustomerUserObjectPermission.objects.filter(content_object=duplicate).exists()
    assert CustomerGroupObjectPermission.objects.filter(content_object=survivor).count() == 1
    revoked = AuditEvent.objects.filter(action=events.CUSTOMER_ACCESS_REVOKED)
    assert {
        (e.object_id, bool(e.data.get("user_id")), bool(e.data.get("group_id"))) for e in revoked
    } == {
        (str(duplicate.pk), True, False),
        (str(duplicate.pk), False, True),
    }
    assert CustomerUserObjectPermission.history.filter(
        content_object_id=duplicate.pk, user_id=both.pk, history_type="-"
    ).exists()


def test_protect_children_move_and_another_apps_policy_combines(pair):
    from crm import auditing
    from tests.testapp.models import LoyaltyCard

    manager, owner, survivor, duplicate = pair
    LoyaltyCard.objects.create(customer=survivor, number="L-1", points=10, holder="张明华")
    LoyaltyCard.objects.create(customer=duplicate, number="L-2", points=5, holder="张明华")
    lone = make_customer(owner, name="李雷")
    other_survivor = make_customer(owner, name="李雷")
    moved = LoyaltyCard.objects.create(customer=lone, number="L-3", points=7, holder="李雷")
    moved.holder = "李 雷"
    moved.save()  # a history row written under the duplicate's key

    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    services.customer_merge(actor=manager, survivor_id=other_survivor.pk, duplicate_id=lone.pk)

    # COMBINE (registered by tests.testapp): points add up, the duplicate's card stays.
    assert LoyaltyCard.objects.get(customer=survivor).points == 15
    assert LoyaltyCard.objects.filter(customer=duplicate).count() == 1
    # A PROTECT child without a counterpart moves, re-encrypted under the new key.
    card = LoyaltyCard.objects.get(pk=moved.pk)
    assert card.customer_id == other_survivor.pk and card.holder == "李 雷"
    assert encryption.key_id_of(raw_token(card, "holder")) == str(other_survivor.data_key_id)
    # Its history from before the merge still opens under the merged card's key.
    history = [r.holder for r in LoyaltyCard.history.filter(id=moved.pk).order_by("history_id")]
    assert history == ["李雷", "李 雷", "李 雷"]
    assert LoyaltyCard.objects.count() == 3
    assert not AuditEvent.objects.filter(action=auditing.DATA_INTEGRITY_FAILURE).exists()


def test_many_to_many_links_move_and_shared_links_stay(pair):
    from tests.testapp.models import Tag

    manager, _owner, survivor, duplicate = pair
    shared, lone = Tag.objects.create(name="vip"), Tag.objects.create(name="north")
    shared.customers.add(survivor, duplicate)
    lone.customers.add(duplicate)
    links = Tag.customers.through.objects.count()

    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)

    assert set(survivor.testapp_tags.values_list("name", flat=True)) == {"vip", "north"}
    assert list(duplicate.testapp_tags.values_list("name", flat=True)) == ["vip"]
    assert Tag.customers.through.objects.count() == links


def test_history_of_moved_rows_stays_readable_and_the_duplicates_key_is_kept(pair):
    import datetime

    from crm import auditing
    from crm.key_sweep import data_keys_sweep
    from crm.models import DataKey
    from customers.selectors import customer_timeline

    manager, owner, survivor, duplicate = pair
    contact = Contact.objects.get(customer=duplicate)
    services.contact_save(actor=owner, customer=duplicate, contact=contact, name="王芳芳")
    encryption.clear_key_cache()

    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    data_keys_sweep(older_than=datetime.timedelta(0))
    encryption.clear_key_cache()

    assert DataKey.objects.using("keys").filter(id=duplicate.data_key_id).exists()
    records = list(Contact.history.filter(id=contact.pk).order_by("history_id"))
    assert [r.name for r in records] == ["王芳", "王芳芳", "王芳芳"]
    assert [str(r.data_key_id) for r in records] == [
        str(duplicate.data_key_id),
        str(duplicate.data_key_id),
        str(survivor.data_key_id),
    ]
    timeline = customer_timeline(customer=survivor, user=manager)
    assert any(value == "北京市海淀区****" for entry in timeline for _label, value in entry.changes)
    assert not AuditEvent.objects.filter(action=auditing.DATA_INTEGRITY_FAILURE).exists()


def test_cards_merged_into_the_duplicate_follow_it(pair):
    manager, owner, survivor, duplicate = pair
    older = make_customer(owner, name="张明华")
    services.customer_merge(actor=manager, survivor_id=duplicate.pk, duplicate_id=older.pk)
    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    older.refresh_from_db()
    assert older.merged_into_id == survivor.pk


# --- opposite merges at once (PostgreSQL row locks) ----------------------------------------

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL row locks and concurrency")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_opposite_merges_at_once_give_one_merge_and_one_clear_refusal(monkeypatch):
    import threading

    from django.db import connections

    from customers.services import merge

    team = TeamFactory(name="North")
    owner = rep(team=team)
    manager = manager_of(team)
    first, second = make_customer(owner, name="张明华"), make_customer(owner, name="张明华")
    _fill(first, owner)
    _fill(second, owner)
    both_checked = threading.Barrier(2, timeout=20)
    real_access = merge.perms.access_customer
    calls = threading.local()

    def racing_access(user, customer_id, **kwargs):
        found = real_access(user, customer_id, **kwargs)
        calls.count = getattr(calls, "count", 0) + 1
        if calls.count == 2:
            both_checked.wait()  # both merges passed their checks before either locks
        return found

    monkeypatch.setattr(merge.perms, "access_customer", racing_access)
    outcomes = []

    def run(survivor, duplicate):
        try:
            services.customer_merge(
                actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk
            )
            outcomes.append("merged")
        except ValidationError as refusal:
            outcomes.append(" ".join(refusal.messages))
        except Exception as error:  # a deadlock would land here
            outcomes.append(repr(error))
        finally:
            for alias in connections:
                connections[alias].close()

    threads = [
        threading.Thread(target=run, args=pair) for pair in ((first, second), (second, first))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == 2 and outcomes.count("merged") == 1, outcomes
    refusal = next(o for o in outcomes if o != "merged")
    assert "merged already" in refusal
    statuses = sorted(Customer.objects.values_list("status", flat=True))
    assert statuses.count(Customer.Status.MERGED) == 1
    assert AuditEvent.objects.filter(action=events.CUSTOMER_MERGED).count() == 1
