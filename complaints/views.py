"""Complaints: HTML pages: parse, call a service or selector, render.

The board (the queue by status, with SLA clocks and buttons to move a card), a complaint
with its own timeline and actions, receipt, the caller look-up and the service reports.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from complaints import exports, forms, selectors, services
from complaints import permissions as perms
from complaints.filters import ComplaintFilter
from complaints.models import Complaint
from crm.exceptions import ConflictError
from crm.exports.writers import CONTENT_TYPES
from crm.permissions import require_perm
from crm.validation import form_add_errors, messages_add_errors

# --- the board ------------------------------------------------------------------------------


@login_required
def board_view(request):
    """The queue by status: counts, the first cards of each column, filters."""
    require_perm(request.user, perms.VIEW)
    # A move posted from the board (button or drop) carries the board's filters in its body.
    data = request.GET if request.method == "GET" else request.POST
    filterset = ComplaintFilter(data or None, queryset=Complaint.objects.none())
    # A filter that does not validate is dropped; the others still apply.
    filterset.is_valid()
    filters = {
        key: (value.code if hasattr(value, "code") else getattr(value, "pk", value))
        for key, value in getattr(filterset.form, "cleaned_data", {}).items()
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
            # The columns swapped in by htmx carry the messages (an illegal move's error);
            # a full page shows them at its top.
            "show_messages": bool(request.htmx),
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
        messages_add_errors(request, error)
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
            form_add_errors(target, error)
        else:
            messages_add_errors(request, error)
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
            form_add_errors(form, error)
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
            form_add_errors(form, error)
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
    if request.GET.get("format") in ("csv", "xlsx"):
        return _report_file(report, request.GET["format"])
    per_category: dict[str, int] = {}
    for row in report["by_category"]:
        code = row["category__code"]
        per_category[code] = per_category.get(code, 0) + row["count"]
    chart = {
        "categories": list(per_category),
        "category_counts": list(per_category.values()),
        "label": _("Satisfaction scores"),
        "survey_label": _("Survey scores"),
        "csat": [report["csat_distribution"][n] for n in range(1, 6)],
        "survey": [report["surveys"]["csat_distribution"][n] for n in range(1, 6)],
    }
    return render(
        request,
        "complaints/reports.html",
        {
            "report": report,
            "start": start,
            "end": end,
            "period": period,
            "chart": chart,
            "may_survey": request.user.has_perm(perms.SURVEYS),
        },
    )


def _report_file(report: dict, fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(exports.report_xlsx(report), content_type=CONTENT_TYPES["xlsx"])
    else:
        response = HttpResponse(exports.report_csv(report), content_type=CONTENT_TYPES["csv"])
    response["Content-Disposition"] = f'attachment; filename="service-report.{fmt}"'
    return response


# --- satisfaction surveys -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def surveys_view(request):
    """The surveys, their current round's counts, and a new survey (service manager)."""
    require_perm(request.user, perms.SURVEYS)
    form = forms.SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_save(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("The survey was saved."))
            return redirect("complaints:surveys")
    return render(
        request,
        "complaints/surveys.html",
        {"surveys": selectors.survey_list(), "form": form},
    )


@login_required
@require_POST
def survey_send_view(request, pk):
    """Send a survey's current round now (the daily task does it too)."""
    require_perm(request.user, perms.SURVEYS)
    survey = selectors.survey_get(pk)
    services.survey_round_queue(actor=request.user, survey=survey)
    messages.success(request, _("The round is being sent."))
    return redirect("complaints:surveys")


# The answer page is public: the signed token is the only credential, and the page shows
# the survey's question only, nothing about the customer.
@never_cache
@require_http_methods(["GET", "POST"])
def survey_answer_view(request, token):
    context = {"scores": range(1, 6)}
    try:
        invitation = services.survey_invitation_read(token)
    except services.InvalidSurveyLink as error:
        context |= {"state": "invalid", "message": error.messages[0]}
        return render(request, "complaints/survey_answer.html", context, status=400)
    context["survey"] = invitation.survey
    if invitation.responded:
        return render(request, "complaints/survey_answer.html", context | {"state": "answered"})
    if request.method == "POST":
        try:
            services.survey_respond(
                token=token,
                score=request.POST.get("score"),
                comment=request.POST.get("comment", ""),
            )
        except services.SurveyAlreadyAnswered:
            context["state"] = "answered"
        except ValidationError as error:
            context |= {"state": "form", "errors": error.messages}
            return render(request, "complaints/survey_answer.html", context, status=400)
        else:
            context["state"] = "done"
    else:
        context["state"] = "form"
    return render(request, "complaints/survey_answer.html", context)
