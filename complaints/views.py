"""Complaints: HTML pages: parse, call a service or selector, render.

The board (the queue by status, with SLA clocks and buttons to move a card), a complaint
with its own timeline and actions, receipt, the caller look-up and the service reports.
"""

from __future__ import annotations

import csv
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from complaints import forms, selectors, services
from complaints import permissions as perms
from complaints.filters import ComplaintFilter
from complaints.models import Complaint
from crm.exceptions import ConflictError
from crm.permissions import require_perm


def _errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, texts in error.message_dict.items():
            for text in texts:
                form.add_error(field if field in form.fields else None, text)
    else:
        for text in error.messages:
            form.add_error(None, text)


def _message_errors(request, error: ValidationError) -> None:
    for text in error.messages:
        messages.error(request, text)


# --- the board ------------------------------------------------------------------------------


@login_required
def board_view(request):
    """The queue by status: counts, the first cards of each column, filters."""
    require_perm(request.user, perms.VIEW)
    filterset = ComplaintFilter(request.GET or None, queryset=Complaint.objects.none())
    filters = filterset.form.cleaned_data if filterset.is_valid() else {}
    filters = {
        key: (value.code if hasattr(value, "code") else value)
        for key, value in filters.items()
        if value not in (None, "")
    }
    columns = selectors.complaint_board(user=request.user, filters=filters)
    template = "complaints/_board_columns.html" if request.htmx else "complaints/board.html"
    return render(
        request,
        template,
        {
            "columns": columns,
            "filter": filterset,
            "may_add": request.user.has_perm(perms.ADD),
            "may_act": request.user.has_perm(perms.CHANGE),
            "next_moves": services.TRANSITIONS,
        },
    )


@login_required
@require_POST
def board_move_view(request, pk):
    """A button on a board card: move it one step (htmx answers the board's columns)."""
    to = request.POST.get("to", "")
    try:
        services.complaint_transition(
            actor=request.user, complaint_id=pk, to=to, note=request.POST.get("note", "")
        )
    except ValidationError as error:
        _message_errors(request, error)
    if request.htmx:
        return board_view(request)
    return redirect("complaints:board")


# --- one complaint --------------------------------------------------------------------------


def _detail_context(request, complaint, **forms_):
    user = request.user
    may_act = perms.can_act(user, complaint)
    return {
        "complaint": complaint,
        "events": selectors.complaint_events(complaint),
        "return_visits": list(complaint.return_visits.all()),
        "may_act": may_act,
        "may_assign": user.has_perm(perms.ASSIGN),
        "may_take": complaint.assignee_id is None and user.has_perm(perms.HANDLE),
        "may_reveal": may_act
        and complaint.status != Complaint.Status.CLOSED
        and (complaint.customer_id is None or complaint.assignee_id == user.pk),
        "is_overdue": complaint.overdue(timezone.now()),
        "next_moves": services.TRANSITIONS.get(complaint.status, ()),
        "transition_form": forms_.get("transition_form") or forms.TransitionForm(),
        "assign_form": forms_.get("assign_form")
        or (
            forms.AssignForm(initial={"user": complaint.assignee_id})
            if user.has_perm(perms.ASSIGN)
            else None
        ),
        "note_form": forms_.get("note_form") or forms.NoteForm(),
        "visit_form": forms_.get("visit_form") or forms.ReturnVisitForm(),
        "link_form": forms_.get("link_form") or forms.LinkForm(),
        "revealed": forms_.get("revealed"),
    }


@login_required
def detail_view(request, pk):
    complaint = perms.access_complaint(request.user, pk)
    return render(request, "complaints/detail.html", _detail_context(request, complaint))


