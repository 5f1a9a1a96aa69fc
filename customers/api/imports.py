"""API for importing and exporting customers and contacts (DESIGN §7).

* ``POST /api/v1/customers/imports/`` (multipart: ``file``, ``target``, ``mode``, ``dry_run``)
  queues a job and answers 202 with it; honours ``Idempotency-Key``.
* ``GET /api/v1/customers/imports/`` and ``…/imports/<id>/``: one's own jobs (every job with
  ``customers.view_all_customers``), with progress and the error report (``errors``: the
  first ``CRM_IMPORT_MAX_ERRORS`` kept; ``errors_total`` and ``errors_by_column`` count all).
* ``GET /api/v1/customers/imports/<id>/errors/?page=``: the kept errors, paged.
* ``target`` is any key of the import registry (``crm.imports``): customers and contacts,
  and the targets other apps register.
* ``POST /api/v1/customers/export/`` (body: ``format`` csv|xlsx, ``purpose``
  internal|third_party, ``clear`` and ``reason``, and the customer list's filters): the file,
  filtered like the list. ``X-Export-Count`` and ``X-Export-Left-Out`` say how many customers
  are in it and how many lacked third-party consent. Filters never travel in the URL (a
  search term may be a phone or ID number): a ``GET`` is refused with 405. Above
  ``CRM_EXPORT_SYNC_MAX_ROWS`` customers the answer is 202 with a background export job
  (``/api/v1/exports/<id>/``, downloadable by its owner for 24 hours).

The paths start with ``customers/`` and are spliced in before the customers router so that
they win over ``customers/<pk>/``.
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import imports as import_registry
from crm.api.idempotency import idempotent
from crm.api.pagination import PageNumberPagination
from crm.api.permissions import ModelPermissions
from crm.api.serializers import ModelSerializer
from crm.exports.api import ExportJobOutputSerializer
from crm.models import ExportJob
from customers import permissions as perms
from customers.api.customers import CustomerFiltersInput
from customers.filters import filter_data
from customers.models import ImportJob
from customers.responses import export_response
from customers.services import exports
from customers.services.import_jobs import (
    import_error_rows,
    import_job_create,
    import_job_get,
    import_job_list,
    import_job_progress,
)


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


class ImportJobCreateInputSerializer(serializers.Serializer):
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


class ImportJobListCreateApi(generics.ListAPIView):
    """The import jobs the user may see, newest first; POST uploads a file for a new one."""

    serializer_class = ImportJobOutputSerializer
    permission_classes = [IsAuthenticated, ImportPermissions]
    parser_classes = [MultiPartParser, FormParser]
    filter_backends: list = []

    def get_queryset(self):
        return import_job_list(user=self.request.user)

    @extend_schema(
        request=ImportJobCreateInputSerializer,
        responses={202: ImportJobOutputSerializer},
    )
    @idempotent
    def post(self, request):
        data = ImportJobCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = import_job_create(
            actor=request.user,
            upload=data.validated_data["file"],
            target=data.validated_data["target"],
            mode=data.validated_data["mode"],
            dry_run=data.validated_data["dry_run"],
        )
        return Response(ImportJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    def idempotent_replay(self, request, resource_id):
        job = self.get_queryset().filter(pk=resource_id).first()
        if job is None:
            return Response(status=status.HTTP_404_NOT_FOUND)
        return Response(ImportJobOutputSerializer(job).data)


class ImportJobDetailApi(generics.RetrieveAPIView):
    """One import job: progress while it runs, then the counts and the error report."""

    serializer_class = ImportJobOutputSerializer
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
    serializer_class = ImportErrorSerializer

    def get_queryset(self):
        return import_job_list(user=self.request.user)

    def get(self, request, pk):
        job = import_job_get(user=request.user, job_id=pk)
        page = self.paginate_queryset(job.errors)
        response = self.get_paginated_response(import_error_rows(page))
        response.data["errors_total"] = job.errors_total
        response.data["errors_by_column"] = job.errors_by_column
        return response


class CustomerExportInput(CustomerFiltersInput):
    format = serializers.ChoiceField(choices=exports.FORMATS, default="csv")
    purpose = serializers.ChoiceField(
        choices=exports.PURPOSES,
        default=exports.INTERNAL,
        help_text="third_party: only customers with a live third-party consent.",
    )
    clear = serializers.BooleanField(
        default=False,
        help_text=(
            "Export in clear (needs customers.export_clear_customer and a reason): "
            "only the customers you may reveal are in clear, the others masked."
        ),
    )
    reason = serializers.CharField(required=False, help_text="Why the export is needed in clear.")


class CustomerExportApi(APIView):
    """The customer list as a CSV or XLSX file, masked unless asked for in clear with a reason.

    A ``POST`` with the format, the purpose and the list's filters in the body: filters never
    travel in a URL, so a ``GET`` is refused (405) whatever its query string.
    """

    permission_classes = [IsAuthenticated]

    def perform_content_negotiation(self, request, force=False):
        # ``format`` names the file format here, not a DRF renderer.
        return super().perform_content_negotiation(request, force=True)

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise MethodNotAllowed(
            request.method,
            detail=_(
                "Export with POST and the format, purpose and filters in the body: a URL "
                "takes no filters."
            ),
        )

    @extend_schema(
        request=CustomerExportInput,
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
            202: ExportJobOutputSerializer,
        },
    )
    def post(self, request):
        # The service checks the permission first, then the format, purpose and filters.
        params = request.data if isinstance(request.data, dict) else {}
        result = exports.customer_export(
            actor=request.user,
            filter_params=filter_data(params),
            fmt=params.get("format", "csv"),
            purpose=params.get("purpose", exports.INTERNAL),
            clear=str(params.get("clear", "")).lower() in ("1", "true", "on"),
            reason=params.get("reason", ""),
        )
        if isinstance(result, ExportJob):
            data = ExportJobOutputSerializer(result, context={"request": request}).data
            return Response(data, status=status.HTTP_202_ACCEPTED)
        return export_response(result)


urlpatterns = [
    path("customers/imports/", ImportJobListCreateApi.as_view(), name="import-job-list"),
    path("customers/imports/<int:pk>/", ImportJobDetailApi.as_view(), name="import-job-detail"),
    path(
        "customers/imports/<int:pk>/errors/",
        ImportJobErrorListApi.as_view(),
        name="import-job-errors",
    ),
    path("customers/export/", CustomerExportApi.as_view(), name="customer-export"),
]
