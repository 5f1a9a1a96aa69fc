"""The audit console and the privacy pages of the data protection officer and the auditor."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import events, evidence, forms, incidents, retention, subject_requests
from audit import monitoring as monitoring_services
from audit.filters import AuditEventFilter, object_type_label
from audit.models import (
    AccessAlert,
    AlertThreshold,
    DestructionRecord,
    Incident,
    LegalHold,
    RetentionPolicy,
    SubjectRequest,
)
from audit.selectors import audit_console_list, chain_status, customer_accesses
from audit.services import record_event
from crm import privacy
from crm.exports import writers
from crm.validation import form_add_errors


def _card_url(customer_id) -> str:
    """The customer card's address (the customers app's page), or "" without it."""
    if customer_id is None:
        return ""
    try:
        return reverse("customers:detail", args=[customer_id])
    except NoReverseMatch:
        return ""


def _object_type(content_type) -> str:
    """The name the object type picker gives the event's model ("" without an object)."""
    if content_type is None:
        return ""
    model = content_type.model_class()
    return object_type_label(model._meta) if model else content_type.name


def _decorate(rows) -> None:
    for event in rows:
        event.card_url = _card_url(getattr(event, "customer_ref", None))
        event.object_type = _object_type(event.content_type)
        event.purpose_label = events.purpose_label((event.data or {}).get("purpose", ""))


@permission_required("audit.view_auditevent", raise_exception=True)
def audit_event_list_view(request):
    """The audit console: events filtered by pickers, flagged, with the chain's state."""
    filterset = AuditEventFilter(request.GET, queryset=audit_console_list(user=request.user))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    _decorate(page.object_list)
    context = {
        "filter": filterset,
        "page": page,
        "hx_target": "#event-rows",
        "query": request.GET.urlencode(),
    }
    if request.htmx:
        return render(request, "audit/_event_rows.html", context)
    context["chain"] = chain_status()
    return render(request, "audit/event_list.html", context)


EXPORT_LIMIT = 10_000  # rows in one export of the audit trail
_EXPORT_BATCH = 1000


def _export_rows(queryset, total: int):
    """The export's rows, read in batches (one key query per batch)."""
    for start in range(0, total, _EXPORT_BATCH):
        batch = list(queryset[start : min(start + _EXPORT_BATCH, total)])
        for event in batch:
            yield [
                event.sequence,
                timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
                event.actor_username,
                event.action_label,
                event.action,
                _object_type(event.content_type),
                event.object_id,
                event.customer_code_ref or "",
                events.purpose_label((event.data or {}).get("purpose", "")),
                event.reason or "",
                event.ip_address or "",
                _("yes") if event.after_hours else "",
                _("yes") if event.outside_team else "",
            ]


@permission_required("audit.view_auditevent", raise_exception=True)
def audit_event_export_view(request, file_format):
    """The filtered events as CSV or XLSX (at most ``EXPORT_LIMIT``); the export is audited."""
    if file_format not in writers.FORMATS:
        raise Http404
    filterset = AuditEventFilter(request.GET, queryset=audit_console_list(user=request.user))
    queryset = filterset.qs
    total = min(queryset.count(), EXPORT_LIMIT)
    record_event(
        action=events.AUDIT_EVENTS_EXPORTED,
        actor=request.user,
        data={
            "format": file_format,
            "rows": total,
            "filters": {
                name: value
                for name, value in filterset.form.cleaned_data.items()
                if value not in (None, "")
            }
            if filterset.is_valid()
            else {},
        },
    )
    header = [
        "#",
        _("Time"),
        _("User"),
        _("Action"),
        _("Event type"),
        _("Object type"),
        _("Object id"),
        _("Customer"),
        _("Purpose"),
        _("Reason"),
        _("IP address"),
        _("After hours"),
        _("Outside the user's team"),
    ]
    result = writers.ExportResult(
        filename=f"audit-events.{file_format}",
        fmt=file_format,
        header=[str(column) for column in header],
        rows=_export_rows(queryset, total),
        count=total,
        sheet_title="Audit events",
    )
    response = StreamingHttpResponse(result.chunks, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@permission_required("audit.view_auditevent", raise_exception=True)
def customer_accesses_view(request, code):
    """ "Who saw my data": every event about one customer — who, when, what, for what purpose."""
    customer = privacy.subject_model()._base_manager.filter(code=code.upper()).first()
    if customer is None:
        raise Http404
    rows = customer_accesses(user=request.user, customer=customer)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    _decorate(page.object_list)
    actor_roles = _roles_of({event.actor_id for event in page.object_list if event.actor_id})
    for event in page.object_list:
        event.actor_roles = actor_roles.get(event.actor_id, "")
    return render(
        request,
        "audit/customer_accesses.html",
        {"customer": customer, "page": page, "card_url": _card_url(customer.pk)},
    )


def _roles_of(user_ids) -> dict[int, str]:
    """Each user's translated role names (one query)."""
    from django.contrib.auth.models import Group

    from crm import roles

    names: dict[int, list[str]] = {}
    for user_id, group in Group.objects.filter(user__in=user_ids).values_list("user", "name"):
        names.setdefault(user_id, []).append(str(roles.LABELS.get(group, group)))
    return {user_id: ", ".join(sorted(labels)) for user_id, labels in names.items()}


def customer_by_code(code: str):
    """The customer with this code, or a form error (the DPO and auditor see every card)."""
    customer = privacy.subject_model().objects.filter(code=(code or "").strip().upper()).first()
    if customer is None:
        raise ValidationError({"customer_code": _("No customer has this code.")})
    return customer


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
                form_add_errors(hold_form, error)
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
                form_add_errors(form, error)
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
                form_add_errors(form, error)
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


# --- incidents ----------------------------------------------------------------------------------


def _incident_or_404(user, pk):
    return get_object_or_404(incidents.incident_list(user=user), pk=pk)


def _incident_input(form) -> dict:
    data = form.cleaned_data
    return {
        "summary": data["summary"],
        "detected_at": data["detected_at"],
        "severity": data["severity"],
        "status": data["status"],
        "containment": data["containment"],
        "authorities_told_at": data["authorities_told_at"],
        "customers_told_at": data["customers_told_at"],
    }


@permission_required("audit.view_incident", raise_exception=True)
def incident_list_view(request):
    rows = incidents.incident_list(user=request.user)
    status = request.GET.get("status", "")
    if status in Incident.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/incident_list.html",
        {"page": page, "status": status, "statuses": Incident.Status.choices},
    )


