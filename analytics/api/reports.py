"""``/api/v1/analytics/reports/…``: the reports of DESIGN §6.7 as JSON.

Amounts and percentages are decimal strings with two places; every report covers only the
customers the caller may see (a ``customer`` he may not see answers 404).
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import reports
from analytics.api.serializers import CustomerReportQuery, ReportQuery, amount, scope_from_query


class AbcReportApi(APIView):
    """Customers ranked by sales with their ABC class (ties by customer code)."""

    permission_classes = [IsAuthenticated]
    QuerySerializer = ReportQuery

    class OutputSerializer(serializers.Serializer):
        class RowSerializer(serializers.Serializer):
            customer = serializers.IntegerField()
            code = serializers.CharField()
            sales = amount()
            share = amount()
            cumulative_share_before = amount()
            abc_class = serializers.CharField()

        rows = RowSerializer(many=True)

    @extend_schema(parameters=[QuerySerializer], responses=OutputSerializer)
    def get(self, request):
        scope = scope_from_query(request, self.QuerySerializer)
        return Response(self.OutputSerializer({"rows": reports.abc(scope)}).data)


class CompositionReportApi(APIView):
    """Sales and share per business type."""

    permission_classes = [IsAuthenticated]
    QuerySerializer = ReportQuery

    class OutputSerializer(serializers.Serializer):
        class RowSerializer(serializers.Serializer):
            business_type = serializers.CharField()
            name = serializers.CharField()
            sales = amount()
            share = amount()

        rows = RowSerializer(many=True)

    @extend_schema(parameters=[QuerySerializer], responses=OutputSerializer)
    def get(self, request):
        scope = scope_from_query(request, self.QuerySerializer)
        return Response(self.OutputSerializer({"rows": reports.composition(scope)}).data)


class ShareReportApi(APIView):
    """Each customer's share of company sales and share of wallet against the target."""

    permission_classes = [IsAuthenticated]
    QuerySerializer = ReportQuery

    class OutputSerializer(serializers.Serializer):
        class RowSerializer(serializers.Serializer):
            customer = serializers.IntegerField()
            code = serializers.CharField()
            sales = amount()
            share = amount()
            estimate = amount()
            estimate_sources = serializers.ListField(child=serializers.CharField())
            share_of_wallet = amount()
            target_share = amount()
            gap = amount()

        company_sales = amount()
        target_share = amount()
        rows = RowSerializer(many=True)

    @extend_schema(parameters=[QuerySerializer], responses=OutputSerializer)
    def get(self, request):
        scope = scope_from_query(request, self.QuerySerializer)
        return Response(self.OutputSerializer(reports.share(scope)).data)


class SeasonalQuery(CustomerReportQuery):
    years = serializers.CharField(required=False, help_text="Three years: 2023,2024,2025.")
    target = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True, default=None, min_value=0
    )

    def validate_years(self, value):
        try:
            years = sorted({int(part) for part in value.split(",") if part.strip()})
        except ValueError:
            years = []
        if len(years) != 3 or not all(1900 <= year <= 2100 for year in years):
            raise serializers.ValidationError(_three_years())
        return years


def _three_years() -> str:
    from django.utils.translation import gettext as _

    return _("Give three years, e.g. 2023,2024,2025.")


class SeasonalReportApi(APIView):
    """Monthly sales of three years, the seasonal index and monthly targets in cents."""

    permission_classes = [IsAuthenticated]
    QuerySerializer = SeasonalQuery

    class OutputSerializer(serializers.Serializer):
        years = serializers.ListField(child=serializers.IntegerField())
        monthly_sales = serializers.ListField(child=serializers.ListField(child=amount()))
        index = serializers.ListField(child=amount(), allow_null=True)
        targets = serializers.ListField(child=amount(), allow_null=True)
        message = serializers.CharField(allow_blank=True)

    @extend_schema(parameters=[QuerySerializer], responses=OutputSerializer)
    def get(self, request):
        data = self.QuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        years = params.pop("years", None) or reports.default_years()
        target: Decimal | None = params.pop("target", None)
        from analytics import selectors

        scope = selectors.report_scope(user=request.user, **params)
        report = reports.seasonal(scope, years=years, target=target)
        return Response(self.OutputSerializer(report).data)


class ProductReportApi(APIView):
    """Product mix for a customer or the company: sales, cost, gross profit, margin,
    average stock, turnover, cross ratio, share and contribution ratio."""

    permission_classes = [IsAuthenticated]
    QuerySerializer = CustomerReportQuery

    class OutputSerializer(serializers.Serializer):
        class RowSerializer(serializers.Serializer):
            product = serializers.IntegerField()
            code = serializers.CharField()
            name = serializers.CharField()
            sales = amount()
            cost = amount()
            gross_profit = amount()
            margin = amount()
            average_stock = amount()
            turnover = amount()
            cross_ratio = amount()
            share = amount()
            cumulative_share = amount()
            contribution_ratio = amount()

        rows = RowSerializer(many=True)

    @extend_schema(parameters=[QuerySerializer], responses=OutputSerializer)
    def get(self, request):
        scope = scope_from_query(request, self.QuerySerializer)
        return Response(self.OutputSerializer({"rows": reports.products(scope)}).data)
