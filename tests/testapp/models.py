"""Models used only by the tests of the foundation's building blocks."""

from django.db import models

from crm import personal_data
from crm.fields import EncryptedCharField, EncryptedDateField, EncryptedTextField
from crm.models import BusinessModel, EncryptedRow
from crm.personal_data import SENSITIVE


class Person(EncryptedRow, BusinessModel):
    """A subject with its own data key, like a customer."""

    personal_data_subject = personal_data.no_customer("a stand-in subject for the encryption tests")

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

    personal_data_subject = personal_data.no_customer("a child of the stand-in subject")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="notes")
    text = EncryptedTextField(subject_key_field="person.data_key_id")


class Setting(EncryptedRow):
    """A value kept under the master key itself (no subject)."""

    personal_data_subject = personal_data.no_customer("kept under the master key")

    secret = EncryptedTextField()

    def __str__(self):
        return f"setting {self.pk}"


# --- rows of "another app" that point at customers (merge policies, tests/testapp/apps.py) --


class LoyaltyCard(EncryptedRow, BusinessModel):
    """One per customer, protected from the card's deletion; its policy (COMBINE: points
    add up) is registered by this app, not by customers."""

    personal_data_subject = "customer"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="testapp_loyalty_cards"
    )
    number = models.CharField(max_length=20)
    points = models.PositiveIntegerField(default=0)
    # Keyed through the card, not a column of its own: re-encrypted when the card changes.
    holder = EncryptedCharField(
        max_length=100, subject_key_field="customer.data_key_id", mask="name"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer"], name="testapp_loyalty_one_per_customer")
        ]


class Membership(BusinessModel):
    """One per customer and club, with no merge policy: the safe default applies."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="testapp_memberships"
    )
    club = models.CharField(max_length=50)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "club"], name="testapp_membership_once")
        ]


class Tag(BusinessModel):
    """A label shared by many customers: a many-to-many link to the card."""

    name = models.CharField(max_length=50)
    customers = models.ManyToManyField(
        "customers.Customer", related_name="testapp_tags", blank=True
    )
