"""``/api/v1/customers/``: the list and search, the card, its update, reveal, history, reverify.

Thin: parse with an input serializer, authorise, call a service or selector, render with an
output serializer. Personal values are always masked in output; clear values come only
from ``POST …/reveal/`` with a reason. A customer the caller may not see is 404.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.idempotency import idempotent
from crm.api.permissions import ModelPermissions
from crm.api.serializers import DateField, ScalarCharField
from crm.models import User
from crm.validation import LONG_TEXT_MAX_LENGTH, MANAGERS_MAX_LENGTH
from customers import permissions as perms
from customers import selectors, services
from customers.api.permissions import CanViewCustomers
from customers.api.serializers import (
    OBJECT_LIST,
    ContactInput,
    CustomerDetailOutput,
    CustomerFiltersInput,
    CustomerListOutput,
    DocumentInput,
    ReasonInput,
    card_output,
)
from customers.filters import CustomerFilter, filter_data, is_identifier_term
from customers.models import BusinessType, Consent, Customer, Tier


def refuse_identifier_in_url(request) -> None:
    """400 for a phone-, e-mail- or ID-number-shaped ``q`` in the query string.

    Such a value identifies a person and a URL is kept by proxies, histories and logs; it is
    searched with ``POST /api/v1/customers/search/``. Name fragments and codes still work
    with ``GET ?q=`` (outside tools use it).
    """
    if any(is_identifier_term(value) for value in request.query_params.getlist("q")):
        raise serializers.ValidationError(
            {
                "q": [
                    _(
                        "A phone number, e-mail address or ID number must not travel in a URL: "
                        "search with POST %(url)s and q in the body."
                    )
                    % {"url": reverse("customer-search")}
                ]
            }
        )


# The card's own fields, as a create or an update takes them.
class CardFieldsInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Customer.Kind.choices)
    business_type = serializers.SlugRelatedField(
        slug_field="code", queryset=BusinessType.objects.filter(is_active=True)
    )
    tier = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Tier.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    birth_date = DateField(required=False, allow_null=True)
    headquarters_address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    trading_address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    mailing_address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    managers = serializers.CharField(
        max_length=MANAGERS_MAX_LENGTH, required=False, allow_blank=True
    )
    website = serializers.URLField(required=False, allow_blank=True)
    founded_on = DateField(required=False, allow_null=True)
    registered_capital = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True
    )
    registered_capital_currency = serializers.ChoiceField(
        choices=Customer.Currency.choices,
        required=False,
        help_text="ISO 4217 code of the registered capital's currency (default CNY).",
    )
    employees = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    equipment_summary = serializers.CharField(
        max_length=LONG_TEXT_MAX_LENGTH, required=False, allow_blank=True
    )
    real_estate_summary = serializers.CharField(
        max_length=LONG_TEXT_MAX_LENGTH, required=False, allow_blank=True
    )
    management_age_structure = serializers.CharField(
        max_length=200, required=False, allow_blank=True
    )
    requested_credit_limit = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True
    )
    language = serializers.ChoiceField(
        choices=Customer._meta.get_field("language").choices,
        required=False,
        allow_blank=True,
        help_text="The language the customer reads (a campaign e-mail's footer, the page of "
        "its unsubscribe link): en or zh-hans; blank when not known (the default).",
    )


# A consent given with a new card (``POST …/consents/`` takes ``ConsentRecordInput``).
class ConsentInput(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=Consent.Purpose.choices)
    channel = serializers.ChoiceField(choices=Consent.Channel.choices)
    policy_version = serializers.CharField(max_length=50, required=False, default="")
    scope = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    given_by_guardian = serializers.BooleanField(required=False, default=False)


class CustomerListCreateApi(GenericAPIView):
    """The cards the caller may see, masked (``GET``); a new card (``POST``)."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    filterset_class = CustomerFilter
    ordering_fields = ["code", "created_at", "updated_at", "reverification_due"]

    @extend_schema_serializer(component_name="CustomerCreateInput")
    class InputSerializer(CardFieldsInput):
        owner = serializers.SlugRelatedField(
            slug_field="username", queryset=User.objects.filter(is_active=True), required=False
        )
        documents = DocumentInput(many=True, required=False, default=list)
        contacts = ContactInput(many=True, required=False, default=list)
        consents = ConsentInput(many=True, required=False, default=list)
        attributes = serializers.DictField(
            child=ScalarCharField(max_length=LONG_TEXT_MAX_LENGTH), required=False, default=dict
        )

    OutputSerializer = CustomerListOutput
    DetailOutputSerializer = CustomerDetailOutput

    def get_queryset(self):
        return selectors.customer_list(user=self.request.user).order_by("code")

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        """The filters in the query string; ``q`` shaped like a phone number, e-mail address
        or ID number is refused (400): use ``POST …/search/``."""
        refuse_identifier_in_url(request)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: DetailOutputSerializer})
    @idempotent
    def post(self, request):
        """A new card with its documents, contacts, consents and custom attributes."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        customer = services.customer_create(
            actor=request.user,
            documents=[services.DocumentInput(**d) for d in values.pop("documents")],
            contacts=[services.ContactInput(**c) for c in values.pop("contacts")],
            consents=[services.ConsentInput(**c) for c in values.pop("consents")],
            attributes=values.pop("attributes") or None,
            **{k: v for k, v in values.items() if v not in (None, "")},
        )
        return Response(card_output(customer, request), status=status.HTTP_201_CREATED)

    def idempotent_replay(self, request, resource_id):
        customer = perms.access_customer(request.user, resource_id)
        return Response(card_output(customer, request))


class CustomerSearchApi(GenericAPIView):
    """The list with its filters (``q`` and the others) in the body, so that a search term
    never travels in a URL."""

    permission_classes = [IsAuthenticated, CanViewCustomers]
    filter_backends: list = []  # the filters come in the body

    InputSerializer = CustomerFiltersInput
    OutputSerializer = CustomerListOutput

    @extend_schema(request=InputSerializer, responses=OutputSerializer(many=True))
    def post(self, request):
        """The list with its filters (``q`` and the others) in the body, so that a search
        term never travels in a URL. Answers like the list; ``?page=`` and ``?page_size=``
        page it (``next`` and ``previous`` are to be posted the same body)."""
        refuse_identifier_in_url(request)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send the filters as an object.")]}
            )
        queryset = selectors.customer_list(user=request.user).order_by("code")
        filterset = CustomerFilter(filter_data(request.data), queryset=queryset, request=request)
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)


class CustomerDetailUpdateApi(APIView):
    """One card, masked (``GET``); a change to it (``PUT``/``PATCH``: only the fields sent
    change, ``version`` is required)."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = Customer.objects.none()

    @extend_schema_serializer(component_name="CustomerUpdateInput")
    class InputSerializer(CardFieldsInput):
        version = serializers.IntegerField(
            help_text="The version you read; a stale one gets 409 Conflict."
        )
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        owner = serializers.SlugRelatedField(
            slug_field="username", queryset=User.objects.filter(is_active=True), required=False
        )

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name, field in self.fields.items():
                if name != "version":
                    field.required = False

    OutputSerializer = CustomerDetailOutput

    @extend_schema(responses=OutputSerializer)
    def get(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        services.customer_view_record(actor=request.user, customer=customer)
        return Response(card_output(customer, request))

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request, pk):
        perms.access_customer(request.user, pk, action="change")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version, reason = values.pop("version"), values.pop("reason")
        customer = services.customer_update(
            actor=request.user, customer_id=pk, version=version, changes=values, reason=reason
        )
        return Response(card_output(customer, request))

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def put(self, request, pk):
        """As ``PATCH``: only the fields sent change."""
        return self.patch(request, pk)


