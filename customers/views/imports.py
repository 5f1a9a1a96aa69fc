"""Pages for importing and exporting customers and contacts (DESIGN §7).

* ``imports/new/``: upload a file (what it holds, how to treat bad rows, dry run or not);
* ``imports/``: the user's jobs (every job for holders of ``view_all_customers``);
* ``imports/<pk>/``: one job; while it runs the status panel polls itself every 2 s (htmx
  asks for the panel alone), then shows the counts and the errors by line and column;
* ``export/``: the customer list, with the list's filters, as a CSV or XLSX download; a
  ``POST`` with the filters in the form (never in the URL). Above
  ``CRM_EXPORT_SYNC_MAX_ROWS`` customers the export runs in the background and the user is
  sent to its page (``exports:detail``), which offers the download when it is ready.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from crm import imports as import_registry
from crm.models import ExportJob
from customers import permissions as perms
from customers.filters import filter_data
from customers.models import ImportJob
from customers.responses import export_response
from customers.selectors import (
    import_error_rows,
    import_job_get,
    import_job_list,
    import_job_progress,
)
from customers.services import exports
from customers.services.import_jobs import FINISHED, import_job_create
from customers.services.imports import CONTACT_COLUMNS, CUSTOMER_COLUMNS

VIEW_JOBS = "customers.view_importjob"
ERRORS_PER_PAGE = 200


class ImportJobForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8 or GB18030, as Excel saves it) or XLSX."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    target = forms.ChoiceField(
        label=gettext_lazy("The file holds"), choices=import_registry.choices
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("Rows with errors"),
        choices=ImportJob.Mode,
        initial=ImportJob.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: only check the file, write nothing"),
        required=False,
        initial=True,
    )


@login_required
@permission_required(perms.IMPORT, raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_create_view(request):
    if request.method == "POST":
        form = ImportJobForm(request.POST, request.FILES)
    else:
        form = ImportJobForm(initial={"target": request.GET.get("target", "")})
    if form.is_bound and form.is_valid():
        try:
            job = import_job_create(
                actor=request.user,
                upload=form.cleaned_data["file"],
                target=form.cleaned_data["target"],
                mode=form.cleaned_data["mode"],
                dry_run=form.cleaned_data["dry_run"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("The file was received; it is being checked."))
            return redirect("customers:import-detail", pk=job.pk)
    return render(
        request,
        "customers/imports/create.html",
        {
            "form": form,
            "customer_columns": CUSTOMER_COLUMNS,
            "contact_columns": CONTACT_COLUMNS,
        },
    )


@login_required
@permission_required(VIEW_JOBS, raise_exception=True)
@require_GET
def import_list_view(request):
    page = Paginator(import_job_list(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "customers/imports/list.html", {"page": page})


@login_required
@permission_required(VIEW_JOBS, raise_exception=True)
@require_GET
def import_detail_view(request, pk):
    job = import_job_get(user=request.user, job_id=pk)
    running = job.status not in FINISHED
    page = Paginator([] if running else job.errors, ERRORS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    # Columns as the file named them (手机), where it did not use the key (phone).
    named = {e["column"]: e["named"] for e in job.errors if e.get("named")}
    context = {
        "job": job,
        "running": running,
        "progress": import_job_progress(job),
        "page": page,
        "errors": import_error_rows(page.object_list),
        "error_count": max(page.paginator.count, job.errors_total),
        "errors_not_kept": max(job.errors_total - len(job.errors), 0),
        "errors_by_column": sorted(
            (named.get(column, column), count) for column, count in job.errors_by_column.items()
        ),
    }
    template = (
        "customers/imports/_job_status.html" if request.htmx else "customers/imports/detail.html"
    )
    return render(request, template, context)


@login_required
@permission_required(perms.EXPORT, raise_exception=True)
def export_view(request):
    # A POST from the list's export buttons: filters (a search term may be a phone or ID
    # number) never travel in a URL, so an address takes none.
    if request.method != "POST":
        return HttpResponseNotAllowed(
            ["POST"],
            content=_(
                "Export with the buttons of the customer list: the export is posted with its "
                "filters and an address takes none."
            ),
            content_type="text/plain; charset=utf-8",
        )
    try:
        result = exports.customer_export(
            actor=request.user,
            filter_params=filter_data(request.POST),
            fmt=request.POST.get("format", "csv"),
            purpose=request.POST.get("purpose", exports.INTERNAL),
            clear=request.POST.get("clear") in ("1", "true", "on"),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for error in errors:
                messages.error(request, error)
        return redirect(reverse("customers:list"))
    if isinstance(result, ExportJob):
        messages.info(
            request,
            _(
                "The export holds %(count)s customers: it is written in the background. "
                "Download it from this page when it is ready."
            )
            % {"count": result.rows_total},
        )
        return redirect("exports:detail", pk=result.pk)
    if result.left_out:
        messages.warning(
            request,
            _(
                "%(count)s customers were left out: they have not consented to provision to "
                "third parties."
            )
            % {"count": result.left_out},
        )
    return export_response(result)


urlpatterns = [
    path("imports/", import_list_view, name="import-list"),
    path("imports/new/", import_create_view, name="import-create"),
    path("imports/<int:pk>/", import_detail_view, name="import-detail"),
    path("export/", export_view, name="export"),
]
