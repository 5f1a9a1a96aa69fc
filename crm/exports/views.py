"""Pages of a background export: ``/exports/<id>/`` (progress, polled by htmx while it runs,
then the download button) and ``/exports/<id>/download/``. Its owner's alone."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from crm.exports import jobs
from crm.models import ExportJob


@login_required
@require_GET
def export_job_detail_view(request, pk):
    job = jobs.export_job_get(user=request.user, job_id=pk)
    context = {
        "job": job,
        "running": job.status in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING),
        "progress": jobs.export_job_progress(job),
        "downloadable": jobs.is_downloadable(job),
    }
    template = "crm/exports/_job_status.html" if request.htmx else "crm/exports/detail.html"
    return render(request, template, context)


@login_required
@require_GET
def export_job_download_view(request, pk):
    from crm.exports.api import download_response

    job, chunks = jobs.export_job_download(user=request.user, job_id=pk)
    return download_response(job, chunks)


app_name = "exports"
urlpatterns = [
    path("<int:pk>/", export_job_detail_view, name="detail"),
    path("<int:pk>/download/", export_job_download_view, name="download"),
]