class CustomerRevealApi(APIView):
    """Clear values of the named fields, with a reason; recorded in the audit trail."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    @extend_schema_serializer(component_name="RevealInput")
    class InputSerializer(serializers.Serializer):
        fields = serializers.ListField(child=serializers.CharField(), allow_empty=False)
        reason = serializers.CharField(max_length=300)

    @extend_schema(request=InputSerializer, responses=dict)
    def post(self, request, pk):
        """Clear values of the named fields, with a reason; recorded in the audit trail."""
        customer = perms.access_customer(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            services.customer_reveal(
                actor=request.user,
                customer=customer,
                fields=data.validated_data["fields"],
                reason=data.validated_data["reason"],
            )
        )


class CustomerHistoryApi(APIView):
    """The card's timeline, newest first (field changes masked)."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    @extend_schema(responses=OBJECT_LIST)
    def get(self, request, pk):
        """The card's timeline, newest first (field changes masked)."""
        customer = perms.access_customer(request.user, pk)
        entries = selectors.customer_timeline(customer=customer, user=request.user)
        return Response([entry.as_dict() for entry in entries])


class CustomerReverifyApi(APIView):
    """Record that the card's identity was verified again (an optional reason)."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    InputSerializer = ReasonInput
    OutputSerializer = CustomerDetailOutput

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, pk):
        perms.access_customer(request.user, pk, action="change")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_reverify(
            actor=request.user, customer_id=pk, note=data.validated_data["reason"]
        )
        return Response(card_output(customer, request))