@login_required
@require_POST
def action_view(request, pk, action):
    """The complaint page's forms: transition, assign, take, note, return visit, link,
    reveal. Errors show on the form; success returns to the page."""
    complaint = perms.access_complaint(request.user, pk)
    actor = request.user
    extra = {}
    try:
        if action == "transition":
            form = forms.TransitionForm(request.POST)
            extra["transition_form"] = form
            if form.is_valid():
                services.complaint_transition(actor=actor, complaint_id=pk, **form.cleaned_data)
                return redirect("complaints:detail", pk)
        elif action == "assign":
            form = forms.AssignForm(request.POST)
            extra["assign_form"] = form
            if form.is_valid():
                services.complaint_assign(
                    actor=actor, complaint_id=pk, assignee=form.cleaned_data["user"]
                )
                messages.success(request, _("The complaint was assigned."))
                return redirect("complaints:detail", pk)
        elif action == "take":
            services.complaint_assign(actor=actor, complaint_id=pk, assignee=actor)
            return redirect("complaints:detail", pk)
        elif action == "note":
            form = forms.NoteForm(request.POST)
            extra["note_form"] = form
            if form.is_valid():
                services.complaint_note_add(actor=actor, complaint_id=pk, **form.cleaned_data)
                return redirect("complaints:detail", pk)
        elif action == "return-visit":
            form = forms.ReturnVisitForm(request.POST)
            extra["visit_form"] = form
            if form.is_valid():
                services.return_visit_record(actor=actor, complaint_id=pk, **form.cleaned_data)
                return redirect("complaints:detail", pk)
        elif action == "link":
            form = forms.LinkForm(request.POST)
            extra["link_form"] = form
            if form.is_valid():
                services.complaint_link_customer(
                    actor=actor, complaint_id=pk, customer_id=form.cleaned_data["customer"]
                )
                return redirect("complaints:detail", pk)
        elif action == "reveal":
            extra["revealed"] = services.complaint_caller_reveal(actor=actor, complaint_id=pk)
        else:
            return redirect("complaints:detail", pk)
    except ValidationError as error:
        target = next((f for f in extra.values() if hasattr(f, "add_error")), None)
        if target is not None:
            _errors(target, error)
        else:
            _message_errors(request, error)
    except ConflictError as error:
        messages.error(request, str(error))
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You are not allowed to do this."))
    complaint = perms.access_complaint(request.user, pk)
    return render(
        request,
        "complaints/detail.html",
        _detail_context(request, complaint, **extra),
        status=200,
    )


# --- receipt and look-up --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def create_view(request):
    require_perm(request.user, perms.ADD)
    customer = None
    customer_id = request.POST.get("customer") or request.GET.get("customer")
    if customer_id:
        customer = services.customer_for_complaint(request.user, customer_id)
    form = forms.ComplaintForm(
        request.POST or None, initial={"customer": customer.pk if customer else None}
    )
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        try:
            complaint = services.complaint_create(
                actor=request.user, customer_id=values.pop("customer"), **values
            )
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("Complaint %(code)s received.") % {"code": complaint.code})
            return redirect("complaints:detail", complaint.pk)
    return render(request, "complaints/form.html", {"form": form, "customer": customer})


@login_required
@require_http_methods(["GET", "POST"])
def lookup_view(request):
    """Find a caller by an exact phone, ID number or customer code (posted: the value never
    travels in a URL); the answer is the masked card summary."""
    require_perm(request.user, perms.LOOKUP)
    form = forms.LookupForm(request.POST or None)
    customer, searched = None, False
    if request.method == "POST" and form.is_valid():
        searched = True
        try:
            customer = services.caller_lookup(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors(form, error)
            searched = False
        else:  # the value searched for is not shown back
            form = forms.LookupForm(
                initial={"by": form.cleaned_data["by"], "purpose": form.cleaned_data["purpose"]}
            )
    return render(
        request,
        "complaints/lookup.html",
        {"form": form, "customer": customer, "searched": searched},
    )


# --- reports --------------------------------------------------------------------------------


def _report_period(request):
    def day(name):
        try:
            return datetime.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None

    return day("start"), day("end"), ("week" if request.GET.get("period") == "week" else "month")


@login_required
def reports_view(request):
    require_perm(request.user, perms.REPORTS)
    start, end, period = _report_period(request)
    report = selectors.service_report(user=request.user, start=start, end=end, period=period)
    if request.GET.get("format") == "csv":
        return _report_csv(report)
    chart = {
        "categories": sorted({row["category__code"] for row in report["by_category"]}),
        "csat": [report["csat_distribution"][n] for n in range(1, 6)],
    }
    return render(
        request,
        "complaints/reports.html",
        {"report": report, "start": start, "end": end, "period": period, "chart": chart},
    )


def _report_csv(report: dict) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="service-report.csv"'
    writer = csv.writer(response)
    writer.writerow(["measure", "value"])
    for key in (
        "total",
        "first_response_compliance",
        "resolution_compliance",
        "first_response_median",
        "first_response_p90",
        "resolution_median",
        "resolution_p90",
        "csat_average",
        "repeat_rate",
    ):
        writer.writerow([key, "" if report[key] is None else report[key]])
    for score, count in report["csat_distribution"].items():
        writer.writerow([f"csat_{score}", count])
    writer.writerow([])
    writer.writerow(["period", "category", "count"])
    for row in report["by_category"]:
        writer.writerow(
            [
                row["period"].date().isoformat() if row["period"] else "",
                row["category__code"],
                row["count"],
            ]
        )
    writer.writerow([])
    writer.writerow(["period", "channel", "count"])
    for row in report["by_channel"]:
        writer.writerow(
            [
                row["period"].date().isoformat() if row["period"] else "",
                row["channel"],
                row["count"],
            ]
        )
    return response
