"""``/api/v1/credit/orders/``: enter an order (credit-checked; ``Idempotency-Key``
honoured), list them; release or reject a blocked one."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from credit import permissions as perms
from credit import services
from credit.api.common import CanViewCredit, CurrencyField, Money, RowsListMixin, customer_of
from credit.filters import OrderFilter
from credit.models import Order
from crm.api.idempotency import idempotent
from crm.api.permissions import ActionPermissions

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A retried request with the same key answers what the first one made.",
)


@extend_schema_serializer(component_name="CreditOrderOutput")
class OrderOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    amount = Money(read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "customer",
            "reference",
            "amount",
            "currency",
            "status",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


class OrderListCreateApi(RowsListMixin, GenericAPIView):
    """Orders of the customers the caller sees (``GET``); a new one, checked against the
    credit limit: ``accepted``, or ``blocked`` with the reason (``POST``)."""

    permission_classes = [CanViewCredit, ActionPermissions]
    action_permissions = {"POST": (perms.ADD_ORDER,)}
    model = Order
    view_perm = perms.VIEW_ORDER
    filterset_class = OrderFilter
    ordering_fields = ["created_at", "amount"]
    ordering = ["-created_at"]
    serializer_class = OrderOutput

    @extend_schema_serializer(component_name="CreditOrderInput")
    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField()
        amount = Money()
        currency = CurrencyField()
        reference = serializers.CharField(max_length=50)

    OutputSerializer = OrderOutput

    @extend_schema(responses=OrderOutput(many=True))
    def get(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(OrderOutput(page, many=True).data)

    @extend_schema(
        request=InputSerializer, responses={201: OrderOutput}, parameters=[IDEMPOTENCY_KEY]
    )
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        customer = customer_of(request, values.pop("customer"))
        order = services.order_create(actor=request.user, customer=customer, **values)
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)

    def idempotent_replay(self, request, resource_id):
        order = perms.access_row(request.user, Order, resource_id)
        return Response(OrderOutput(order).data)


class OrderReleaseApi(GenericAPIView):
    """A manager releases a blocked order."""

    permission_classes = [CanViewCredit]
    filter_backends: list = []
    pagination_class = None
    OutputSerializer = OrderOutput

    @extend_schema(request=None, responses={200: OrderOutput})
    def post(self, request, pk):
        order = perms.access_row(request.user, Order, pk)
        order = services.order_release(actor=request.user, order=order)
        return Response(OrderOutput(order).data)


class OrderRejectApi(GenericAPIView):
    """A manager rejects a blocked order."""

    permission_classes = [CanViewCredit]
    filter_backends: list = []
    pagination_class = None
    OutputSerializer = OrderOutput

    @extend_schema(request=None, responses={200: OrderOutput})
    def post(self, request, pk):
        order = perms.access_row(request.user, Order, pk)
        order = services.order_reject(actor=request.user, order=order)
        return Response(OrderOutput(order).data)
