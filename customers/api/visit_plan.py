"""``/api/v1/visit-plan/``: the signed-in rep's visit plan, adding to it, recording a visit."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.idempotency import idempotent
from crm.api.permissions import ModelPermissions
from crm.api.serializers import DateField, ModelSerializer
from crm.permissions import require_perm
from crm.validation import SUMMARY_MAX_LENGTH
from customers import permissions as perms
from customers import selectors, services
from customers.models import Interaction, VisitPlanEntry


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


class VisitPlanListCreateApi(GenericAPIView):
    """The signed-in rep's visit plan (``GET``, ``?ordering=`` by any field); a prospect
    added to it (``POST``)."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = VisitPlanEntry.objects.none()  # the model for ModelPermissions
    serializer_class = VisitPlanOutput  # the fields ``?ordering=`` accepts

    @extend_schema_serializer(component_name="VisitPlanAddInput")
    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField()
        next_visit_on = DateField(required=False, allow_null=True, default=None)

    OutputSerializer = VisitPlanOutput

    def get_queryset(self):
        return selectors.visit_plan_for(self.request.user)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = perms.access_customer(request.user, data.validated_data["customer"])
        entry = services.visit_plan_add(
            actor=request.user,
            customer=customer,
            next_visit_on=data.validated_data["next_visit_on"],
        )
        return Response(self.OutputSerializer(entry).data, status=status.HTTP_201_CREATED)

    def idempotent_replay(self, request, resource_id):
        entry = self.get_queryset().filter(pk=resource_id).first()
        if entry is None:
            return Response(status=status.HTTP_404_NOT_FOUND)
        return Response(self.OutputSerializer(entry).data)


class VisitRecordApi(APIView):
    """Record a visit's result; the answer says whether the prospect left the plan."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = VisitPlanEntry.objects.none()

    @extend_schema_serializer(component_name="VisitRecordInput")
    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=Interaction.Outcome.choices)
        summary = serializers.CharField(
            max_length=SUMMARY_MAX_LENGTH, required=False, allow_blank=True, default=""
        )
        next_visit_on = DateField(required=False, allow_null=True, default=None)

    OutputSerializer = VisitPlanOutput

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, pk):
        """Record a visit's result; the answer says whether the prospect left the plan."""
        require_perm(request.user, "customers.change_visitplanentry")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry, _interaction = services.visit_record(
            actor=request.user, entry_id=pk, **data.validated_data
        )
        return Response(self.OutputSerializer(entry).data)
