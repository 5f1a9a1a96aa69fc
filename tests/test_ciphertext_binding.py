"""A ciphertext opens only in its own place (DESIGN §3 "Encryption at rest").

Each test is an attack by someone with write access to the business database: copying a
ciphertext into another column, another row or another table must not reveal it. The
value reads as unreadable, the page and the API still answer, and the failure is audited.
"""

from __future__ import annotations

import base64
import io

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from audit.models import AuditEvent
from crm import encryption, key_rotation
from crm.fields import is_unreadable
from customers import services
from customers.models import Contact, Customer, IdentityDocument
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db

INTEGRITY = "data.integrity_failure"


def raw(model, pk, column) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "{column}" FROM "{model._meta.db_table}" WHERE id = %s',  # noqa: S608
            [pk],
        )
        return cursor.fetchone()[0]


def put(model, pk, column, token) -> None:
    """Write straight into the table, as an attacker with database access would."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{model._meta.db_table}" SET "{column}" = %s WHERE id = %s',  # noqa: S608
            [token, pk],
        )


def legacy_token(plaintext: str, key_id: str) -> str:
    """A value in the first format (enc1): bound only to its key id."""
    material = encryption._material(key_id)
    blob = encryption._seal(material, plaintext.encode(), key_id.encode())
    return f"enc1${key_id}${base64.urlsafe_b64encode(blob).decode()}"


@pytest.fixture
def owner():
    return rep()


@pytest.fixture
def customer(owner):
    return make_customer(owner, name="王小明", phone="13912345678", email="wang.xm@example.com")


def test_a_phone_copied_into_the_email_column_of_the_same_row_does_not_open(owner, customer):
    put(Customer, customer.pk, "email", raw(Customer, customer.pk, "phone"))

    fresh = Customer.objects.get(pk=customer.pk)
    assert is_unreadable(fresh.email)
    assert fresh.phone == "13912345678"
    event = AuditEvent.objects.get(action=INTEGRITY)
    assert event.object_id == str(customer.pk)
    assert event.data["field"] == "email"


def test_the_card_and_the_api_show_unreadable_and_do_not_fail(client, owner, customer):
    put(Customer, customer.pk, "email", raw(Customer, customer.pk, "phone"))

    client.force_login(owner)
    page = client.get(f"/customers/{customer.pk}/")
    assert page.status_code == 200
    assert "[unreadable]" in page.content.decode()
    assert "13912345678" not in page.content.decode()

    api = APIClient()
    api.force_authenticate(owner)
    answer = api.get(f"/api/v1/customers/{customer.pk}/")
    assert answer.status_code == 200
    assert answer.json()["email"] == "[unreadable]"
    # One audit event per place and request, not one per read.
    assert AuditEvent.objects.filter(action=INTEGRITY).count() == 2


def test_an_id_number_copied_into_a_contacts_name_does_not_open(owner):
    organisation = make_customer(owner, kind=Customer.Kind.ORGANISATION, name="钴蓝贸易有限公司")
    contact = services.contact_save(
        actor=owner, customer=organisation, name="李四", phone="13700001111", email=""
    )
    document = IdentityDocument.objects.filter(customer=organisation).first()
    put(Contact, contact.pk, "name", raw(IdentityDocument, document.pk, "number"))

    assert is_unreadable(Contact.objects.get(pk=contact.pk).name)
    assert IdentityDocument.objects.get(pk=document.pk).number  # the original still opens


def test_a_value_copied_between_rows_of_one_customer_does_not_open(owner):
    organisation = make_customer(owner, kind=Customer.Kind.ORGANISATION, name="钴蓝贸易有限公司")
    first = services.contact_save(
        actor=owner, customer=organisation, name="甲", phone="13700001111", email=""
    )
    second = services.contact_save(
        actor=owner, customer=organisation, name="乙", phone="13700002222", email=""
    )
    put(Contact, second.pk, "phone", raw(Contact, first.pk, "phone"))

    assert is_unreadable(Contact.objects.get(pk=second.pk).phone)
    assert Contact.objects.get(pk=first.pk).phone == "13700001111"


def test_a_value_copied_from_another_customer_does_not_open(owner, customer):
    other = make_customer(owner, name="赵大", phone="13911112222")
    put(Customer, other.pk, "phone", raw(Customer, customer.pk, "phone"))

    assert is_unreadable(Customer.objects.get(pk=other.pk).phone)


def test_saving_a_row_keeps_its_tampered_value_as_evidence(owner, customer):
    stolen = raw(Customer, customer.pk, "phone")
    put(Customer, customer.pk, "email", stolen)

    tampered = Customer.objects.get(pk=customer.pk)
    tampered.save()

    assert raw(Customer, customer.pk, "email") == stolen


def test_history_rows_of_the_same_row_and_field_still_open(owner, customer):
    services.customer_update(
        actor=owner,
        customer_id=customer.pk,
        version=customer.version,
        changes={"phone": "13900001111"},
        reason="new number",
    )
    phones = [record.phone for record in Customer.history.filter(id=customer.pk)]
    assert sorted(phones) == ["13900001111", "13912345678"]
    assert not AuditEvent.objects.filter(action=INTEGRITY).exists()


def test_the_first_format_is_still_read_until_refused(owner, customer, settings):
    put(Customer, customer.pk, "phone", legacy_token("13912345678", str(customer.data_key_id)))
    encryption.clear_key_cache()
    assert Customer.objects.get(pk=customer.pk).phone == "13912345678"

    settings.FIELD_ENCRYPTION_LEGACY_READS = False
    assert is_unreadable(Customer.objects.get(pk=customer.pk).phone)


def test_a_saved_row_rewrites_a_first_format_value_in_the_bound_format(owner, customer):
    put(Customer, customer.pk, "phone", legacy_token("13912345678", str(customer.data_key_id)))

    Customer.objects.get(pk=customer.pk).save()

    assert raw(Customer, customer.pk, "phone").startswith("enc2$")
    assert Customer.objects.get(pk=customer.pk).phone == "13912345678"


def _downgrade_everything() -> int:
    """Rewrite every stored value, history included, in the first format."""
    count = 0
    for model in key_rotation.models_with_encrypted_fields():
        fields = key_rotation.encrypted_fields(model)
        for row in model._default_manager.all():
            for field in fields:
                value = getattr(row, field.attname)
                if value in (None, ""):
                    continue
                key = field.subject_key(row)
                key_id = (
                    str(key)
                    if key is not None
                    else encryption.MASTER_PREFIX + encryption.current_master_key().key_id
                )
                token = legacy_token(field.to_text(value), key_id)
                model._default_manager.filter(pk=row.pk).update(**{field.attname: token})
                count += 1
    return count


def _everything_readable() -> dict:
    values = {}
    for model in key_rotation.models_with_encrypted_fields():
        fields = key_rotation.encrypted_fields(model)
        for row in model._default_manager.all():
            for field in fields:
                values[(model._meta.label, row.pk, field.name)] = getattr(row, field.attname)
    return values


def test_reencrypt_rewrites_every_seeded_value_and_can_resume(monkeypatch):
    call_command("seed_demo", stdout=io.StringIO())
    before = _everything_readable()
    assert _downgrade_everything() > 100
    encryption.clear_key_cache()
    assert key_rotation.legacy_values_remaining() > 100

    # A first run stops part-way (a crash after some batches)...
    real_reencrypt = encryption.reencrypt
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 30:
            raise RuntimeError("worker lost")
        return real_reencrypt(*args, **kwargs)

    monkeypatch.setattr(encryption, "reencrypt", crashing)
    with pytest.raises(RuntimeError):
        call_command("reencrypt", "--batch-size", "10", stdout=io.StringIO())
    monkeypatch.setattr(encryption, "reencrypt", real_reencrypt)
    left = key_rotation.legacy_values_remaining()
    assert left > 0

    # ...and a second run finishes, saying what it does.
    out = io.StringIO()
    call_command("reencrypt", "--batch-size", "10", stdout=out)
    assert "values to rewrite" in out.getvalue()
    assert key_rotation.legacy_values_remaining() == 0
    encryption.clear_key_cache()
    assert _everything_readable() == before
    assert AuditEvent.objects.filter(action="keys.values_reencrypted").exists()
