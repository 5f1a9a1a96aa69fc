"""Credit: HTML pages: the card's Credit tab and its actions, the approval inbox, the
reports and the settings. Parse, call a service or selector, render."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credit import forms, selectors, services
from credit import permissions as perms
from credit.models import (
    AccountCondition,
    CreditAccount,
    CreditLimit,
    DeteriorationResponse,
    Hold,
    Investigation,
    Invoice,
    Note,
    Order,
    RiskReport,
)
from credit.services.accounts import RULES
from crm.permissions import require_perm
from crm.templatetags.formatting import labelled
from crm.validation import form_add_errors
from customers import permissions as customer_perms

TAB = "credit"
LIST_SIZE = 10


# --- the card's tab -------------------------------------------------------------------------


def may_import_receivables(user) -> bool:
    """The import page (``customers:import-create``) takes the user, and one of the
    receivables targets does."""
    return user.has_perm("customers.import_customer") and (
        user.has_perm(perms.ADD_INVOICE) or user.has_perm(perms.ADD_PAYMENT)
    )


def tab_visible(user, customer) -> bool:
    return user.has_perm(perms.VIEW_ACCOUNT)


def tab_context(request, card) -> dict:
    """The Credit tab: summary, the account's state and what the user may do. A fixed
    number of queries."""
    user = request.user
    summary = selectors.credit_summary(card.pk)
    account = (
        CreditAccount.objects.filter(customer=card)
        .select_related("submitted_by", "manager_decided_by", "head_office_decided_by")
        .first()
    )
    may_change = customer_perms.can_change(user, card)
    may_decide = perms.may_decide_for(user, card)
    may_reveal = customer_perms.can_reveal(user, card)
    context = {
        "credit": summary,
        "account": account,
        "rule_label": RULES.get(account.proposed_rule, "") if account else "",
        "conditions": list(
            AccountCondition.objects.filter(customer=card).select_related("fulfilled_by")
        ),
        "limits": list(
            CreditLimit.objects.filter(customer=card).select_related("requested_by", "decided_by")[
                :LIST_SIZE
            ]
        ),
        "orders": list(
            Order.objects.filter(customer=card).select_related("created_by")[:LIST_SIZE]
        ),
        "holds": list(Hold.objects.filter(customer=card).select_related("placed_by")[:LIST_SIZE]),
        "investigations": list(
            Investigation.objects.filter(customer=card).select_related("author")[:LIST_SIZE]
        ),
        "open_invoices": list(
            Invoice.objects.filter(customer=card, written_off_at__isnull=True).exclude(
                paid_amount=F("amount")
            )[:LIST_SIZE]
        ),
        "notes": list(Note.objects.filter(customer=card).exclude(status="settled")[:LIST_SIZE]),
        "responses": list(DeteriorationResponse.objects.filter(customer=card)[:LIST_SIZE]),
        "risk_reports": list(
            RiskReport.objects.filter(customer=card, status="open").select_related("note")
        ),
        "may_reveal_credit": may_reveal,
        "may_submit": may_change
        and user.has_perm(perms.SUBMIT_ACCOUNT)
        and (account is None or account.status == CreditAccount.Status.REJECTED),
        "may_decide_opening": account is not None
        and (
            (
                account.status == CreditAccount.Status.SUBMITTED
                and user.has_perm(perms.APPROVE_OPENING)
                and may_decide
            )
            or (
                account.status == CreditAccount.Status.MANAGER_APPROVED
                and user.has_perm(perms.APPROVE_OPENING_FINAL)
            )
        ),
        "may_request_limit": may_change and user.has_perm(perms.REQUEST_LIMIT),
        "may_decide_limit": may_decide
        and (user.has_perm(perms.APPROVE_LIMIT) or user.has_perm(perms.APPROVE_LIMIT_ABOVE_CAP)),
        "may_order": user.has_perm(perms.ADD_ORDER) and account is not None and account.is_open,
        "may_release_order": may_decide and user.has_perm(perms.RELEASE_ORDER),
        "may_hold": may_change and user.has_perm(perms.ADD_HOLD),
        "may_release_hold": may_decide and user.has_perm(perms.RELEASE_HOLD),
        "may_grade": may_decide and account is not None and user.has_perm(perms.CONFIRM_GRADE),
        "may_grade_facts": may_change
        and account is not None
        and user.has_perm(perms.CHANGE_ACCOUNT),
        "may_investigate": user.has_perm(perms.ADD_INVESTIGATION),
        "may_respond": may_decide and user.has_perm(perms.ADD_RESPONSE),
        "may_terminate": may_decide
        and account is not None
        and account.status != CreditAccount.Status.TERMINATED
        and user.has_perm(perms.TERMINATE),
        "may_fulfil": may_change and user.has_perm(perms.CHANGE_CONDITION),
        "may_receivables": user.has_perm(perms.ADD_INVOICE),
        "may_import_receivables": may_import_receivables(user),
        "may_note_status": user.has_perm(perms.CHANGE_NOTE),
        "may_write_off": may_decide
        and account is not None
        and account.status == CreditAccount.Status.TERMINATED
        and user.has_perm(perms.TERMINATE),
    }
    if context["may_submit"]:
        context["missing_fields"] = services.missing_card_fields(card)
    context.update(
        approve_opening_form=forms.ApproveOpeningForm(prefix="opening"),
        decision_form=forms.DecisionForm(),
        limit_approve_form=forms.LimitApproveForm(),
        limit_form=forms.LimitRequestForm(),
        order_form=forms.OrderForm(),
        hold_form=forms.HoldForm(),
        grade_form=forms.GradeForm(initial={"grade": account.proposed_grade if account else ""}),
        grade_facts_form=forms.GradeFactsForm(
            initial={
                "intermediate_wholesaler": account.intermediate_wholesaler,
                "past_breach": account.past_breach,
            }
            if account
            else None
        ),
        investigation_form=forms.InvestigationForm(),
        response_form=forms.ResponseForm(),
        invoice_form=forms.InvoiceForm(),
        payment_form=forms.PaymentForm(),
        note_form=forms.NoteForm(),
        note_status_form=forms.NoteStatusForm(),
        terminate_form=forms.TerminateForm(),
    )
    return context


# --- actions --------------------------------------------------------------------------------


def _back(customer_id):
    return HttpResponseRedirect(reverse("customers:detail", args=[customer_id]) + f"?tab={TAB}")


def _report_errors(request, errors: dict, form) -> None:
    """Each message on the next page, after its field's label when the form has that
    field (never after an internal field name)."""
    for field, texts in errors.items():
        label = form.fields[field].label if form is not None and field in form.fields else ""
        for message in texts:
            messages.error(request, labelled(label, message) if label else message)


def _run(request, customer_id, form, run, done: str):
    """Run a form through its service; back to the Credit tab with a message either way."""
    if form is not None and not form.is_valid():
        _report_errors(request, form.errors, form)
        return _back(customer_id)
    try:
        run(form.cleaned_data if form is not None else {})
    except ValidationError as error:
        _report_errors(
            request,
            error.message_dict if hasattr(error, "error_dict") else {"": error.messages},
            form,
        )
        return _back(customer_id)
    messages.success(request, done)
    return _back(customer_id)


def _customer(request, pk, action="view"):
    require_perm(request.user, perms.VIEW_ACCOUNT)
    return customer_perms.access_customer(request.user, pk, action=action)


def _row(request, model, pk, action="view"):
    require_perm(request.user, perms.VIEW_ACCOUNT)
    return perms.access_row(request.user, model, pk, action=action)


@login_required
@require_POST
def account_submit_view(request, pk):
    customer = _customer(request, pk)
    return _run(
        request,
        customer.pk,
        None,
        lambda data: services.account_submit(actor=request.user, customer=customer),
        _("The account opening was submitted."),
    )


@login_required
@require_POST
def account_approve_view(request, pk):
    account = _row(request, CreditAccount, pk)
    form = forms.ApproveOpeningForm(request.POST, prefix="opening")

    def run(data):
        services.account_approve(
            actor=request.user,
            account=account,
            comment=data["comment"],
            conditions=[(kind, data["condition_note"]) for kind in data["conditions"]],
        )

    return _run(request, account.customer_id, form, run, _("The account opening was approved."))


@login_required
@require_POST
def account_reject_view(request, pk):
    account = _row(request, CreditAccount, pk)
    form = forms.DecisionForm(request.POST)
    return _run(
        request,
        account.customer_id,
        form,
        lambda d: services.account_reject(
            actor=request.user, account=account, comment=d["comment"]
        ),
        _("The account opening was rejected."),
    )


@login_required
@require_POST
def condition_fulfil_view(request, pk):
    condition = _row(request, AccountCondition, pk)
    return _run(
        request,
        condition.customer_id,
        None,
        lambda d: services.condition_fulfil(actor=request.user, condition=condition),
        _("The condition is fulfilled."),
    )


@login_required
@require_POST
def limit_request_view(request, pk):
    customer = _customer(request, pk)
    form = forms.LimitRequestForm(request.POST)
    return _run(
        request,
        customer.pk,
        form,
        lambda d: services.limit_request(actor=request.user, customer=customer, **d),
        _("The credit limit was requested."),
    )


@login_required
@require_POST
def limit_approve_view(request, pk):
    limit = _row(request, CreditLimit, pk)
    form = forms.LimitApproveForm(request.POST)
    return _run(
        request,
        limit.customer_id,
        form,
        lambda d: services.limit_approve(
            actor=request.user, limit=limit, comment=d["comment"], special=d["special"]
        ),
        _("The credit limit was approved."),
    )


@login_required
@require_POST
def limit_reject_view(request, pk):
    limit = _row(request, CreditLimit, pk)
    form = forms.DecisionForm(request.POST)
    return _run(
        request,
        limit.customer_id,
        form,
        lambda d: services.limit_reject(actor=request.user, limit=limit, comment=d["comment"]),
        _("The credit limit was rejected."),
    )


@login_required
@require_POST
def order_create_view(request, pk):
    customer = _customer(request, pk)
    form = forms.OrderForm(request.POST)

    def run(data):
        order = services.order_create(actor=request.user, customer=customer, **data)
        if order.status == Order.Status.BLOCKED:
            messages.warning(
                request,
                _("The order is blocked: %(reason)s.") % {"reason": order.get_reason_display()},
            )

    return _run(request, customer.pk, form, run, _("The order was entered."))


@login_required
@require_POST
def order_release_view(request, pk):
    order = _row(request, Order, pk)
    return _run(
        request,
        order.customer_id,
        None,
        lambda d: services.order_release(actor=request.user, order=order),
        _("The order was released."),
    )


@login_required
@require_POST
def order_reject_view(request, pk):
    order = _row(request, Order, pk)
    return _run(
        request,
        order.customer_id,
        None,
        lambda d: services.order_reject(actor=request.user, order=order),
        _("The order was rejected."),
    )


@login_required
@require_POST
def hold_place_view(request, pk):
    customer = _customer(request, pk)
    form = forms.HoldForm(request.POST)
    return _run(
        request,
        customer.pk,
        form,
        lambda d: services.hold_place(actor=request.user, customer=customer, reason=d["reason"]),
        _("Shipments are on hold."),
    )


@login_required
@require_POST
def hold_release_view(request, pk):
    hold = _row(request, Hold, pk)
    return _run(
        request,
        hold.customer_id,
        None,
        lambda d: services.hold_release(actor=request.user, hold=hold),
        _("The hold was released."),
    )


@login_required
@require_POST
def grade_confirm_view(request, pk):
    customer = _customer(request, pk)
    form = forms.GradeForm(request.POST)
    return _run(
        request,
        customer.pk,
        form,
        lambda d: services.grade_confirm(actor=request.user, customer=customer, **d),
        _("The grade was recorded."),
    )


@login_required
@require_POST
def grade_facts_view(request, pk):
    customer = _customer(request, pk)
    form = forms.GradeFactsForm(request.POST)
    return _run(
        request,
        customer.pk,
        form,
        lambda d: services.grade_facts_set(actor=request.user, customer=customer, **d),
        _("Saved."),
    )


@login_required
@require_POST
def investigation_record_view(request, pk):
    customer = _customer(request, pk)
    form = forms.InvestigationForm(request.POST)
    return _run(
        request,
        customer.pk,
        form,
        lambda d: services.investigation_record(actor=request.user, customer=customer, **d),
        _("The investigation was recorded."),
    )


@login_required
@require_POST
def response_record_view(request, pk):
    customer = _customer(request, pk)
    form = forms.ResponseForm(request.POST)
    return _run(
        request,
        customer.pk,
        form,
        lambda d: services.response_record(actor=request.user, customer=customer, **d),
        _("The response was recorded."),
    )


@login_required
@require_POST
def terminate_view(request, pk):
    customer = _customer(request, pk)
    form = forms.TerminateForm(request.POST)
    return _run(
        request,
        customer.pk,
        form,
        lambda d: services.account_terminate(
            actor=request.user, customer=customer, reason=d["reason"]
        ),
        _("Trading with this customer is terminated."),
    )


@login_required
@require_POST
def invoice_create_view(request, pk):
    customer = _customer(request, pk)
    form = forms.InvoiceForm(request.POST)
    return _run(
        request,
        customer.pk,
        form,
        lambda d: services.invoice_create(actor=request.user, customer=customer, **d),
        _("The invoice was recorded."),
    )


@login_required
@require_POST
def payment_record_view(request, pk):
    customer = _customer(request, pk)
    form = forms.PaymentForm(request.POST)
    return _run(
        request,
        customer.pk,
        form,
        lambda d: services.payment_record(actor=request.user, customer=customer, **d),
        _("The payment was recorded."),
    )


@login_required
@require_POST
def note_record_view(request, pk):
    customer = _customer(request, pk)
    form = forms.NoteForm(request.POST)
    return _run(
        request,
        customer.pk,
        form,
        lambda d: services.note_record(actor=request.user, customer=customer, **d),
        _("The note was recorded."),
    )


@login_required
@require_POST
def note_status_view(request, pk):
    note = _row(request, Note, pk)
    form = forms.NoteStatusForm(request.POST)
    return _run(
        request,
        note.customer_id,
        form,
        lambda d: services.note_status_set(actor=request.user, note=note, **d),
        _("The note was updated."),
    )


@login_required
@require_POST
def invoice_write_off_view(request, pk):
    invoice = _row(request, Invoice, pk)
    form = forms.TerminateForm(request.POST)
    return _run(
        request,
        invoice.customer_id,
        form,
        lambda d: services.invoice_write_off(
            actor=request.user, invoice=invoice, reason=d["reason"]
        ),
        _("The invoice was written off."),
    )


# --- the approval inbox, reports, settings --------------------------------------------------


def _may_use_inbox(user) -> bool:
    return any(
        user.has_perm(p)
        for p in (
            perms.APPROVE_OPENING,
            perms.APPROVE_OPENING_FINAL,
            perms.APPROVE_LIMIT,
            perms.APPROVE_LIMIT_ABOVE_CAP,
            perms.RELEASE_ORDER,
        )
    )


@login_required
def inbox_view(request):
    """What waits for this manager: openings, limit requests, blocked orders, risk reports
    and the exceptions granted."""
    if not _may_use_inbox(request.user):
        raise PermissionDenied
    user = request.user
    return render(
        request,
        "credit/inbox.html",
        {
            "openings": list(selectors.opening_inbox(user)[:50]),
            "limits": list(selectors.limit_inbox(user)[:50]),
            "orders": list(selectors.blocked_orders(user)[:50]),
            "risk_reports": list(selectors.open_risk_reports(user)[:50]),
            "exceptions": list(selectors.exceptions_list(user)[:50]),
            "decision_form": forms.DecisionForm(),
        },
    )


@login_required
def inbox_badge_view(request):
    """The number waiting for the user (for the header, loaded by htmx)."""
    if not _may_use_inbox(request.user):
        return HttpResponse("")
    total = sum(selectors.inbox_counts(request.user).values())
    if not total:
        return HttpResponse("")
    return HttpResponse(f'<span class="badge text-bg-danger ms-1">{int(total)}</span>')


REPORTS = ("grades", "exposure", "blocked", "ageing")


def _report_rows(user, report: str) -> tuple[list[str], list[list]]:
    if report == "grades":
        return [_("Grade"), _("Customers")], [
            [row["grade"], row["customers"]] for row in selectors.grade_report(user)
        ]
    if report == "exposure":
        return [
            _("Customer"),
            _("Limit"),
            _("Currency"),
            _("Exposure"),
            _("Headroom"),
            _("Share of the limit used"),
        ], [
            [
                row["code"],
                row["summary"].limit,
                row["summary"].currency,
                row["summary"].exposure,
                row["summary"].headroom,
                row["summary"].percent_used,
            ]
            for row in selectors.exposure_report(user)
        ]
    if report == "blocked":
        orders = selectors.visible(user, Order, perms.VIEW_ORDER).filter(
            status=Order.Status.BLOCKED
        )
        return [_("Customer"), _("Order"), _("Amount"), _("Currency"), _("Reason"), _("Entered")], [
            [
                o.customer.code,
                o.reference,
                o.amount,
                o.currency,
                o.get_reason_display(),
                o.created_at.date(),
            ]
            for o in orders.select_related("customer").order_by("created_at")[:1000]
        ] if user.has_perm(perms.REPORTS) else []
    headers = (
        [_("Customer"), _("Currency")]
        + [name for name, _low, _high in selectors.AGEING_BUCKETS]
        + [_("Total")]
    )
    return headers, [
        [row["code"], row["currency"], *row["buckets"], row["total"]]
        for row in selectors.ageing_report(user)
    ]


@login_required
def reports_view(request):
    require_perm(request.user, perms.REPORTS)
    report = request.GET.get("report", "exposure")
    if report not in REPORTS:
        raise Http404
    headers, rows = _report_rows(request.user, report)
    file_format = request.GET.get("format", "")
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([str(h) for h in headers])
        writer.writerows(rows)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="credit-{report}.csv"'
        return response
    if file_format == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(report)
        sheet.append([str(h) for h in headers])
        for row in rows:
            sheet.append(list(row))
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="credit-{report}.xlsx"'
        return response
    return render(
        request,
        "credit/reports.html",
        {
            "report": report,
            "reports": REPORTS,
            "headers": headers,
            "rows": rows,
            "may_import_receivables": may_import_receivables(request.user),
        },
    )


@login_required
def settings_view(request):
    require_perm(request.user, perms.VIEW_SETTINGS)
    current = selectors.credit_settings()
    may_change = request.user.has_perm(perms.CHANGE_SETTINGS)
    form = forms.SettingsForm(request.POST or None, instance=current)
    if request.method == "POST":
        require_perm(request.user, perms.CHANGE_SETTINGS)
        if form.is_valid():
            try:
                services.credit_settings_update(
                    actor=request.user,
                    **{name: form.cleaned_data[name] for name in form.Meta.fields},
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, _("The credit settings were saved."))
                return HttpResponseRedirect(reverse("credit:settings"))
    return render(request, "credit/settings.html", {"form": form, "may_change": may_change})


# --- an investigation's page and its attachments --------------------------------------------


def _investigation_context(request, investigation, form=None) -> dict:
    user = request.user
    customer = investigation.customer
    return {
        "investigation": investigation,
        "customer": customer,
        "attachments": list(selectors.attachments_of(investigation)),
        "may_reveal_credit": customer_perms.can_reveal(user, customer),
        "may_attach": user.has_perm(perms.ADD_ATTACHMENT),
        "attachment_form": form or forms.AttachmentForm(),
        "max_mb": selectors.credit_settings().attachment_max_mb,
    }


@login_required
def investigation_view(request, pk):
    """One investigation: its four aspects (in clear for those who may reveal), its
    attachments and the upload form."""
    investigation = selectors.investigation_get(request.user, pk)
    return render(
        request, "credit/investigation.html", _investigation_context(request, investigation)
    )


@login_required
@require_POST
def attachment_add_view(request, pk):
    """Upload an attachment. With htmx the attachments panel comes back (the list, or the
    form with its error under the field); without, back to the page."""
    investigation = selectors.investigation_get(request.user, pk)
    # The role before the contents: who may not attach is told so, not that the file is bad.
    require_perm(request.user, perms.ADD_ATTACHMENT)
    form = forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(
                actor=request.user, investigation=investigation, upload=form.cleaned_data["file"]
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("The file was attached."))
                return HttpResponseRedirect(reverse("credit:investigation", args=[pk]))
            form = None
    context = _investigation_context(request, investigation, form)
    if request.htmx:
        context["attached"] = form is None
        return render(request, "credit/_attachments.html", context)
    return render(
        request, "credit/investigation.html", context, status=200 if form is None else 400
    )


@login_required
def attachment_download_view(request, pk):
    """The decrypted file, as a download only: never shown inline, never sniffed."""
    from django.http import StreamingHttpResponse
    from django.utils.cache import patch_cache_control

    attachment = selectors.attachment_get(request.user, pk)
    reader = services.attachment_open(actor=request.user, attachment=attachment)

    def chunks():
        try:
            while chunk := reader.read(1024 * 1024):
                yield chunk
        finally:
            reader.close()

    response = StreamingHttpResponse(chunks(), content_type=attachment.content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="credit-attachment-{attachment.pk}{attachment.extension}"'
    )
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, no_store=True, private=True)
    return response
