"""Serializers shared by several customers API modules: masked fields, the card, its records.

A serializer used by one API class only is nested in that class (``InputSerializer``,
``OutputSerializer``); the ones here are nested in the card's output or used by more than
one resource, and the API classes name them through those two attributes. Personal values
are always masked in output; clear values come only from ``POST …/reveal/``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from crm.api.serializers import DateField, ModelSerializer
from crm.fields import is_unavailable
from crm.personal_data import masked_value
from customers import card_sections, selectors
from customers.card_fields import PERSONAL_FIELDS, PLAIN_FIELDS
from customers.filters import CustomerFilter
from customers.models import Consent, Contact, Customer, IdentityDocument

# An answer a selector builds as a list of plain objects (history, attributes).
OBJECT_LIST = OpenApiResponse(
    response={"type": "array", "items": {"type": "object", "additionalProperties": {}}}
)


# --- fields -------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class Masked(serializers.Field):
    """A personal field, always masked in output."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def bind(self, field_name, parent):
        super().bind(field_name, parent)
        self.personal_field = field_name

    def to_representation(self, instance):
        return masked_value(instance, self.personal_field)


@extend_schema_field(OpenApiTypes.STR)
class CustomerNameField(serializers.Field):
    """Organisation names in clear; individuals' names masked."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, customer):
        if customer.kind == Customer.Kind.ORGANISATION and not is_unavailable(customer.name):
            return customer.name
        return masked_value(customer, "name")


# --- the card's records: in the card and in their own endpoints ---------------------------


class ContactOutput(ModelSerializer):
    name = Masked()
    phone = Masked()
    email = Masked()

    class Meta:
        model = Contact
        fields = ["id", "name", "phone", "email", "role", "is_primary", "is_guardian"]


class DocumentOutput(ModelSerializer):
    number = Masked()
    verified_by = serializers.CharField(source="verified_by.username", default=None)

    class Meta:
        model = IdentityDocument
        fields = [
            "id",
            "doc_type",
            "number",
            "verification_method",
            "verified_by",
            "verified_at",
            "expires_on",
            "reverify_due",
        ]


class ConsentOutput(ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username")
    is_live = serializers.BooleanField()

    class Meta:
        model = Consent
        fields = [
            "id",
            "purpose",
            "scope",
            "channel",
            "policy_version",
            "given_at",
            "withdrawn_at",
            "guardian",
            "recorded_by",
            "is_live",
        ]


# A contact or document on its own (``POST …/contacts/``, ``…/documents/``) or with a new card.
class ContactInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    role = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    is_primary = serializers.BooleanField(required=False, default=False)
    is_guardian = serializers.BooleanField(required=False, default=False)


class DocumentInput(serializers.Serializer):
    doc_type = serializers.ChoiceField(choices=IdentityDocument.Type.choices)
    number = serializers.CharField(max_length=40)
    verification_method = serializers.ChoiceField(
        choices=IdentityDocument.Method.choices, required=False, allow_blank=True
    )
    verified_at = DateField(required=False, allow_null=True)
    expires_on = DateField(required=False, allow_null=True)


# An optional reason, kept in the history and the audit trail.
class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# --- the card -----------------------------------------------------------------------------


class CustomerListOutput(ModelSerializer):
    name = CustomerNameField()
    phone = Masked()
    owner = serializers.CharField(source="owner.username")
    team = serializers.CharField(source="team.name", default=None)
    business_type = serializers.CharField(source="business_type.code")
    tier = serializers.CharField(source="tier.code", default=None)
    stage = serializers.CharField(source="stage.code", default=None)

    class Meta:
        model = Customer
        fields = [
            "id",
            "code",
            "kind",
            "status",
            "name",
            "phone",
            "owner",
            "team",
            "business_type",
            "tier",
            "stage",
            "reverification_due",
            "version",
            "created_at",
            "updated_at",
        ]


class CustomerDetailOutput(CustomerListOutput):
    email = Masked()
    address = Masked()
    birth_date = Masked()
    headquarters_address = Masked()
    trading_address = Masked()
    mailing_address = Masked()
    managers = Masked()
    stage_owner = serializers.CharField(source="stage_owner.username", default=None)
    reverified_by = serializers.CharField(source="reverified_by.username", default=None)
    is_minor = serializers.BooleanField()
    contacts = ContactOutput(many=True)
    identity_documents = DocumentOutput(many=True)
    consents = ConsentOutput(many=True)
    sections = serializers.SerializerMethodField(
        help_text="What apps built on customers add to the card (customers.card_sections), "
        "by section key; only the sections the caller may see."
    )

    class Meta(CustomerListOutput.Meta):
        fields = [
            *CustomerListOutput.Meta.fields,
            # The card's other personal fields (masked), then its plain ones.
            *(name for name in PERSONAL_FIELDS if name not in CustomerListOutput.Meta.fields),
            *PLAIN_FIELDS,
            "stage_owner",
            "reverified_at",
            "reverified_by",
            "is_minor",
            "merged_into",
            "contacts",
            "identity_documents",
            "consents",
            "sections",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_sections(self, customer) -> dict:
        request = self.context.get("request")
        if request is None:
            return {}
        return card_sections.sections_for(customer, request.user)


def card_output(customer, request) -> dict:
    """The card as the API answers it, with the sections ``request.user`` may see."""
    card = selectors.customer_card(customer)
    return CustomerDetailOutput(card, context={"request": request}).data


# The list's filters in a request body (``POST …/search/``, ``POST …/export/``), for the
# schema; ``CustomerFilter`` validates them.
CustomerFiltersInput = type(
    "CustomerFiltersInput",
    (serializers.Serializer,),
    {
        name: serializers.CharField(required=False, help_text=str(field.label or name))
        for name, field in CustomerFilter.base_filters.items()
    },
)
