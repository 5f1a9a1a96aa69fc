"""API for importing customers and contacts (DESIGN §7): ``/api/v1/customers/imports/…``.

* ``POST /api/v1/customers/imports/`` (multipart: ``file``, ``target``, ``mode``, ``dry_run``)
  queues a job and answers 202 with it; honours ``Idempotency-Key``.
* ``GET /api/v1/customers/imports/`` and ``…/imports/<id>/``: one's own jobs (every job with
  ``customers.view_all_customers``), with progress and the error report (``errors``: the
  first ``CRM_IMPORT_MAX_ERRORS`` kept; ``errors_total`` and ``errors_by_column`` count all).
* ``GET /api/v1/customers/imports/<id>/errors/?page=``: the kept errors, paged.
* ``target`` is any key of the import registry (``crm.imports``): customers and contacts,
  and the targets other apps register.

The exports are in ``customers.api.exports``. The paths start with ``customers/`` and come
before ``customers/<id>/`` in ``customers.api.urls``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm import imports as import_registry
from crm.api.idempotency import idempotent
from crm.api.pagination import PageNumberPagination
from crm.api.permissions import ModelPermissions
from crm.api.serializers import ModelSerializer
from customers import permissions as perms
from customers.models import ImportJob
from customers.selectors import (
    import_error_rows,
    import_job_get,
    import_job_list,
    import_job_progress,
)
from customers.services.import_jobs import import_job_create


class ImportPermissions(ModelPermissions):
    """Reading jobs needs ``view_importjob``; creating one also the import permission."""

    perms_map = {
        **ModelPermissions.perms_map,
        "POST": [perms.IMPORT, "%(app_label)s.add_%(model_name)s"],
    }


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line of the file (the header is line 1).")
    column = serializers.CharField()
    message = serializers.CharField()
    named = serializers.CharField(
        required=False, help_text="The column as the file named it, when not by its key."
    )


class ImportJobOutputSerializer(ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    progress = serializers.SerializerMethodField(help_text="Percent done.")
    errors = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "target",
            "mode",
            "dry_run",
            "status",
            "status_label",
            "file_name",
            "encoding",
            "rows_total",
            "rows_processed",
            "rows_valid",
            "rows_invalid",
            "rows_imported",
            "progress",
            "errors",
            "errors_total",
            "errors_by_column",
            "created_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, job) -> int:
        return import_job_progress(job)

    @extend_schema_field(ImportErrorSerializer(many=True))
    def get_errors(self, job):
        return import_error_rows(job.errors)


class ImportJobListCreateApi(generics.ListAPIView):
    """The import jobs the user may see, newest first; POST uploads a file for a new one."""

    serializer_class = ImportJobOutputSerializer
    permission_classes = [IsAuthenticated, ImportPermissions]
    parser_classes = [MultiPartParser, FormParser]
    filter_backends: list = []

    @extend_schema_serializer(component_name="ImportJobCreateInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            help_text="CSV (UTF-8, UTF-8 with BOM or GB18030) or XLSX, up to CRM_UPLOAD_MAX_BYTES."
        )
        target = serializers.ChoiceField(
            choices=[], help_text="A registered import target: customers, contacts, …"
        )
        mode = serializers.ChoiceField(
            choices=ImportJob.Mode.choices, default=ImportJob.Mode.ALL_OR_NOTHING
        )
        dry_run = serializers.BooleanField(default=False)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["target"].choices = import_registry.choices()

    OutputSerializer = ImportJobOutputSerializer

    def get_queryset(self):
        return import_job_list(user=self.request.user)

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer})
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = import_job_create(
            actor=request.user,
            upload=data.validated_data["file"],
            target=data.validated_data["target"],
            mode=data.validated_data["mode"],
            dry_run=data.validated_data["dry_run"],
        )
        return Response(self.OutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    def idempotent_replay(self, request, resource_id):
        job = self.get_queryset().filter(pk=resource_id).first()
        if job is None:
            return Response(status=status.HTTP_404_NOT_FOUND)
        return Response(self.OutputSerializer(job).data)


class ImportJobDetailApi(generics.RetrieveAPIView):
    """One import job: progress while it runs, then the counts and the error report."""

    serializer_class = OutputSerializer = ImportJobOutputSerializer
    permission_classes = [IsAuthenticated, ImportPermissions]

    def get_queryset(self):
        return import_job_list(user=self.request.user)

    def get_object(self):
        return import_job_get(user=self.request.user, job_id=self.kwargs["pk"])


class ImportErrorPagination(PageNumberPagination):
    page_size = 100


class ImportJobErrorListApi(generics.GenericAPIView):
    """The errors a job kept (the first ``CRM_IMPORT_MAX_ERRORS``), 100 a page (``?page=``),
    with ``errors_total`` and ``errors_by_column`` counting every error of the file."""

    permission_classes = [IsAuthenticated, ImportPermissions]
    pagination_class = ImportErrorPagination
    serializer_class = OutputSerializer = ImportErrorSerializer

    def get_queryset(self):
        return import_job_list(user=self.request.user)

    def get(self, request, pk):
        job = import_job_get(user=request.user, job_id=pk)
        page = self.paginate_queryset(job.errors)
        response = self.get_paginated_response(import_error_rows(page))
        response.data["errors_total"] = job.errors_total
        response.data["errors_by_column"] = job.errors_by_column
        return response
