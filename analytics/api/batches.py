"""``/api/v1/analytics/sales-lines/batch/`` and ``…/stock-snapshots/batch/``.

Up to 10,000 rows a POST, all or nothing: any bad row → 400 listing every bad row by its
index with its field errors (a customer the caller may not see is "unknown", never named).
Idempotent: rows already stored are skipped, so a batch sent twice creates nothing twice.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import services
from analytics.models import SalesLine, StockSnapshot
from crm.api.permissions import ModelPermissions


class _Ref(serializers.JSONField):
    """A customer or product: its id (a JSON number) or its code (a JSON string)."""


class _Batch(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(child=serializers.DictField(), max_length=services.MAX_BATCH, **kwargs)


class BatchOutput(serializers.Serializer):
    created = serializers.IntegerField()
    skipped = serializers.IntegerField()


class BatchErrorOutput(serializers.Serializer):
    index = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


def _created(result) -> Response:
    return Response(
        BatchOutput({"created": result.created, "skipped": result.skipped}).data,
        status=status.HTTP_201_CREATED,
    )


class SalesLineBatchCreateApi(APIView):
    """Load a batch of sales lines (returns are negative lines)."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = SalesLine.objects.none()

    @extend_schema_serializer(component_name="SalesLineInput")
    class LineSerializer(serializers.Serializer):
        customer = _Ref(help_text="The customer's id (number) or code (text).")
        product = _Ref(help_text="The product's id (number) or code (text).")
        date = serializers.DateField()
        quantity = serializers.DecimalField(max_digits=16, decimal_places=3)
        amount = serializers.DecimalField(max_digits=16, decimal_places=2)
        cost = serializers.DecimalField(max_digits=16, decimal_places=2)
        reference = serializers.CharField(required=False, max_length=64)

    @extend_schema_serializer(component_name="SalesLineBatchInput")
    class InputSerializer(serializers.Serializer):
        lines = _Batch()

    OutputSerializer = BatchOutput

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 400: BatchErrorOutput(many=True)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = services.sales_lines_create(
                actor=request.user, lines=data.validated_data["lines"]
            )
        except services.BatchInvalid as exc:
            return Response({"lines": exc.items}, status=status.HTTP_400_BAD_REQUEST)
        return _created(result)


class StockSnapshotBatchCreateApi(APIView):
    """Load a batch of monthly stock snapshots (values at selling price)."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = StockSnapshot.objects.none()

    @extend_schema_serializer(component_name="StockSnapshotBatchInput")
    class InputSerializer(serializers.Serializer):
        snapshots = _Batch()

    OutputSerializer = BatchOutput

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 400: BatchErrorOutput(many=True)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = services.stock_snapshots_create(
                actor=request.user, snapshots=data.validated_data["snapshots"]
            )
        except services.BatchInvalid as exc:
            return Response({"snapshots": exc.items}, status=status.HTTP_400_BAD_REQUEST)
        return _created(result)
