"""``/api/v1/credit/limit-requests/``: request a credit limit; approve or reject one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from credit import permissions as perms
from credit import services
from credit.api.accounts import DecisionInput
from credit.api.common import CanViewCredit, CurrencyField, Money, RowsListMixin, customer_of
from credit.filters import LimitFilter
from credit.models import CreditLimit
from crm.api.permissions import ActionPermissions


@extend_schema_serializer(component_name="CreditLimitOutput")
class LimitOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    amount = Money(read_only=True)

    class Meta:
        model = CreditLimit
        fields = [
            "id",
            "customer",
            "amount",
            "currency",
            "status",
            "needs_general_manager",
            "is_exception",
            "exception_reason",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class LimitRequestListCreateApi(RowsListMixin, GenericAPIView):
    """Limit requests of the customers the caller sees (``GET``); a new one (``POST``)."""

    permission_classes = [CanViewCredit, ActionPermissions]
    action_permissions = {"POST": (perms.REQUEST_LIMIT,)}
    model = CreditLimit
    view_perm = perms.VIEW_LIMIT
    filterset_class = LimitFilter
    ordering_fields = ["created_at", "amount"]
    ordering = ["-created_at"]

    @extend_schema_serializer(component_name="CreditLimitInput")
    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField()
        amount = Money()
        currency = CurrencyField()
        justification = serializers.CharField(max_length=4000)

    OutputSerializer = LimitOutput
    serializer_class = LimitOutput

    @extend_schema(responses=LimitOutput(many=True))
    def get(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(LimitOutput(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: LimitOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        customer = customer_of(request, values.pop("customer"))
        limit = services.limit_request(actor=request.user, customer=customer, **values)
        return Response(LimitOutput(limit).data, status=status.HTTP_201_CREATED)


class LimitApproveApi(GenericAPIView):
    """Approve a request (the requester never; a manager up to the cap; the general manager
    above it). ``special``: a manager's special approval, recorded as an exception."""

    permission_classes = [CanViewCredit]
    filter_backends: list = []
    pagination_class = None

    @extend_schema_serializer(component_name="CreditLimitApproveInput")
    class InputSerializer(DecisionInput):
        special = serializers.BooleanField(required=False, default=False)

    OutputSerializer = LimitOutput

    @extend_schema(request=InputSerializer, responses={200: LimitOutput})
    def post(self, request, pk):
        limit = perms.access_row(request.user, CreditLimit, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        limit = services.limit_approve(actor=request.user, limit=limit, **data.validated_data)
        return Response(LimitOutput(limit).data)


class LimitRejectApi(GenericAPIView):
    permission_classes = [CanViewCredit]
    filter_backends: list = []
    pagination_class = None
    InputSerializer = DecisionInput
    OutputSerializer = LimitOutput

    @extend_schema(request=DecisionInput, responses={200: LimitOutput})
    def post(self, request, pk):
        limit = perms.access_row(request.user, CreditLimit, pk)
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        limit = services.limit_reject(
            actor=request.user, limit=limit, comment=data.validated_data["comment"]
        )
        return Response(LimitOutput(limit).data)