@permission_required("audit.add_incident", raise_exception=True)
def incident_create_view(request):
    form = forms.IncidentForm(initial={"detected_at": timezone.localtime().replace(second=0)})
    if request.method == "POST":
        form = forms.IncidentForm(request.POST)
        if form.is_valid():
            try:
                created = incidents.incident_create(
                    actor=request.user,
                    customers=incidents.customers_by_codes(form.cleaned_data["customers"]),
                    **_incident_input(form),
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, _("The incident was recorded."))
                return redirect("audit:incident-detail", pk=created.pk)
    return render(request, "audit/incident_form.html", {"form": form, "incident": None})


@permission_required("audit.view_incident", raise_exception=True)
def incident_detail_view(request, pk):
    incident = _incident_or_404(request.user, pk)
    affected = list(incident.affected.all())
    form = None
    if request.user.has_perm("audit.change_incident"):
        form = forms.IncidentForm(
            initial={
                "summary": incident.summary,
                "detected_at": timezone.localtime(incident.detected_at),
                "severity": incident.severity,
                "status": incident.status,
                "customers": " ".join(link.customer_code for link in affected),
                "containment": incident.containment,
                "authorities_told_at": incident.authorities_told_at
                and timezone.localtime(incident.authorities_told_at),
                "customers_told_at": incident.customers_told_at
                and timezone.localtime(incident.customers_told_at),
            }
        )
    if request.method == "POST":
        if form is None:
            return HttpResponse(status=403)
        form = forms.IncidentForm(request.POST)
        if form.is_valid():
            try:
                incidents.incident_update(
                    actor=request.user,
                    incident_id=incident.pk,
                    customers=incidents.customers_by_codes(form.cleaned_data["customers"]),
                    **_incident_input(form),
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, _("The incident was saved."))
                return redirect("audit:incident-detail", pk=incident.pk)
    history = incident.history.select_related("history_user").order_by("-history_date")[:20]
    return render(
        request,
        "audit/incident_detail.html",
        {"incident": incident, "affected": affected, "form": form, "history": history},
    )


@permission_required(incidents.CONTACTS_PERMISSION, raise_exception=True)
def incident_contacts_view(request, pk):
    """The affected customers' names and phones in clear (DPO only; each opening audited)."""
    incident = _incident_or_404(request.user, pk)
    contacts = incidents.incident_contacts(actor=request.user, incident=incident)
    response = render(
        request, "audit/incident_contacts.html", {"incident": incident, "contacts": contacts}
    )
    response["Cache-Control"] = "no-store"
    return response


# --- evidence -------------------------------------------------------------------------------------


def _evidence_period(request):
    today = timezone.localdate()
    form = forms.EvidenceForm(
        request.GET or None, initial={"start": today.replace(day=1), "end": today}
    )
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    if form.is_bound:
        return form, None, None
    return form, today.replace(day=1), today


@permission_required("audit.view_privacy_report", raise_exception=True)
def evidence_view(request):
    form, start, end = _evidence_period(request)
    rows = evidence.privacy_report(start=start, end=end) if start else []
    return render(
        request,
        "audit/evidence.html",
        {"form": form, "rows": rows, "start": start, "end": end},
    )


@permission_required("audit.view_privacy_report", raise_exception=True)
def evidence_csv_view(request):
    form, start, end = _evidence_period(request)
    if start is None:
        return HttpResponse(status=400)
    rows = evidence.privacy_report(start=start, end=end)
    record_event(
        action=events.EVIDENCE_REPORT_DOWNLOADED,
        actor=request.user,
        data={"from": start.isoformat(), "to": end.isoformat()},
    )
    header = [str(_("Section")), str(_("Item")), str(_("Label")), str(_("Count"))]
    body = b"".join(writers.csv_chunks(header, evidence.as_table(rows)))
    response = HttpResponse(body, content_type=writers.CONTENT_TYPES["csv"])
    response["Content-Disposition"] = (
        f'attachment; filename="privacy-evidence-{start.isoformat()}-{end.isoformat()}.csv"'
    )
    return response
