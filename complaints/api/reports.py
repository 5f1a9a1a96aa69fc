"""``/api/v1/complaints/reports/``: the service reports, computed in SQL."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from complaints import permissions as perms
from complaints import selectors
from crm.api.serializers import DateField
from crm.permissions import require_perm


class ServiceReportApi(APIView):
    """Volume by category and channel per week or month, SLA compliance, time to first
    response and resolution (median, 90th percentile, business hours), satisfaction,
    repeat rate, top root causes; for complaints received in [start, end)."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        start = DateField(required=False, allow_null=True)
        end = DateField(required=False, allow_null=True)
        period = serializers.ChoiceField(
            choices=[("week", "week"), ("month", "month")], required=False, default="month"
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE),
            OpenApiParameter("end", OpenApiTypes.DATE),
            OpenApiParameter("period", OpenApiTypes.STR, enum=["week", "month"]),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        require_perm(request.user, perms.REPORTS)
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        report = selectors.service_report(user=request.user, **data.validated_data)
        return Response(serializable(report))


def serializable(report: dict) -> dict:
    """Dates and decimals as JSON text."""
    import datetime
    from decimal import Decimal

    def convert(value):
        if isinstance(value, dict):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, datetime.datetime | datetime.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value

    return convert(report)
