"""``/api/v1/analytics/runs/``: stored monthly report runs — list, start, detail."""

from __future__ import annotations

import datetime

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import permissions as perms
from analytics import report_runs, selectors
from analytics.models import ReportRun
from crm.permissions import require_perm


class ReportRunOutput(serializers.ModelSerializer):
    month = serializers.DateField(source="period", format="%Y-%m")

    class Meta:
        model = ReportRun
        fields = [
            "id", "month", "status", "progress", "error", "timings",
            "started_at", "finished_at", "attempts",
        ]  # fmt: skip
        read_only_fields = fields


class ReportRunDetailOutput(ReportRunOutput):
    class Meta(ReportRunOutput.Meta):
        fields = [*ReportRunOutput.Meta.fields, "parameters", "results"]


class ReportRunListCreateApi(GenericAPIView):
    """Stored runs, newest month first (``GET``); start or retry a month's run (``POST``)."""

    permission_classes = [IsAuthenticated]
    queryset = ReportRun.objects.none()
    serializer_class = ReportRunOutput

    @extend_schema_serializer(component_name="ReportRunStartInput")
    class InputSerializer(serializers.Serializer):
        month = serializers.CharField(help_text="YYYY-MM")

        def validate_month(self, value):
            try:
                return datetime.datetime.strptime(value, "%Y-%m").date()
            except ValueError as exc:
                from django.utils.translation import gettext as _

                raise serializers.ValidationError(_("Enter a month as YYYY-MM.")) from exc

    OutputSerializer = ReportRunOutput

    def get_queryset(self):
        return selectors.report_run_list(user=self.request.user)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        require_perm(request.user, perms.VIEW_RUNS)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer})
    def post(self, request):
        require_perm(request.user, perms.RUN_REPORTS)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = report_runs.report_run_start(actor=request.user, period=data.validated_data["month"])
        run.refresh_from_db()
        return Response(self.OutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class ReportRunDetailApi(APIView):
    """One stored run with its parameters and results (as stored: no recomputation)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ReportRunDetailOutput)
    def get(self, request, run_id: int):
        run = perms.access_report_run(request.user, run_id)
        return Response(ReportRunDetailOutput(run).data)
