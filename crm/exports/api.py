"""``/api/v1/exports/<id>/`` (a background export: status and progress) and
``/api/v1/exports/<id>/download/`` (the file, for its owner only, within 24 hours)."""

from django.http import StreamingHttpResponse
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.serializers import ModelSerializer
from crm.exports import jobs
from crm.models import ExportJob


class ExportJobOutputSerializer(ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    progress = serializers.SerializerMethodField(help_text="Percent done.")
    url = serializers.SerializerMethodField(help_text="This job.")
    download_url = serializers.SerializerMethodField(help_text="The file, once ready.")

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "target",
            "file_format",
            "status",
            "status_label",
            "rows_total",
            "rows_written",
            "progress",
            "file_name",
            "error",
            "created_at",
            "finished_at",
            "expires_at",
            "url",
            "download_url",
        ]
        read_only_fields = fields

    def get_progress(self, job) -> int:
        return jobs.export_job_progress(job)

    def get_url(self, job) -> str:
        return reverse("export-job-detail", args=[job.pk])

    def get_download_url(self, job) -> str | None:
        return reverse("export-job-download", args=[job.pk]) if jobs.is_downloadable(job) else None


class ExportJobDetailApi(APIView):
    """One of your background exports: its progress, then its download link."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ExportJobOutputSerializer)
    def get(self, request, pk):
        job = jobs.export_job_get(user=request.user, job_id=pk)
        return Response(ExportJobOutputSerializer(job).data)


def download_response(job: ExportJob, chunks) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=job.content_type)
    response["Content-Disposition"] = f'attachment; filename="{job.file_name}"'
    patch_cache_control(response, no_store=True, private=True)
    return response


class ExportJobDownloadApi(APIView):
    """The finished file, decrypted as it is sent; 404 for anyone but its owner, or expired."""

    permission_classes = [IsAuthenticated]

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        job, chunks = jobs.export_job_download(user=request.user, job_id=pk)
        return download_response(job, chunks)


urlpatterns = [
    path("exports/<int:pk>/", ExportJobDetailApi.as_view(), name="export-job-detail"),
    path("exports/<int:pk>/download/", ExportJobDownloadApi.as_view(), name="export-job-download"),
]
