"""``/api/v1/customers/<id>/consents/``: a card's consents, a new one, a withdrawal."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import permissions as perms
from customers import services
from customers.api.permissions import CanViewCustomers
from customers.api.serializers import ConsentOutput, ReasonInput
from customers.models import Consent, Contact


class ConsentListCreateApi(APIView):
    """The card's consents, withdrawn ones too (``GET``); a consent given (``POST``)."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    @extend_schema_serializer(component_name="ConsentRecordInput")
    class InputSerializer(serializers.Serializer):
        purpose = serializers.ChoiceField(choices=Consent.Purpose.choices)
        channel = serializers.ChoiceField(choices=Consent.Channel.choices)
        policy_version = serializers.CharField(max_length=50, required=False, default="")
        scope = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        guardian = serializers.IntegerField(required=False, allow_null=True, default=None)

    OutputSerializer = ConsentOutput

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        queryset = customer.consents.select_related("recorded_by")
        return Response(self.OutputSerializer(queryset, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        guardian_id = values.pop("guardian")
        # The guardian is one of this card's contacts: another card's is 404.
        guardian = (
            get_object_or_404(Contact, pk=guardian_id, customer=customer) if guardian_id else None
        )
        consent = services.consent_record(
            actor=request.user, customer=customer, guardian=guardian, **values
        )
        return Response(self.OutputSerializer(consent).data, status=status.HTTP_201_CREATED)


class ConsentWithdrawApi(APIView):
    """Withdraw one of the card's consents (an optional reason)."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    InputSerializer = ReasonInput
    OutputSerializer = ConsentOutput

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, pk, consent_id):
        customer = perms.access_customer(request.user, pk)
        # Scoped to the card: another card's consent is 404.
        consent = get_object_or_404(Consent, pk=consent_id, customer=customer)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        consent = services.consent_withdraw(
            actor=request.user, consent=consent, reason=data.validated_data["reason"]
        )
        return Response(self.OutputSerializer(consent).data)
