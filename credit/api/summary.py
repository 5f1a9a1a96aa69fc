"""``/api/v1/credit/customers/<customer_id>/``: a customer's credit at a glance."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from credit import selectors
from credit.api.common import CanViewCredit, Money, customer_of


class CreditSummaryApi(GenericAPIView):
    """Grade, limit, currency, exposure, headroom, % used, hold and account status
    (amounts as decimal strings; ``null`` without a limit)."""

    permission_classes = [CanViewCredit]
    filter_backends: list = []
    pagination_class = None

    @extend_schema_serializer(component_name="CreditSummaryOutput")
    class OutputSerializer(serializers.Serializer):
        grade = serializers.CharField()
        limit = Money(allow_null=True)
        currency = serializers.CharField()
        exposure = Money()
        headroom = Money(allow_null=True)
        percent_used = serializers.DecimalField(
            max_digits=12, decimal_places=2, allow_null=True, coerce_to_string=True
        )
        on_hold = serializers.BooleanField()
        account_status = serializers.CharField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request, customer_id):
        customer = customer_of(request, customer_id)
        summary = selectors.credit_summary(customer.pk)
        return Response(
            self.OutputSerializer(
                {
                    "grade": summary.grade,
                    "limit": summary.limit,
                    "currency": summary.currency,
                    "exposure": summary.exposure,
                    "headroom": summary.headroom,
                    "percent_used": summary.percent_used,
                    "on_hold": summary.on_hold,
                    "account_status": summary.account_status,
                }
            ).data
        )
