"""``/api/v1/customers/<id>/stages/``: a card's moves through the service stages, a new one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.serializers import ModelSerializer
from crm.models import User
from customers import permissions as perms
from customers import services
from customers.api.permissions import CanViewCustomers
from customers.models import ServiceStage, StageMove


class StageMoveListCreateApi(APIView):
    """The card's stage moves (``GET``); a move to another stage (``POST``)."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    @extend_schema_serializer(component_name="StageMoveInput")
    class InputSerializer(serializers.Serializer):
        to_stage = serializers.SlugRelatedField(
            slug_field="code", queryset=ServiceStage.objects.filter(is_active=True)
        )
        responsible = serializers.SlugRelatedField(
            slug_field="username", queryset=User.objects.filter(is_active=True)
        )
        note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema_serializer(component_name="StageMoveOutput")
    class OutputSerializer(ModelSerializer):
        from_stage = serializers.CharField(source="from_stage.code", default=None)
        to_stage = serializers.CharField(source="to_stage.code")
        responsible = serializers.CharField(source="responsible.username")
        moved_by = serializers.CharField(source="moved_by.username")

        class Meta:
            model = StageMove
            fields = [
                "id",
                "from_stage",
                "to_stage",
                "responsible",
                "moved_by",
                "note",
                "created_at",
            ]

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        queryset = customer.stage_moves.select_related(
            "from_stage", "to_stage", "responsible", "moved_by"
        )
        return Response(self.OutputSerializer(queryset, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        move = services.stage_move(
            actor=request.user, customer_id=customer.pk, **data.validated_data
        )
        return Response(self.OutputSerializer(move).data, status=status.HTTP_201_CREATED)
