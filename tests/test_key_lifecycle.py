"""Data keys live and die with their rows (DESIGN §3 "Encryption at rest")."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from crm import encryption
from crm.fields import is_erased
from crm.key_sweep import data_keys_sweep
from crm.models import DataKey
from customers.models import Customer
from customers.tests.factories import make_customer, rep
from tests.testapp.models import Person

pytestmark = pytest.mark.django_db


def _key_count() -> int:
    return DataKey.objects.count()


def test_a_refused_duplicate_create_leaves_no_key():
    owner = rep()
    make_customer(owner, phone="13912345678")
    before = _key_count()

    with pytest.raises(ValidationError):
        make_customer(owner, phone="13912345678")

    assert _key_count() == before


def test_an_invalid_create_leaves_no_key():
    owner = rep()
    before = _key_count()
    with pytest.raises(ValidationError):
        make_customer(owner, phone="12")
    assert _key_count() == before


def test_a_create_rolled_back_by_its_caller_leaves_no_key():
    owner = rep()
    before = _key_count()
    with pytest.raises(RuntimeError), transaction.atomic(using="keys"), transaction.atomic():
        make_customer(owner)
        raise RuntimeError("the import that made it failed")
    assert _key_count() == before


def _age(key_id, hours: int) -> None:
    DataKey.objects.filter(id=key_id).update(created_at=timezone.now() - timedelta(hours=hours))


def test_the_sweep_deletes_old_keys_without_rows_and_counts_them(caplog):
    owner = rep()
    customer = make_customer(owner)
    _age(customer.data_key_id, 48)
    old_orphan = encryption.data_key_create()
    _age(old_orphan, 48)
    young_orphan = encryption.data_key_create()  # its row may still be on its way

    with caplog.at_level(logging.INFO, logger="crm.key_sweep"):
        assert data_keys_sweep() == 1

    remaining = set(DataKey.objects.values_list("id", flat=True))
    assert customer.data_key_id in remaining and young_orphan in remaining
    assert old_orphan not in remaining
    assert "data keys swept: 1" in caplog.text
    assert AuditEvent.objects.get(action="keys.orphans_swept").data == {"deleted": 1}


def test_the_sweep_keeps_a_key_that_only_history_rows_still_use():
    person = Person(data_key_id=encryption.data_key_create(), code="P1", name="张三")
    person.save()
    _age(person.data_key_id, 48)
    # The live row is gone, its history rows remain and still need the key.
    Person.objects.filter(pk=person.pk).delete()
    assert Person.history.filter(id=person.pk).exists()

    assert data_keys_sweep() == 0


def test_the_sweep_command_reports_what_it_did():
    orphan = encryption.data_key_create()
    _age(orphan, 30)
    out = io.StringIO()
    call_command("data_keys_sweep", stdout=out)
    assert "Deleted 1 data keys" in out.getvalue()


def test_a_key_is_destroyed_only_when_the_business_transaction_commits(
    django_capture_on_commit_callbacks,
):
    customer = make_customer(rep())

    with pytest.raises(RuntimeError), transaction.atomic():
        encryption.data_key_destroy(customer.data_key_id)
        raise RuntimeError("the purge failed")
    assert DataKey.objects.filter(id=customer.data_key_id).exists()

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            encryption.data_key_destroy(customer.data_key_id)
        assert DataKey.objects.filter(id=customer.data_key_id).exists()  # not yet
    assert not DataKey.objects.filter(id=customer.data_key_id).exists()


def test_a_destroyed_key_is_remembered_and_not_looked_up_again(
    django_capture_on_commit_callbacks,
):
    customer = make_customer(rep())
    with django_capture_on_commit_callbacks(execute=True):
        encryption.data_key_destroy(customer.data_key_id)

    for _request in range(3):
        encryption.clear_key_cache()  # a new request
        with CaptureQueriesContext(connections["keys"]) as key_queries:
            shredded = Customer.objects.preload_keys().get(pk=customer.pk)
            assert is_erased(shredded.name) and is_erased(shredded.phone)
        assert len(key_queries) == 0
