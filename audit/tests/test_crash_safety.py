"""Purge, subject request, key rotation and re-indexing jobs survive a crash mid-way:
each is interrupted, run again, and ends where an uninterrupted run would; a further run
changes nothing (issue 12 "Done when", item 7)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import TextField
from django.db.models.functions import Cast

from audit import events, retention, subject_requests
from audit.models import AuditEvent, DestructionRecord, PurgedSubject, SubjectRequest
from audit.services import audit_chain_verify, record_event
from audit.tests import factories as f
from crm import encryption, key_rotation, privacy, roles, search_index
from crm.fields import is_erased
from crm.models import DataKey, SearchDigest
from crm.tests.factories import TeamFactory, UserFactory
from customers import search, services
from customers.models import Customer
from customers.tests.factories import make_customer, rep
from tests.testapp.models import Person, Setting

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo():
    return UserFactory(role=roles.DPO)


@pytest.fixture
def owner():
    return rep(team=TeamFactory(name="North"))


def _crash_on_call(number: int, real):
    """A stand-in for ``real`` that raises on its ``number``-th call."""
    calls = []

    def stand_in(*args, **kwargs):
        calls.append(1)
        if len(calls) == number:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    return stand_in


def _erased(customer) -> bool:
    encryption.clear_key_cache()
    name = Customer.objects.get(pk=customer.pk).name
    return is_erased(name) or name in ("", None)


# --- purge ----------------------------------------------------------------------------------


def test_a_purge_interrupted_between_customers_finishes_on_the_next_run(owner):
    first, second = f.canary_customer(owner), make_customer(owner, name="王第二")
    for customer in (first, second):
        f.age(customer, years=6)
    crash = mock.patch.object(
        retention, "_scrub_subject", _crash_on_call(2, retention._scrub_subject)
    )
    with crash, pytest.raises(RuntimeError):
        retention.purge_expired()
    # The first customer is done (key gone), the second untouched, the record unfinished.
    assert PurgedSubject.objects.get().customer_id == first.pk
    assert not DataKey.objects.filter(id=first.data_key_id).exists()
    assert DataKey.objects.filter(id=second.data_key_id).exists()
    assert Customer.objects.get(pk=second.pk).name == "王第二"
    assert DestructionRecord.objects.get().status == DestructionRecord.Status.RUNNING

    _plan, record = retention.purge_expired()

    assert record.subjects == 1  # only the second: the first is not purged twice
    assert set(PurgedSubject.objects.values_list("customer_id", "state")) == {
        (first.pk, PurgedSubject.State.DESTROYED),
        (second.pk, PurgedSubject.State.DESTROYED),
    }
    assert list(DestructionRecord.objects.order_by("id").values_list("status", "subjects")) == [
        (DestructionRecord.Status.DONE, 1),
        (DestructionRecord.Status.DONE, 1),
    ]
    assert _erased(first) and _erased(second)
    assert not SearchDigest.objects.filter(
        data_key_id__in=[first.data_key_id, second.data_key_id]
    ).exists()
    assert AuditEvent.objects.filter(action=events.CUSTOMER_PURGED).count() == 2
    # Idempotent: one more run purges nothing and changes no record.
    _plan, again = retention.purge_expired()
    assert again.subjects == 0
    assert PurgedSubject.objects.count() == 2
    assert audit_chain_verify().intact


def test_a_purge_interrupted_after_the_key_but_before_its_digests_is_finished(owner):
    customer = f.canary_customer(owner)
    f.age(customer, years=6)
    assert SearchDigest.objects.filter(data_key_id=customer.data_key_id).exists()
    crash = mock.patch.object(
        search_index, "digests_delete_for_key", side_effect=RuntimeError("power cut")
    )
    with crash, pytest.raises(RuntimeError):
        retention.purge_expired()
    subject = PurgedSubject.objects.get()
    assert subject.state == PurgedSubject.State.SCRUBBED
    assert not DataKey.objects.filter(id=customer.data_key_id).exists()

    _plan, record = retention.purge_expired()

    subject.refresh_from_db()
    assert subject.state == PurgedSubject.State.DESTROYED
    assert not SearchDigest.objects.filter(data_key_id=customer.data_key_id).exists()
    assert record.subjects == 0 and subject.record.subjects == 1
    assert AuditEvent.objects.filter(action=events.DATA_KEY_DESTROYED).count() == 1


# --- subject requests -----------------------------------------------------------------------


def _deletion_request(dpo, customer) -> SubjectRequest:
    return subject_requests.subject_request_open(
        actor=dpo, customer=customer, kind=SubjectRequest.Kind.DELETION, details="删除我的信息"
    )


def test_a_deletion_request_interrupted_after_the_purge_closes_on_the_next_try(dpo, owner):
    customer = f.canary_customer(owner)
    request = _deletion_request(dpo, customer)
    crash = mock.patch.object(
        subject_requests, "record_event", side_effect=RuntimeError("power cut")
    )
    with crash, pytest.raises(RuntimeError):
        subject_requests.subject_request_close(actor=dpo, request_id=request.pk, outcome="已删除")
    # Purged (committed), but the request still open.
    assert PurgedSubject.objects.get().customer_id == customer.pk
    assert SubjectRequest.objects.get(pk=request.pk).status == SubjectRequest.Status.OPEN

    closed = subject_requests.subject_request_close(
        actor=dpo, request_id=request.pk, outcome="已删除"
    )

    assert closed.status == SubjectRequest.Status.DONE
    record = DestructionRecord.objects.get()
    assert closed.result["destruction_record"] == record.pk
    assert record.subjects == 1 and record.status == DestructionRecord.Status.DONE
    assert PurgedSubject.objects.count() == 1
    assert closed.outcome == "已删除"
    assert _erased(customer)
    # Closing again is refused, and purges nothing more.
    with pytest.raises(ValidationError):
        subject_requests.subject_request_close(actor=dpo, request_id=request.pk, outcome="x")
    assert DestructionRecord.objects.count() == 1


def test_a_deletion_request_interrupted_mid_purge_rolls_back_and_reruns(dpo, owner):
    customer = f.canary_customer(owner)
    request = _deletion_request(dpo, customer)
    real = privacy.Provider.scrub_rows
    crash = mock.patch.object(privacy.Provider, "scrub_rows", _crash_on_call(2, real))
    with crash, pytest.raises(RuntimeError):
        subject_requests.subject_request_close(actor=dpo, request_id=request.pk, outcome="已删除")
    encryption.clear_key_cache()
    assert Customer.objects.get(pk=customer.pk).name == f.CANARY_NAME  # rolled back
    assert PurgedSubject.objects.count() == 0

    closed = subject_requests.subject_request_close(
        actor=dpo, request_id=request.pk, outcome="已删除"
    )
    assert closed.status == SubjectRequest.Status.DONE
    assert PurgedSubject.objects.get().state == PurgedSubject.State.DESTROYED
    # The interrupted run's record is finished as what it was (no subject), the rerun's
    # holds the customer.
    assert list(DestructionRecord.objects.order_by("id").values_list("status", "subjects")) == [
        (DestructionRecord.Status.DONE, 0),
        (DestructionRecord.Status.DONE, 1),
    ]
    assert closed.result["destruction_record"] == DestructionRecord.objects.latest("id").pk
    assert _erased(customer)


# --- a reason about a purged customer -------------------------------------------------------


def test_a_reason_about_a_purged_customer_is_kept_under_the_master_key(dpo, owner):
    customer = f.canary_customer(owner)
    retention.customer_purge(actor=dpo, customer=customer)
    encryption.clear_key_cache()
    card = Customer.objects.get(pk=customer.pk)

    event = record_event(
        action=events.LEGAL_HOLD_LIFTED, actor=dpo, obj=card, reason="法院来函询问该客户"
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.subject_key_id is None
    assert stored.data == {"subject_key_destroyed": True}
    assert encryption.is_under_master_key(
        AuditEvent.objects.filter(pk=event.pk).values_list("reason", flat=True)[0]
    )
    assert stored.reason == "法院来函询问该客户"
    assert audit_chain_verify().intact
    # Reasons about customers whose key exists are still under that key.
    other = make_customer(owner)
    live = record_event(action=events.LEGAL_HOLD_LIFTED, actor=dpo, obj=other, reason="核对")
    assert live.subject_key_id == other.data_key_id and "subject_key_destroyed" not in live.data


# --- key rotation ---------------------------------------------------------------------------


def _raw(model, field_name: str) -> dict:
    return dict(model.objects.annotate(raw=Cast(field_name, TextField())).values_list("pk", "raw"))


def test_master_key_rotation_interrupted_mid_way_resumes_and_a_second_run_is_a_no_op(settings):
    old_key, new_key = encryption.generate_key(), encryption.generate_key()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    people = []
    for n in range(3):
        person = Person(data_key_id=encryption.data_key_create(), code=f"P{n}", name=f"张{n}")
        person.save()
        people.append(person)
    secrets = [Setting.objects.create(secret=f"secret-{n}") for n in range(3)]
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    new_id = encryption.current_master_key().key_id
    keys = DataKey.objects.filter(id__in=[p.data_key_id for p in people])

    # A crash after the first batch of data keys ...
    crash = mock.patch.object(
        key_rotation, "_rewrap_batch", _crash_on_call(2, key_rotation._rewrap_batch)
    )
    messages = []
    with crash, pytest.raises(RuntimeError):
        key_rotation.keys_rotate(progress=messages.append, batch_size=1)
    assert messages[0] == f"data keys: 1/{DataKey.objects.count()} re-wrapped"
    assert keys.filter(master_key_id=new_id).count() == 1

    # ... and one in the middle of the values kept under the master key.
    real = key_rotation._rewrite_batch
    crash = mock.patch.object(key_rotation, "_rewrite_batch", _crash_on_call(2, real))
    messages.clear()
    with crash, pytest.raises(RuntimeError):
        key_rotation.keys_rotate(progress=messages.append, batch_size=1)
    assert keys.exclude(master_key_id=new_id).count() == 0
    under_new = [
        token
        for token in _raw(Setting, "secret").values()
        if encryption.key_id_of(token) == f"m:{new_id}"
    ]
    assert len(under_new) == 1
    assert "testapp.setting.secret: 1/3 values rewritten" in messages

    output = []
    call_command("rotate_keys", "--batch-size", "1", stdout=mock.Mock(write=output.append))
    assert "testapp.setting.secret: 2/2 values rewritten\n" in output
    # Everything reads with the old key removed.
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    encryption.clear_key_cache()
    assert [Person.objects.get(pk=p.pk).name for p in people] == ["张0", "张1", "张2"]
    assert [Setting.objects.get(pk=s.pk).secret for s in secrets] == [
        "secret-0",
        "secret-1",
        "secret-2",
    ]
    # Idempotent: a complete run again changes no key and no value.
    wrapped = dict(DataKey.objects.values_list("id", "wrapped_key"))
    values = _raw(Setting, "secret")
    report = key_rotation.keys_rotate(batch_size=1)
    assert (report.data_keys, report.values) == (0, 0)
    assert dict(DataKey.objects.values_list("id", "wrapped_key")) == wrapped
    assert _raw(Setting, "secret") == values


# --- blind-index re-keying ------------------------------------------------------------------


def test_reindex_interrupted_mid_way_resumes_and_a_second_run_is_a_no_op(settings):
    old_key, new_key = encryption.generate_key(), encryption.generate_key()
    settings.BLIND_INDEX_KEYS = [f"v1:{old_key}"]
    owner = rep()
    customers = [
        make_customer(owner, name=name, phone=phone)
        for name, phone in (("张明华", "13812345678"), ("李雷", "13900001111"), ("韩梅梅", ""))
    ]
    settings.BLIND_INDEX_KEYS = [f"v2:{new_key}", f"v1:{old_key}"]

    real = search_index._write_for_reindex
    crash = mock.patch.object(search_index, "_write_for_reindex", _crash_on_call(2, real))
    messages = []
    with crash, pytest.raises(RuntimeError):
        search_index.reindex(batch_size=1, progress=messages.append)
    total = Customer.objects.count()
    assert f"customers.customer: 1/{total} examined, 1 re-indexed" in messages
    versions = set(SearchDigest.objects.values_list("object_id", "key_version").distinct())
    assert (customers[0].pk, "v2") in versions and (customers[1].pk, "v1") in versions

    output = []
    call_command("reindex", "--batch-size", "1", stdout=mock.Mock(write=output.append))
    assert any(f"customers.customer: {total}/{total} examined" in line for line in output), output
    assert set(SearchDigest.objects.values_list("key_version", flat=True)) == {"v2"}
    settings.BLIND_INDEX_KEYS = [f"v2:{new_key}"]
    assert search.customer_ids_matching("13900001111", search.CUSTOMER_PHONE) == [customers[1].pk]
    assert search.customer_ids_matching("明华", search.CUSTOMER_NAME) == [customers[0].pk]
    with pytest.raises(services.DuplicateCustomer):
        make_customer(rep(), phone="13812345678")

    # Idempotent: a complete run again writes nothing and leaves the digests as they are.
    digests = set(SearchDigest.objects.values_list("object_model", "object_id", "kind", "digest"))
    report = search_index.reindex(batch_size=1, progress=lambda message: None)
    assert (report.written, report.old_versions_deleted, report.orphans_deleted) == (0, 0, 0)
    assert (
        set(SearchDigest.objects.values_list("object_model", "object_id", "kind", "digest"))
        == digests
    )
