"""Encrypted fields, data keys, crypto-shredding and key rotation (DESIGN §3)."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from crm import encryption
from crm.encryption import generate_key
from crm.fields import Sealed, is_erased, is_unreadable
from crm.models import DataKey
from tests.testapp.models import Note, Person, Setting

pytestmark = pytest.mark.django_db

CANARY_NAME = "张明华Canary"
CANARY_PHONE = "13812345678"
CANARY_ID = "11010519491231002X"


def make_person(**values):
    person = Person(data_key_id=encryption.data_key_create(), code="P1", **values)
    person.save()
    return person


def raw_rows(table):
    with connections["default"].cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (test helper, fixed names)
        return cursor.fetchall()


def test_values_are_stored_encrypted_in_table_and_history():
    person = make_person(
        name=CANARY_NAME,
        phone=CANARY_PHONE,
        id_number=CANARY_ID,
        birth_date=datetime.date(1949, 12, 31),
    )
    person.phone = "13900000000"
    person.save()
    Note.objects.create(person=person, text="lives at 中关村大街 27 号 " + CANARY_NAME)

    dump = repr(
        raw_rows("testapp_person")
        + raw_rows("testapp_historicalperson")
        + raw_rows("testapp_note")
        + raw_rows("testapp_historicalnote")
    )
    for clear in (CANARY_NAME, "张明华", CANARY_PHONE, "13900000000", CANARY_ID, "1949-12-31"):
        assert clear not in dump
    assert "enc2$" in dump
    assert len(raw_rows("testapp_historicalperson")) == 2


def test_values_read_back_in_clear_with_their_types():
    person = make_person(name=CANARY_NAME, birth_date=datetime.date(2001, 2, 3))
    fresh = Person.objects.get(pk=person.pk)
    assert fresh.name == CANARY_NAME
    assert fresh.birth_date == datetime.date(2001, 2, 3)
    assert fresh.history.first().name == CANARY_NAME


def test_each_subject_has_its_own_key_and_children_follow_it():
    first = make_person(name="甲")
    second = make_person(name="乙")
    note = Note.objects.create(person=first, text="note")
    token = Note.objects.filter(pk=note.pk).values_list(Cast("text", TextField()), flat=True).get()
    assert encryption.key_id_of(token) == str(first.data_key_id)
    assert first.data_key_id != second.data_key_id


def test_destroyed_data_key_makes_only_that_subject_unreadable(
    django_capture_on_commit_callbacks,
):
    doomed = make_person(name=CANARY_NAME, phone=CANARY_PHONE)
    doomed.name = "张明"  # a second history row
    doomed.save()
    Note.objects.create(person=doomed, text="private")
    kept = make_person(name="李四", phone="13700000000")

    with django_capture_on_commit_callbacks(execute=True):
        encryption.data_key_destroy(doomed.data_key_id)
    encryption.clear_key_cache()
    assert not DataKey.objects.filter(id=doomed.data_key_id).exists()

    gone = Person.objects.get(pk=doomed.pk)
    assert is_erased(gone.name) and is_erased(gone.phone) and gone.name == ""
    assert all(is_erased(h.name) for h in gone.history.all())
    assert is_erased(Note.objects.get(person=doomed).text)
    # Saving the row again keeps the (unreadable) ciphertext; an erased value cannot be
    # written into another row.
    gone.save()
    with pytest.raises(ValueError, match="Erased"), transaction.atomic():
        make_person(name=gone.name)
    # The ciphertext is still there, but no key can open it.
    assert "enc2$" in repr(raw_rows("testapp_person"))

    other = Person.objects.get(pk=kept.pk)
    assert (other.name, other.phone) == ("李四", "13700000000")


def test_data_keys_live_in_the_keys_database_only():
    person = make_person(name="王五")
    assert DataKey.objects.db == "keys"
    assert DataKey.objects.using("keys").filter(id=person.data_key_id).exists()
    tables = connections["default"].introspection.table_names()
    assert "crm_datakey" not in tables
    assert "crm_historicaldatakey" not in tables


def test_plain_value_cannot_be_written_around_the_field():
    person = make_person(name="赵六")
    with pytest.raises(ValueError):
        Person.objects.filter(pk=person.pk).update(name="clear text")
    with pytest.raises(ValueError):
        list(Person.objects.filter(name="赵六"))


def test_saving_without_a_data_key_is_refused():
    with pytest.raises(ValueError, match="no data key"):
        Person(code="X", name="钱七").save()


def test_altered_ciphertext_is_detected():
    token = encryption.encrypt("secret", context="testapp.setting|secret|1")
    prefix, key_id, body = token.split("$")
    tampered = f"{prefix}${key_id}${body[:-4]}AAAA"
    with pytest.raises(encryption.IntegrityFailure):
        encryption.decrypt(tampered, context="testapp.setting|secret|1")


def test_rotation_keeps_old_rows_readable(settings):
    old_key, new_key = generate_key(), generate_key()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    person = make_person(name=CANARY_NAME, phone=CANARY_PHONE)
    setting = Setting.objects.create(secret="api-secret")

    # New key first, old key still accepted: everything reads.
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert Person.objects.get(pk=person.pk).name == CANARY_NAME
    assert Setting.objects.get(pk=setting.pk).secret == "api-secret"

    call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    # The old key can now be removed: rows, history and master-key values still read.
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.name, fresh.phone) == (CANARY_NAME, CANARY_PHONE)
    assert fresh.history.first().name == CANARY_NAME
    assert Setting.objects.get(pk=setting.pk).secret == "api-secret"
    current = encryption.current_master_key().key_id
    assert set(DataKey.objects.values_list("master_key_id", flat=True)) == {current}


def test_without_the_old_key_unrotated_rows_do_not_read(settings):
    old_key, new_key = generate_key(), generate_key()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    setting = Setting.objects.create(secret="api-secret")
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    # Shown as unreadable (never a crash), and the failure is audited.
    assert is_unreadable(Setting.objects.get(pk=setting.pk).secret)
    event = AuditEvent.objects.get(action="data.integrity_failure")
    assert event.data == {
        "model": "testapp.setting",
        "field": "secret",
        "reason": "key_unavailable",
    }


def test_a_list_unwraps_each_data_key_once():
    people = [make_person(name=f"客户{i}", phone=f"1380000000{i}") for i in range(5)]
    encryption.clear_key_cache()
    with (
        CaptureQueriesContext(connections["default"]) as main_queries,
        CaptureQueriesContext(connections["keys"]) as key_queries,
    ):
        rows = list(Person.objects.order_by("pk"))
        names = [p.name for p in rows]
        again = [p.phone for p in Person.objects.order_by("pk")]
    # Two queries for the rows; one key look-up per subject, none for its second field
    # or for the second read of the same subject.
    assert len(main_queries) == 2
    assert len(key_queries) == len(people)
    assert names == [f"客户{i}" for i in range(5)]
    assert again[0] == "13800000000"


def test_values_list_gives_the_sealed_ciphertext_never_a_guess():
    make_person(name="孙八", phone="13800000009")
    (phone,) = Person.objects.values_list("phone", flat=True)
    assert isinstance(phone, Sealed) and phone.startswith("enc2$")
