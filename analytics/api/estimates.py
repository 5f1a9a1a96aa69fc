"""``/api/v1/analytics/estimates/``: customers' estimated total purchases (share of wallet).

``GET`` lists the estimates of the customers the caller may see (paged, ``?customer=`` and
``?year=`` narrow it); ``POST`` records or replaces one through ``purchase_estimate_save``
(history and an audit event). A customer the caller may not see answers 404, audited, as
anywhere else.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from analytics import selectors, services
from analytics.models import PurchaseEstimate
from crm.api.permissions import ModelPermissions
from customers.permissions import access_customer


class EstimateOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id")
    customer_code = serializers.CharField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        model = PurchaseEstimate
        fields = ["id", "customer", "customer_code", "year", "amount", "source", "updated_at"]


class EstimateListCreateApi(GenericAPIView):
    """Estimates of the visible customers (``GET``, paged); record one (``POST``)."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = PurchaseEstimate.objects.none()
    serializer_class = EstimateOutput
    OutputSerializer = EstimateOutput

    class FilterSerializer(serializers.Serializer):
        customer = serializers.IntegerField(required=False, default=None, allow_null=True)
        year = serializers.IntegerField(
            required=False, default=None, allow_null=True, min_value=1900, max_value=2100
        )

    @extend_schema_serializer(component_name="PurchaseEstimateInput")
    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField(help_text="The customer's id.")
        year = serializers.IntegerField(min_value=1900, max_value=2100)
        amount = serializers.DecimalField(max_digits=16, decimal_places=2)
        source = serializers.ChoiceField(choices=PurchaseEstimate.Source.choices)

    def get_queryset(self):
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.purchase_estimate_list(user=self.request.user, **filters.validated_data)

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", int, required=False),
            OpenApiParameter("year", int, required=False),
        ],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        customer = access_customer(request.user, values.pop("customer"))
        estimate = services.purchase_estimate_save(actor=request.user, customer=customer, **values)
        estimate.customer_code = customer.code
        return Response(self.OutputSerializer(estimate).data, status=status.HTTP_201_CREATED)
