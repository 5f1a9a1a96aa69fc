"""``/api/v1/credit/holds/``: put an emergency hold on shipments; release it (managers)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from credit import permissions as perms
from credit import services
from credit.api.common import CanViewCredit, customer_of
from credit.models import Hold
from crm.api.permissions import ActionPermissions


@extend_schema_serializer(component_name="CreditHoldOutput")
class HoldOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)

    class Meta:
        model = Hold
        # The reason may name a person: it stays on the card, out of the API's answer.
        fields = ["id", "customer", "status", "created_at", "released_at"]
        read_only_fields = fields


class HoldCreateApi(GenericAPIView):
    permission_classes = [CanViewCredit, ActionPermissions]
    action_permissions = {"POST": (perms.ADD_HOLD,)}
    filter_backends: list = []
    pagination_class = None

    @extend_schema_serializer(component_name="CreditHoldInput")
    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField()
        reason = serializers.CharField(max_length=2000)

    OutputSerializer = HoldOutput

    @extend_schema(request=InputSerializer, responses={201: HoldOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_of(request, data.validated_data["customer"])
        hold = services.hold_place(
            actor=request.user, customer=customer, reason=data.validated_data["reason"]
        )
        return Response(HoldOutput(hold).data, status=status.HTTP_201_CREATED)


class HoldReleaseApi(GenericAPIView):
    permission_classes = [CanViewCredit, ActionPermissions]
    action_permissions = {"POST": (perms.RELEASE_HOLD,)}
    filter_backends: list = []
    pagination_class = None
    OutputSerializer = HoldOutput

    @extend_schema(request=None, responses={200: HoldOutput})
    def post(self, request, pk):
        hold = perms.access_row(request.user, Hold, pk)
        hold = services.hold_release(actor=request.user, hold=hold)
        return Response(HoldOutput(hold).data)
