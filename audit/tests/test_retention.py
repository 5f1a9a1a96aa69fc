"""Retention and the crypto-shredding purge (issue 12 item 3)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connections

from audit import events, retention
from audit.models import AuditEvent, DestructionRecord, LegalHold, PurgedSubject
from audit.services import audit_chain_verify
from audit.tests import factories as f
from crm import encryption, privacy, roles
from crm.fields import is_erased
from crm.models import DataKey, SearchDigest
from crm.tests.factories import TeamFactory, UserFactory
from customers import services
from customers.models import Customer
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db


def _dump(alias: str) -> str:
    connection = connections[alias]
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from the db)
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


@pytest.fixture
def dpo():
    return UserFactory(role=roles.DPO)


@pytest.fixture
def owner():
    return rep(team=TeamFactory(name="North"))


def _organisation_with_canary_name(owner):
    return make_customer(owner, kind=Customer.Kind.ORGANISATION, name=f.CANARY_ORGANISATION)


def test_purge_leaves_no_canary_in_any_table_of_either_database_and_keeps_sales(dpo, owner):
    customer = f.canary_customer(owner)
    organisation = _organisation_with_canary_name(owner)
    other = make_customer(owner, name="王其他")
    f.sales(customer, ["100.00", "250.50"])
    f.sales(other, ["30.00"])
    f.complaint(customer, owner, status="closed")
    total = f.sales_total()
    key_id = customer.data_key_id
    dump = f"{_dump('default')}\n{_dump('keys')}"
    assert f.CANARY_ORGANISATION in dump  # business data in clear until the purge
    assert SearchDigest.objects.filter(data_key_id=key_id).exists()

    retention.customer_purge(actor=dpo, customer=customer)
    retention.customer_purge(actor=dpo, customer=organisation)

    dump = f"{_dump('default')}\n{_dump('keys')}"
    for canary in (
        f.CANARY_NAME,
        f.CANARY_PHONE,
        f.CANARY_ID,
        f.CANARY_NOTE,
        f.CANARY_COMPLAINT,
        f.CANARY_ORGANISATION,
    ):
        assert canary not in dump, canary
    assert not DataKey.objects.filter(id=key_id).exists()
    assert not SearchDigest.objects.filter(data_key_id=key_id).exists()
    # Not even the ciphertexts remain: personal columns and their history are empty.
    card = Customer.objects.get(pk=customer.pk)
    assert card.code == customer.code and card.name in ("", None)
    assert all(h.name in ("", None) for h in card.history.all())
    assert f.sales_total() == total
    # Other customers read fine.
    encryption.clear_key_cache()
    assert Customer.objects.get(pk=other.pk).name == "王其他"


def test_the_destruction_record_is_hashed_into_the_audit_chain(dpo, owner):
    customer = f.canary_customer(owner)
    record = retention.customer_purge(actor=dpo, customer=customer)
    assert record.status == DestructionRecord.Status.DONE
    assert record.subjects == 1
    assert record.counts["customers.customer"] == 1
    assert record.counts["customers.interaction"] == 1
    assert record.record_hash == record.compute_hash()
    event = AuditEvent.objects.get(action=events.DESTRUCTION_RECORDED)
    assert event.data["hash"] == record.record_hash
    assert AuditEvent.objects.filter(
        action=events.CUSTOMER_PURGED, object_id=str(customer.pk)
    ).exists()
    # Counts and codes only: no value in the events' data.
    assert f.CANARY_NAME not in repr(list(AuditEvent.objects.values_list("data", flat=True)))
    assert audit_chain_verify().intact


def test_a_legal_hold_prevents_the_purge(dpo, owner):
    customer = f.canary_customer(owner)
    f.age(customer, years=10)
    hold = retention.legal_hold_place(actor=dpo, customer=customer, reason="诉讼保全")

    with pytest.raises(ValidationError):
        retention.customer_purge(actor=dpo, customer=customer)
    plan, record = retention.purge_expired()
    assert plan.skipped == {"legal_hold": 1}
    assert record.subjects == 0
    assert Customer.objects.get(pk=customer.pk).name == f.CANARY_NAME

    retention.legal_hold_lift(actor=dpo, hold_id=hold.pk, reason="结案")
    _plan, record = retention.purge_expired()
    assert record.subjects == 1
    assert (
        is_erased(Customer.objects.get(pk=customer.pk).name)
        or not Customer.objects.get(pk=customer.pk).name
    )


def test_a_hold_needs_a_reason_and_only_the_dpo_places_it(owner, dpo):
    customer = make_customer(owner)
    with pytest.raises(ValidationError):
        retention.legal_hold_place(actor=dpo, customer=customer, reason=" ")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        retention.legal_hold_place(actor=owner, customer=customer, reason="x")
    assert LegalHold.objects.count() == 0


def test_the_daily_run_purges_only_what_expired_and_dry_run_changes_nothing(owner):
    old = f.canary_customer(owner)
    recent = make_customer(owner, name="新客户")
    f.age(old, years=6)  # the default customer policy keeps 5 years

    call_command("purge_expired", "--dry-run")
    assert PurgedSubject.objects.count() == 0
    plan = retention.retention_plan()
    assert [c.pk for c, _policy in plan.customers] == [old.pk]

    call_command("purge_expired")
    assert list(PurgedSubject.objects.values_list("customer_id", flat=True)) == [old.pk]
    assert Customer.objects.get(pk=recent.pk).name == "新客户"
    # Idempotent: a second run purges nothing more.
    _plan, record = retention.purge_expired()
    assert record.subjects == 0


def test_recent_trading_keeps_an_old_card(owner):
    customer = f.canary_customer(owner)
    f.age(customer, years=6)
    services.interaction_log(actor=owner, customer=customer, kind="visit", summary="again")
    from customers.models import Customer as C

    C.objects.filter(pk=customer.pk).update(updated_at=customer.updated_at.replace(year=2000))
    assert retention.retention_plan().customers == []


def test_an_open_matter_of_any_provider_vetoes_the_purge(dpo, owner, monkeypatch):
    customer = f.canary_customer(owner)
    f.age(customer, years=6)
    provider = privacy.Provider(
        app="zz_test", models=(), open_matters=lambda c: ["An invoice is unpaid."]
    )
    monkeypatch.setitem(privacy._providers, "zz_test", provider)
    with pytest.raises(ValidationError) as refused:
        retention.customer_purge(actor=dpo, customer=customer)
    assert "An invoice is unpaid." in str(refused.value)
    plan, _record = retention.purge_expired()
    assert plan.skipped == {"open_matter": 1}


def test_a_purge_interrupted_while_scrubbing_rolls_back_and_reruns(dpo, owner):
    customer = f.canary_customer(owner)
    f.age(customer, years=6)
    real = privacy.Provider.scrub_rows
    calls = []

    def crash_on_the_second_provider(provider, subject):
        calls.append(provider.app)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(provider, subject)

    crash = mock.patch.object(privacy.Provider, "scrub_rows", crash_on_the_second_provider)
    with crash, pytest.raises(RuntimeError):
        retention.purge_expired()
    encryption.clear_key_cache()
    assert Customer.objects.get(pk=customer.pk).name == f.CANARY_NAME  # rolled back
    assert DataKey.objects.filter(id=customer.data_key_id).exists()

    _plan, record = retention.purge_expired()
    assert record.subjects == 1
    assert not DataKey.objects.filter(id=customer.data_key_id).exists()
    assert DestructionRecord.objects.filter(status=DestructionRecord.Status.RUNNING).count() == 0


def test_a_purge_interrupted_before_the_key_is_destroyed_is_finished_by_the_next_run(dpo, owner):
    customer = f.canary_customer(owner)
    f.age(customer, years=6)
    crash = mock.patch.object(encryption, "data_keys_delete_now", side_effect=RuntimeError("x"))
    with crash, pytest.raises(RuntimeError):
        retention.purge_expired()
    subject = PurgedSubject.objects.get(customer_id=customer.pk)
    assert subject.state == PurgedSubject.State.SCRUBBED
    assert DataKey.objects.filter(id=customer.data_key_id).exists()

    retention.purge_expired()
    subject.refresh_from_db()
    assert subject.state == PurgedSubject.State.DESTROYED
    assert not DataKey.objects.filter(id=customer.data_key_id).exists()
    first = subject.record
    first.refresh_from_db()
    assert first.status == DestructionRecord.Status.DONE and first.subjects == 1


def test_old_interaction_notes_expire_under_their_own_policy(owner):
    customer = make_customer(owner)
    services.interaction_log(actor=owner, customer=customer, kind="call", summary=f.CANARY_NOTE)
    customer.interactions.update(occurred_at=customer.created_at.replace(year=2001))
    _plan, record = retention.purge_expired()
    interaction = customer.interactions.get()
    assert interaction.summary in ("", None)
    assert record.counts["records.interaction"] == 1
    assert f.CANARY_NOTE not in _dump("default")


def test_after_a_purge_a_hold_is_refused_and_a_request_is_kept_under_the_master_key(dpo, owner):
    from audit import subject_requests
    from audit.models import SubjectRequest

    customer = f.canary_customer(owner)
    retention.customer_purge(actor=dpo, customer=customer)
    customer = Customer.objects.get(pk=customer.pk)

    with pytest.raises(ValidationError) as refused:
        retention.legal_hold_place(actor=dpo, customer=customer, reason="诉讼保全")
    assert "customer" in refused.value.message_dict
    assert not LegalHold.objects.filter(customer_id=customer.pk).exists()

    request = subject_requests.subject_request_open(
        actor=dpo,
        customer=customer,
        kind=SubjectRequest.Kind.ACCESS,
        details="本人来电询问剩余数据",
    )
    stored = SubjectRequest.objects.get(pk=request.pk)
    assert stored.subject_key_id is None
    assert stored.details == "本人来电询问剩余数据"
