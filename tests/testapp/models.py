"""Models used only by the tests of the foundation's building blocks."""

from django.db import models

from crm.fields import EncryptedCharField, EncryptedDateField, EncryptedTextField
from crm.models import BusinessModel, EncryptedRow
from crm.personal_data import SENSITIVE


class Person(EncryptedRow, BusinessModel):
    """A subject with its own data key, like a customer."""

    data_key_id = models.UUIDField(null=True)
    code = models.CharField(max_length=20)
    name = EncryptedCharField(max_length=100, subject_key_field="data_key_id", mask="name")
    phone = EncryptedCharField(max_length=30, subject_key_field="data_key_id", mask="phone")
    id_number = EncryptedCharField(
        max_length=30, subject_key_field="data_key_id", personal=SENSITIVE, mask="id_number"
    )
    birth_date = EncryptedDateField(subject_key_field="data_key_id", mask="date")


class Note(EncryptedRow, BusinessModel):
    """A child row whose values follow its parent's data key."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="notes")
    text = EncryptedTextField(subject_key_field="person.data_key_id")


class Setting(EncryptedRow):
    """A value kept under the master key itself (no subject)."""

    secret = EncryptedTextField()

    def __str__(self):
        return f"setting {self.pk}"
