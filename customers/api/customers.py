"""``/api/v1/customers/``: the card, its records, reveal, history; visit plans; reference data.

Thin: parse with an input serializer, authorise, call a service or selector, render with an
output serializer. Personal values are always masked in output; clear values come only
from ``POST …/reveal/`` with a reason. A customer the caller may not see is 404.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.idempotency import idempotent
from crm.api.permissions import ModelPermissions
from crm.api.serializers import DateField, ModelSerializer, ScalarCharField
from crm.fields import is_unavailable
from crm.models import User
from crm.personal_data import masked_value
from crm.validation import (
    LONG_TEXT_MAX_LENGTH,
    MANAGERS_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
)
from customers import card_sections, selectors, services
from customers import permissions as perms
from customers.filters import CustomerFilter, filter_data, is_identifier_term
from customers.models import (
    BusinessType,
    Consent,
    Contact,
    Customer,
    CustomerUserObjectPermission,
    IdentityDocument,
    Interaction,
    ServiceStage,
    StageMove,
    Tier,
    VisitPlanEntry,
)
from customers.services.cards import PLAIN_FIELDS


def require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied()


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


# --- output serializers -------------------------------------------------------------------


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


class InteractionOutput(ModelSerializer):
    summary = Masked()
    user = serializers.CharField(source="user.username")

    class Meta:
        model = Interaction
        fields = [
            "id",
            "kind",
            "occurred_at",
            "summary",
            "outcome",
            "next_follow_up",
            "follow_up_done",
            "user",
        ]


class StageMoveOutput(ModelSerializer):
    from_stage = serializers.CharField(source="from_stage.code", default=None)
    to_stage = serializers.CharField(source="to_stage.code")
    responsible = serializers.CharField(source="responsible.username")
    moved_by = serializers.CharField(source="moved_by.username")

    class Meta:
        model = StageMove
        fields = ["id", "from_stage", "to_stage", "responsible", "moved_by", "note", "created_at"]


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
            "email",
            "address",
            "birth_date",
            "headquarters_address",
            "trading_address",
            "mailing_address",
            "managers",
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


# --- input serializers --------------------------------------------------------------------


class DocumentInputSerializer(serializers.Serializer):
    doc_type = serializers.ChoiceField(choices=IdentityDocument.Type.choices)
    number = serializers.CharField(max_length=40)
    verification_method = serializers.ChoiceField(
        choices=IdentityDocument.Method.choices, required=False, allow_blank=True
    )
    verified_at = DateField(required=False, allow_null=True)
    expires_on = DateField(required=False, allow_null=True)


class ContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    role = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    is_primary = serializers.BooleanField(required=False, default=False)
    is_guardian = serializers.BooleanField(required=False, default=False)


class ConsentInputSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=Consent.Purpose.choices)
    channel = serializers.ChoiceField(choices=Consent.Channel.choices)
    policy_version = serializers.CharField(max_length=50, required=False, default="")
    scope = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    given_by_guardian = serializers.BooleanField(required=False, default=False)


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


class CustomerCreateInput(CardFieldsInput):
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), required=False
    )
    documents = DocumentInputSerializer(many=True, required=False, default=list)
    contacts = ContactInputSerializer(many=True, required=False, default=list)
    consents = ConsentInputSerializer(many=True, required=False, default=list)
    attributes = serializers.DictField(
        child=ScalarCharField(max_length=LONG_TEXT_MAX_LENGTH), required=False, default=dict
    )


class CustomerUpdateInput(CardFieldsInput):
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


class RevealInput(serializers.Serializer):
    fields = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    reason = serializers.CharField(max_length=300)


class InteractionInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices)
    summary = serializers.CharField(
        max_length=SUMMARY_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    outcome = serializers.ChoiceField(
        choices=Interaction.Outcome.choices, required=False, allow_blank=True, default=""
    )
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    next_follow_up = DateField(required=False, allow_null=True, default=None)


class ConsentRecordInput(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=Consent.Purpose.choices)
    channel = serializers.ChoiceField(choices=Consent.Channel.choices)
    policy_version = serializers.CharField(max_length=50, required=False, default="")
    scope = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    guardian = serializers.IntegerField(required=False, allow_null=True, default=None)


class StageMoveInput(serializers.Serializer):
    to_stage = serializers.SlugRelatedField(
        slug_field="code", queryset=ServiceStage.objects.filter(is_active=True)
    )
    responsible = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True)
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class GrantInput(serializers.Serializer):
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True)
    )
    reason = serializers.CharField(max_length=300)
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Empty: until revoked."
    )


class GrantOutput(ModelSerializer):
    user = serializers.CharField(source="user.username")
    granted_by = serializers.CharField(source="granted_by.username", default=None)
    is_live = serializers.BooleanField()

    class Meta:
        model = CustomerUserObjectPermission
        fields = ["id", "user", "granted_by", "granted_at", "expires_at", "is_live"]


class AttributesInput(serializers.Serializer):
    values = serializers.DictField(child=serializers.CharField(allow_blank=True))


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


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


# --- the customer resource ----------------------------------------------------------------


class CustomerViewSet(viewsets.GenericViewSet):
    """Customer cards. Lists and cards mask personal data; see ``reveal``."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    filterset_class = CustomerFilter
    serializer_class = CustomerListOutput
    ordering_fields = ["code", "created_at", "updated_at", "reverification_due"]

    def get_queryset(self):
        return selectors.customer_list(user=self.request.user).order_by("code")

    def get_customer(self, action_name="view"):
        return perms.access_customer(self.request.user, self.kwargs["pk"], action=action_name)

    @extend_schema(responses=CustomerListOutput(many=True))
    def list(self, request):
        """The filters in the query string; ``q`` shaped like a phone number, e-mail address
        or ID number is refused (400): use ``POST …/search/``."""
        refuse_identifier_in_url(request)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(CustomerListOutput(page, many=True).data)

    @extend_schema(request=CustomerFiltersInput, responses=CustomerListOutput(many=True))
    @action(detail=False, methods=["post"])
    def search(self, request):
        """The list with its filters (``q`` and the others) in the body, so that a search
        term never travels in a URL. Answers like the list; ``?page=`` and ``?page_size=``
        page it (``next`` and ``previous`` are to be posted the same body)."""
        refuse_identifier_in_url(request)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send the filters as an object.")]}
            )
        filterset = CustomerFilter(
            filter_data(request.data), queryset=self.get_queryset(), request=request
        )
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(CustomerListOutput(page, many=True).data)

    @extend_schema(responses=CustomerDetailOutput)
    def retrieve(self, request, pk=None):
        customer = self.get_customer()
        services.customer_view_record(actor=request.user, customer=customer)
        return Response(card_output(customer, request))

    @extend_schema(request=CustomerCreateInput, responses={201: CustomerDetailOutput})
    @idempotent
    def create(self, request):
        data = CustomerCreateInput(data=request.data)
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
        return Response(
            card_output(customer, request),
            status=status.HTTP_201_CREATED,
        )

    def idempotent_replay(self, request, resource_id):
        customer = perms.access_customer(request.user, resource_id)
        return Response(card_output(customer, request))

    @extend_schema(request=CustomerUpdateInput, responses=CustomerDetailOutput)
    def partial_update(self, request, pk=None):
        self.get_customer("change")
        data = CustomerUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version, reason = values.pop("version"), values.pop("reason")
        customer = services.customer_update(
            actor=request.user, customer_id=pk, version=version, changes=values, reason=reason
        )
        return Response(card_output(customer, request))

    update = partial_update

    @extend_schema(request=RevealInput, responses=dict)
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        """Clear values of the named fields, with a reason; recorded in the audit trail."""
        customer = self.get_customer()
        data = RevealInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            services.customer_reveal(
                actor=request.user,
                customer=customer,
                fields=data.validated_data["fields"],
                reason=data.validated_data["reason"],
            )
        )

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """The card's timeline, newest first (field changes masked)."""
        customer = self.get_customer()
        entries = selectors.customer_timeline(customer=customer, user=request.user)
        return Response([entry.as_dict() for entry in entries])

    @extend_schema(request=ReasonInput, responses=CustomerDetailOutput)
    @action(detail=True, methods=["post"])
    def reverify(self, request, pk=None):
        self.get_customer("change")
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_reverify(
            actor=request.user, customer_id=pk, note=data.validated_data["reason"]
        )
        return Response(card_output(customer, request))

    @extend_schema(request=ContactInputSerializer, responses=ContactOutput(many=True))
    @action(detail=True, methods=["get", "post"])
    def contacts(self, request, pk=None):
        customer = self.get_customer()
        if request.method == "POST":
            data = ContactInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            contact = services.contact_save(
                actor=request.user, customer=customer, **data.validated_data
            )
            return Response(ContactOutput(contact).data, status=status.HTTP_201_CREATED)
        return Response(ContactOutput(customer.contacts.all(), many=True).data)

    @extend_schema(request=DocumentInputSerializer, responses=DocumentOutput(many=True))
    @action(detail=True, methods=["get", "post"])
    def documents(self, request, pk=None):
        customer = self.get_customer()
        if request.method == "POST":
            data = DocumentInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            document = services.identity_document_add(
                actor=request.user, customer=customer, **data.validated_data
            )
            return Response(DocumentOutput(document).data, status=status.HTTP_201_CREATED)
        queryset = customer.identity_documents.select_related("verified_by")
        return Response(DocumentOutput(queryset, many=True).data)

    @extend_schema(request=ConsentRecordInput, responses=ConsentOutput(many=True))
    @action(detail=True, methods=["get", "post"])
    def consents(self, request, pk=None):
        customer = self.get_customer()
        if request.method == "POST":
            data = ConsentRecordInput(data=request.data)
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
            guardian_id = values.pop("guardian")
            guardian = (
                get_object_or_404(Contact, pk=guardian_id, customer=customer)
                if guardian_id
                else None
            )
            consent = services.consent_record(
                actor=request.user, customer=customer, guardian=guardian, **values
            )
            return Response(ConsentOutput(consent).data, status=status.HTTP_201_CREATED)
        queryset = customer.consents.select_related("recorded_by")
        return Response(ConsentOutput(queryset, many=True).data)

    @extend_schema(request=ReasonInput, responses=ConsentOutput)
    @action(detail=True, methods=["post"], url_path=r"consents/(?P<consent_id>[0-9]+)/withdraw")
    def withdraw_consent(self, request, pk=None, consent_id=None):
        customer = self.get_customer()
        consent = get_object_or_404(Consent, pk=consent_id, customer=customer)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        consent = services.consent_withdraw(
            actor=request.user, consent=consent, reason=data.validated_data["reason"]
        )
        return Response(ConsentOutput(consent).data)

    @extend_schema(request=InteractionInput, responses=InteractionOutput(many=True))
    @action(detail=True, methods=["get", "post"])
    def interactions(self, request, pk=None):
        customer = self.get_customer()
        if request.method == "POST":
            data = InteractionInput(data=request.data)
            data.is_valid(raise_exception=True)
            interaction = services.interaction_log(
                actor=request.user, customer=customer, **data.validated_data
            )
            return Response(InteractionOutput(interaction).data, status=status.HTTP_201_CREATED)
        queryset = customer.interactions.select_related("user")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(InteractionOutput(page, many=True).data)

    @extend_schema(request=StageMoveInput, responses=StageMoveOutput(many=True))
    @action(detail=True, methods=["get", "post"])
    def stages(self, request, pk=None):
        customer = self.get_customer()
        if request.method == "POST":
            data = StageMoveInput(data=request.data)
            data.is_valid(raise_exception=True)
            move = services.stage_move(
                actor=request.user, customer_id=customer.pk, **data.validated_data
            )
            return Response(StageMoveOutput(move).data, status=status.HTTP_201_CREATED)
        queryset = customer.stage_moves.select_related(
            "from_stage", "to_stage", "responsible", "moved_by"
        )
        return Response(StageMoveOutput(queryset, many=True).data)

    @extend_schema(request=AttributesInput, responses=dict)
    @action(detail=True, methods=["get", "post"])
    def attributes(self, request, pk=None):
        """Custom attributes that apply to this card; personal values are masked."""
        customer = self.get_customer()
        if request.method == "POST":
            data = AttributesInput(data=request.data)
            data.is_valid(raise_exception=True)
            services.attribute_values_set(
                actor=request.user, customer=customer, values=data.validated_data["values"]
            )
        return Response(selectors.attribute_rows(customer))

    @extend_schema(request=GrantInput, responses=None)
    @action(detail=True, methods=["post"])
    def grant(self, request, pk=None):
        """Let another user see this customer (e.g. service staff on a complaint)."""
        customer = self.get_customer()
        data = GrantInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.customer_access_grant(actor=request.user, customer=customer, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=GrantInput, responses=GrantOutput(many=True))
    @action(detail=True, methods=["get", "post"])
    def grants(self, request, pk=None):
        """Who holds an explicit grant on this card (expired ones too); POST grants one.

        Listed for those who may grant and for the overseers; a grant lets its holder read
        the card masked until ``expires_at``, never reveal or export it in clear.
        """
        customer = self.get_customer()
        if request.method == "POST":
            data = GrantInput(data=request.data)
            data.is_valid(raise_exception=True)
            grant = services.customer_access_grant(
                actor=request.user, customer=customer, **data.validated_data
            )
            return Response(GrantOutput(grant).data, status=status.HTTP_201_CREATED)
        if not perms.can_see_grants(request.user, customer):
            raise perms.refuse(request.user, customer, "view_grants")
        return Response(
            GrantOutput(selectors.customer_grant_list(customer=customer), many=True).data
        )

    @extend_schema(request=ReasonInput, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"grants/(?P<grant_id>[0-9]+)")
    def revoke_grant(self, request, pk=None, grant_id=None):
        """Revoke a grant at once (an optional ``reason`` in the body is audited)."""
        customer = self.get_customer()
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.customer_access_revoke(
            actor=request.user,
            customer=customer,
            grant_id=grant_id,
            reason=data.validated_data["reason"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_permissions(self):
        # Actions on one card are authorised by the service (and 404 for invisible cards);
        # the role still needs to read customers at all.
        if self.action not in ("list", "retrieve", "create", "partial_update", "update"):
            return [IsAuthenticated(), _CanViewCustomers()]
        return super().get_permissions()


class _CanViewCustomers(IsAuthenticated):
    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm(perms.VIEW)


class MergeInput(serializers.Serializer):
    survivor = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    reason = serializers.CharField(max_length=300)


class CustomerMergeApi(APIView):
    """Merge a duplicate card into the surviving card (managers)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=MergeInput, responses=dict)
    def post(self, request):
        require(request.user, perms.MERGE)
        data = MergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        moved = services.customer_merge(
            actor=request.user,
            survivor_id=data.validated_data["survivor"],
            duplicate_id=data.validated_data["duplicate"],
            reason=data.validated_data["reason"],
        )
        return Response({"survivor": data.validated_data["survivor"], "moved": moved})


# --- visit plan ---------------------------------------------------------------------------


class VisitPlanOutput(ModelSerializer):
    customer = serializers.CharField(source="customer.code")
    customer_id = serializers.IntegerField()

    class Meta:
        model = VisitPlanEntry
        fields = [
            "id",
            "customer",
            "customer_id",
            "status",
            "fruitless_visits",
            "next_visit_on",
            "removed_reason",
            "removed_at",
        ]


class VisitPlanAddInput(serializers.Serializer):
    customer = serializers.IntegerField()
    next_visit_on = DateField(required=False, allow_null=True, default=None)


class VisitRecordInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Interaction.Outcome.choices)
    summary = serializers.CharField(
        max_length=SUMMARY_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    next_visit_on = DateField(required=False, allow_null=True, default=None)


class VisitPlanViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in rep's visit plan."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    serializer_class = VisitPlanOutput
    queryset = VisitPlanEntry.objects.none()

    def get_queryset(self):
        return selectors.visit_plan_for(self.request.user)

    @extend_schema(request=VisitPlanAddInput, responses={201: VisitPlanOutput})
    @idempotent
    def create(self, request):
        data = VisitPlanAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        customer = perms.access_customer(request.user, data.validated_data["customer"])
        entry = services.visit_plan_add(
            actor=request.user,
            customer=customer,
            next_visit_on=data.validated_data["next_visit_on"],
        )
        return Response(VisitPlanOutput(entry).data, status=status.HTTP_201_CREATED)

    def idempotent_replay(self, request, resource_id):
        entry = self.get_queryset().filter(pk=resource_id).first()
        if entry is None:
            return Response(status=status.HTTP_404_NOT_FOUND)
        return Response(VisitPlanOutput(entry).data)

    @extend_schema(request=VisitRecordInput, responses=VisitPlanOutput)
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        """Record a visit's result; the answer says whether the prospect left the plan."""
        require(request.user, "customers.change_visitplanentry")
        data = VisitRecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry, _interaction = services.visit_record(
            actor=request.user, entry_id=pk, **data.validated_data
        )
        return Response(VisitPlanOutput(entry).data)


# --- reference data -----------------------------------------------------------------------


class ReferenceOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)


class _ReferenceViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated, ModelPermissions]
    serializer_class = ReferenceOutput
    pagination_class = None


class BusinessTypeViewSet(_ReferenceViewSet):
    """Business types (业种); admins edit them in the admin site."""

    queryset = BusinessType.objects.order_by("name")


class TierViewSet(_ReferenceViewSet):
    queryset = Tier.objects.order_by("rank")


class ServiceStageViewSet(_ReferenceViewSet):
    queryset = ServiceStage.objects.order_by("order")
