"""The audit console and the privacy pages of the data protection officer and the auditor."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import forms, retention, subject_requests
from audit import monitoring as monitoring_services
from audit.filters import AuditEventFilter
from audit.models import (
    AccessAlert,
    AlertThreshold,
    DestructionRecord,
    LegalHold,
    RetentionPolicy,
    SubjectRequest,
)
from audit.selectors import audit_event_list
from crm import privacy


@permission_required("audit.view_auditevent", raise_exception=True)
def audit_event_list_view(request):
    filterset = AuditEventFilter(request.GET, queryset=audit_event_list(user=request.user))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    template = "audit/_event_rows.html" if request.htmx else "audit/event_list.html"
    return render(request, template, {"filter": filterset, "page": page})


def customer_by_code(code: str):
    """The customer with this code, or a form error (the DPO and auditor see every card)."""
    customer = privacy.subject_model().objects.filter(code=(code or "").strip().upper()).first()
    if customer is None:
        raise ValidationError({"customer_code": _("No customer has this code.")})
    return customer


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- retention ------------------------------------------------------------------------------


@permission_required("audit.view_retentionpolicy", raise_exception=True)
def retention_view(request):
    hold_form = forms.LegalHoldForm(prefix="hold")
    if request.method == "POST":
        if not request.user.has_perm("audit.add_legalhold"):
            return HttpResponse(status=403)
        hold_form = forms.LegalHoldForm(request.POST, prefix="hold")
        if hold_form.is_valid():
            try:
                retention.legal_hold_place(
                    actor=request.user,
                    customer=customer_by_code(hold_form.cleaned_data["customer_code"]),
                    reason=hold_form.cleaned_data["reason"],
                )
            except ValidationError as error:
                _form_errors(hold_form, error)
            else:
                messages.success(request, _("The legal hold was placed."))
                return redirect("audit:retention")
    holds = LegalHold.objects.select_related("placed_by", "lifted_by").preload_keys()[:100]
    records = DestructionRecord.objects.select_related("actor")[:50]
    return render(
        request,
        "audit/retention.html",
        {
            "policies": RetentionPolicy.objects.all(),
            "holds": holds,
            "records": records,
            "hold_form": hold_form,
            "plan": retention.retention_plan() if request.GET.get("preview") else None,
        },
    )


@require_POST
@permission_required("audit.change_retentionpolicy", raise_exception=True)
def retention_policy_update_view(request, pk):
    policy = get_object_or_404(RetentionPolicy, pk=pk)
    form = forms.RetentionPolicyForm(request.POST)
    if form.is_valid():
        try:
            retention.retention_policy_update(
                actor=request.user,
                policy_id=policy.pk,
                years=form.cleaned_data["years"],
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The retention policy was saved."))
    else:
        messages.error(request, _("Keep data between 1 and 100 years."))
    return redirect("audit:retention")


@require_POST
@permission_required("audit.change_legalhold", raise_exception=True)
def legal_hold_lift_view(request, pk):
    hold = get_object_or_404(LegalHold, pk=pk)
    form = forms.LiftHoldForm(request.POST)
    if form.is_valid():
        try:
            retention.legal_hold_lift(
                actor=request.user, hold_id=hold.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The legal hold was lifted."))
    else:
        messages.error(request, _("Give the reason for lifting the hold."))
    return redirect("audit:retention")


@permission_required("audit.view_destructionrecord", raise_exception=True)
def destruction_record_download_view(request, pk):
    record = get_object_or_404(DestructionRecord, pk=pk)
    evidence = retention.destruction_record_evidence(actor=request.user, record=record)
    response = HttpResponse(
        json.dumps(evidence, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="destruction-record-{record.pk}.json"'
    return response


# --- subject requests -----------------------------------------------------------------------


@permission_required("audit.view_subjectrequest", raise_exception=True)
def request_list_view(request):
    form = forms.SubjectRequestForm()
    if request.method == "POST":
        if not request.user.has_perm("audit.add_subjectrequest"):
            return HttpResponse(status=403)
        form = forms.SubjectRequestForm(request.POST)
        if form.is_valid():
            try:
                created = subject_requests.subject_request_open(
                    actor=request.user,
                    customer=customer_by_code(form.cleaned_data["customer_code"]),
                    kind=form.cleaned_data["kind"],
                    details=form.cleaned_data["details"],
                    received_on=form.cleaned_data["received_on"],
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("The request was registered."))
                return redirect("audit:request-detail", pk=created.pk)
    status = request.GET.get("status", "open")
    rows = subject_requests.subject_request_list(user=request.user)
    if status in SubjectRequest.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/request_list.html",
        {"page": page, "form": form, "status": status, "statuses": SubjectRequest.Status.choices},
    )


def _request_or_404(user, pk):
    return get_object_or_404(subject_requests.subject_request_list(user=user), pk=pk)


@permission_required("audit.view_subjectrequest", raise_exception=True)
def request_detail_view(request, pk):
    subject_request = _request_or_404(request.user, pk)
    form = forms.SubjectRequestCloseForm()
    if request.method == "POST":
        if not request.user.has_perm("audit.change_subjectrequest"):
            return HttpResponse(status=403)
        form = forms.SubjectRequestCloseForm(request.POST)
        if form.is_valid():
            try:
                subject_requests.subject_request_close(
                    actor=request.user,
                    request_id=subject_request.pk,
                    outcome=form.cleaned_data["outcome"],
                    refused=form.cleaned_data["refused"],
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("The request was closed."))
                return redirect("audit:request-detail", pk=subject_request.pk)
    refusals = []
    if (
        subject_request.kind == SubjectRequest.Kind.DELETION
        and subject_request.status == SubjectRequest.Status.OPEN
        and not retention.is_purged(subject_request.customer_id)
    ):
        customer = privacy.subject_model().objects.filter(pk=subject_request.customer_id).first()
        refusals = retention.deletion_refusals(customer) if customer else []
    return render(
        request,
        "audit/request_detail.html",
        {"subject_request": subject_request, "form": form, "refusals": refusals},
    )


@permission_required("audit.change_subjectrequest", raise_exception=True)
def request_package_view(request, pk, file_format):
    if file_format not in ("json", "xlsx"):
        raise Http404
    subject_request = _request_or_404(request.user, pk)
    customer = get_object_or_404(privacy.subject_model(), pk=subject_request.customer_id)
    try:
        package = subject_requests.access_package(
            actor=request.user, customer=customer, request=subject_request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("audit:request-detail", pk=subject_request.pk)
    if file_format == "xlsx":
        body = subject_requests.package_xlsx(package)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = subject_requests.package_json(package)
        content_type = "application/json"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="access-package-{customer.code}.{file_format}"'
    )
    response["Cache-Control"] = "no-store"
    return response


# --- access monitoring --------------------------------------------------------------------------


@permission_required("audit.view_accessalert", raise_exception=True)
def monitoring_view(request):
    if request.method == "POST":
        if not request.user.has_perm("audit.change_alertthreshold"):
            return HttpResponse(status=403)
        threshold = get_object_or_404(AlertThreshold, pk=request.POST.get("threshold"))
        form = forms.AlertThresholdForm(request.POST)
        if form.is_valid():
            monitoring_services.alert_threshold_update(
                actor=request.user,
                threshold_id=threshold.pk,
                limit=form.cleaned_data["limit"],
                is_active=form.cleaned_data["is_active"],
            )
            messages.success(request, _("The threshold was saved."))
        else:
            messages.error(request, _("Give a limit between 1 and 100000."))
        return redirect("audit:monitoring")
    alerts = AccessAlert.objects.select_related("user")
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/monitoring.html",
        {"thresholds": AlertThreshold.objects.all(), "page": page},
    )


@require_POST
@permission_required("audit.change_accessalert", raise_exception=True)
def alert_acknowledge_view(request, pk):
    monitoring_services.access_alert_acknowledge(actor=request.user, alert_id=pk)
    return redirect("audit:monitoring")
