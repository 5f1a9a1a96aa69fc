"""``/api/v1/customers/<id>/interactions/``: a card's interactions (paged) and a new one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm.api.serializers import DateField, ModelSerializer
from crm.validation import SUMMARY_MAX_LENGTH
from customers import permissions as perms
from customers import services
from customers.api.permissions import CanViewCustomers
from customers.api.serializers import Masked
from customers.models import Interaction


class InteractionListCreateApi(GenericAPIView):
    """The card's interactions, newest first, summaries masked, paged (``GET``); a new one
    (``POST``)."""

    permission_classes = [IsAuthenticated, CanViewCustomers]
    filter_backends: list = []

    @extend_schema_serializer(component_name="InteractionInput")
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Interaction.Kind.choices)
        summary = serializers.CharField(
            max_length=SUMMARY_MAX_LENGTH, required=False, allow_blank=True, default=""
        )
        outcome = serializers.ChoiceField(
            choices=Interaction.Outcome.choices, required=False, allow_blank=True, default=""
        )
        occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        next_follow_up = DateField(required=False, allow_null=True, default=None)

    @extend_schema_serializer(component_name="InteractionOutput")
    class OutputSerializer(ModelSerializer):
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

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        queryset = customer.interactions.select_related("user")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        interaction = services.interaction_log(
            actor=request.user, customer=customer, **data.validated_data
        )
        return Response(self.OutputSerializer(interaction).data, status=status.HTTP_201_CREATED)
