"""Sales analytics: HTML pages: parse, call a service or selector, render."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from analytics import events, exports, report_runs, reports, selectors, services
from analytics import permissions as perms
from analytics.models import PurchaseEstimate, ReportRun
from audit.services import record_event
from crm.permissions import require_perm
from crm.validation import form_add_errors
from customers.models import BusinessType

REPORTS = {
    "composition": gettext_lazy("Composition by business type"),
    "abc": gettext_lazy("ABC classes"),
    "share": gettext_lazy("Share of sales and of wallet"),
    "seasonal": gettext_lazy("Seasonal index and targets"),
    "products": gettext_lazy("Product mix"),
}


class PeriodForm(forms.Form):
    """The period picker and the narrowing every report page takes."""

    report = forms.ChoiceField(choices=list(REPORTS.items()), required=False)
    date_from = forms.DateField(label=gettext_lazy("From"), required=False)
    date_to = forms.DateField(label=gettext_lazy("Until"), required=False)
    business_type = forms.ModelChoiceField(
        label=gettext_lazy("Business type"), queryset=BusinessType.objects.none(), required=False
    )
    rep = forms.IntegerField(required=False, widget=forms.HiddenInput)
    team = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    other = forms.IntegerField(required=False, widget=forms.HiddenInput)
    years = forms.CharField(label=gettext_lazy("Years"), required=False, max_length=20)
    target = forms.DecimalField(
        label=gettext_lazy("Annual target"), required=False, min_value=0, decimal_places=2,
        max_digits=16,
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_type"].queryset = BusinessType.objects.filter(is_active=True)

    def clean_years(self):
        value = self.cleaned_data.get("years") or ""
        if not value.strip():
            return reports.default_years()
        try:
            years = sorted({int(part) for part in value.split(",") if part.strip()})
        except ValueError:
            years = []
        if len(years) != 3 or not all(1900 <= y <= 2100 for y in years):
            raise ValidationError(_("Give three years, e.g. 2023,2024,2025."))
        return years


def _chart(kind: str, result) -> dict:
    """What Chart.js draws beside the table (``static/js/analytics.js``)."""
    if kind == "composition":
        return {
            "type": "doughnut",
            "data": {
                "labels": [r["name"] for r in result],
                "datasets": [{"label": str(_("Sales")), "data": [str(r["sales"]) for r in result]}],
            },
        }
    if kind == "abc":  # Pareto: sales as bars, the cumulative share as a line
        return {
            "type": "bar",
            "pareto": True,
            "data": {
                "labels": [r["code"] for r in result],
                "datasets": [
                    {"label": str(_("Sales")), "data": [str(r["sales"]) for r in result]},
                    {
                        "type": "line",
                        "label": str(_("Cumulative share (%)")),
                        "data": [str(r["cumulative_share"]) for r in result],
                        "yAxisID": "share",
                    },
                ],
            },
        }
    if kind == "share":
        rows = result["rows"][:30]
        return {
            "type": "bar",
            "data": {
                "labels": [r["code"] for r in rows],
                "datasets": [
                    {
                        "label": str(_("Share of company sales (%)")),
                        "data": [str(r["share"]) for r in rows],
                    },
                    {
                        "label": str(_("Share of wallet (%)")),
                        "data": [_num(r["share_of_wallet"]) for r in rows],
                    },
                ],
            },
        }
    if kind == "seasonal":
        return {
            "type": "line",
            "data": {
                "labels": exports.MONTHS,
                "datasets": [
                    {
                        "label": str(_("Seasonal index (%)")),
                        "data": [str(v) for v in (result["index"] or [])],
                    }
                ],
            },
        }
    return {
        "type": "bar",
        "data": {
            "labels": [r["code"] for r in result],
            "datasets": [
                {"label": str(_("Sales")), "data": [str(r["sales"]) for r in result]},
                {"label": str(_("Gross profit")), "data": [str(r["gross_profit"]) for r in result]},
            ],
        },
    }


def _num(value):
    return None if value is None else str(value)


def run_report(kind: str, scope, cleaned: dict):
    if kind == "composition":
        return reports.composition(scope)
    if kind == "abc":
        return reports.abc(scope)
    if kind == "share":
        return reports.share(scope)
    if kind == "seasonal":
        return reports.seasonal(scope, years=cleaned["years"], target=cleaned.get("target"))
    return reports.products(scope)


def _export(request, kind: str, result, fmt: str, scope) -> HttpResponse:
    record_event(
        action=events.REPORT_EXPORTED,
        actor=request.user,
        data={"report": kind, "format": fmt, "rows": len(exports.table(kind, result)[1])},
    )
    content = exports.render(kind, result, fmt)
    response = HttpResponse(
        content,
        content_type=(
            "text/csv; charset=utf-8"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ),
    )
    stamp = f"{scope.date_from:%Y%m%d}-{scope.date_to:%Y%m%d}"
    response["Content-Disposition"] = f'attachment; filename="{kind}-{stamp}.{fmt}"'
    return response


@login_required
def report_page(request):
    """Every report: period picker, table, chart, CSV/XLSX export (``?format=``)."""
    require_perm(request.user, perms.VIEW_REPORTS, _("You are not allowed to see sales reports."))
    form = PeriodForm(request.GET or None)
    kind = request.GET.get("report") or "composition"
    if kind not in REPORTS:
        raise Http404
    cleaned = {"years": reports.default_years(), "target": None}
    if form.is_bound and form.is_valid():
        cleaned = form.cleaned_data
    try:
        scope = selectors.report_scope(
            user=request.user,
            date_from=cleaned.get("date_from"),
            date_to=cleaned.get("date_to"),
            business_type=cleaned["business_type"].pk if cleaned.get("business_type") else None,
            rep=cleaned.get("rep"),
            team=cleaned.get("team"),
            customer=cleaned.get("customer"),
        )
    except ValidationError as exc:
        form_add_errors(form, exc)
        scope = None
    result = run_report(kind, scope, cleaned) if scope is not None else None
    fmt = request.GET.get("format")
    if result is not None and fmt in ("csv", "xlsx"):
        return _export(request, kind, result, fmt, scope)
    not_shared = None
    if kind == "products" and scope is not None and scope.customer and cleaned.get("other"):
        from customers.permissions import access_customer

        other = access_customer(request.user, cleaned["other"])
        not_shared = list(
            reports.products_not_shared(
                user=request.user,
                customer=scope.customer,
                other=other.pk,
                date_from=scope.date_from,
                date_to=scope.date_to,
            )
        )
    table = exports.table(kind, result) if result is not None else None
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "form": form,
        "kind": kind,
        "kinds": REPORTS.items(),
        "title": REPORTS[kind],
        "scope": scope,
        "result": result,
        "table": table,
        "text_columns": exports.TEXT_COLUMNS.get(kind, frozenset()),
        "chart": _chart(kind, result) if result is not None else None,
        "query": query.urlencode(),
        "not_shared": not_shared,
        "top_contribution": (
            max(result, key=lambda r: r["contribution_ratio"] or Decimal(-1))
            if kind == "products" and result
            else None
        ),
    }
    return render(request, "analytics/reports.html", context)


# --- the card's Sales tab -----------------------------------------------------------------


def sales_tab(request, customer) -> HttpResponse:
    """The customer's own reports: product mix of the year so far and seasonal index."""
    date_from, date_to = selectors.default_period()
    scope = reports.Scope(
        user=request.user, date_from=date_from, date_to=date_to, customer=customer.pk
    )
    products = reports.products(scope)
    seasonal = reports.seasonal(scope, years=reports.default_years())
    html = render_to_string(
        "analytics/card_tab.html",
        {
            "customer": customer,
            "scope": scope,
            "products": products,
            "seasonal": seasonal,
            "chart": _chart("seasonal", seasonal),
        },
        request=request,
    )
    return HttpResponse(html)


# --- dashboard ----------------------------------------------------------------------------


def dashboard_context(user) -> dict | None:
    """Sales of the year so far over the user's customers (one query, two for a rep)."""
    if not user.is_authenticated or not user.has_perm(perms.VIEW_REPORTS):
        return None
    today = timezone.localdate()
    scope = reports.Scope(user=user, date_from=today.replace(month=1, day=1), date_to=today)
    month = today.replace(day=1)
    figures = scope.lines().aggregate(
        year=Sum("amount"),
        month=Sum("amount", filter=Q(date__gte=month)),
    )
    return {
        "sales_year": reports.money(figures["year"]),
        "sales_month": reports.money(figures["month"]),
    }


# --- monthly runs -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def run_list(request):
    require_perm(request.user, perms.VIEW_RUNS)
    error = ""
    if request.method == "POST":
        require_perm(request.user, perms.RUN_REPORTS)
        try:
            period = datetime.datetime.strptime(request.POST.get("month", ""), "%Y-%m").date()
        except ValueError:
            error = _("Enter a month as YYYY-MM.")
        else:
            run = report_runs.report_run_start(actor=request.user, period=period)
            return redirect("analytics:run", run_id=run.pk)
    runs = selectors.report_run_list(user=request.user)[:36]
    return render(
        request,
        "analytics/runs.html",
        {
            "runs": runs,
            "error": error,
            "may_run": request.user.has_perm(perms.RUN_REPORTS),
            "default_month": f"{report_runs.previous_month():%Y-%m}",
        },
        status=400 if error else 200,
    )


@login_required
def run_detail(request, run_id: int):
    run = perms.access_report_run(request.user, run_id)
    tables = []
    if run.status == ReportRun.Status.DONE:
        for key, title in report_runs.STANDARD_SET:
            header, rows = exports.table(key.split("_")[0], run.results.get(key) or [])
            tables.append(
                {
                    "key": key,
                    "title": _(title),
                    "header": header,
                    "rows": rows,
                    "text_columns": exports.TEXT_COLUMNS[key.split("_")[0]],
                }
            )
    template = (
        "analytics/_run_status.html" if request.headers.get("HX-Request") else "analytics/run.html"
    )
    return render(
        request,
        template,
        {"run": run, "tables": tables, "may_run": request.user.has_perm(perms.RUN_REPORTS)},
    )


@login_required
@require_POST
def run_retry(request, run_id: int):
    run = perms.access_report_run(request.user, run_id)
    report_runs.report_run_start(actor=request.user, period=run.period)
    return redirect("analytics:run", run_id=run.pk)


@login_required
def run_download(request, run_id: int):
    run = perms.access_report_run(request.user, run_id)
    if run.status != ReportRun.Status.DONE:
        raise Http404
    content = report_runs.report_run_download(user=request.user, run=run)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="sales-{run.period:%Y-%m}.xlsx"'
    return response


# --- purchase estimates (share of wallet) -------------------------------------------------

ESTIMATES_PAGE_SIZE = 50


class EstimateForm(forms.Form):
    customer = forms.CharField(label=gettext_lazy("Customer code"), max_length=50)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=1900, max_value=2100)
    amount = forms.DecimalField(
        label=gettext_lazy("Estimated purchases"), max_digits=16, decimal_places=2
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), choices=PurchaseEstimate.Source.choices
    )


def _estimates_context(request, form) -> dict:
    from django.core.paginator import Paginator

    page = Paginator(
        selectors.purchase_estimate_list(user=request.user), ESTIMATES_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return {
        "form": form,
        "page": page,
        "may_record": request.user.has_perm(perms.ADD_ESTIMATE),
        "hx_target": "#estimates",
    }


@login_required
@require_http_methods(["GET", "POST"])
def estimate_list(request):
    """The estimates of the customers one sees, and a form to record one (htmx swaps the
    list and the form in place; without JavaScript the form posts and redirects)."""
    require_perm(request.user, perms.VIEW_ESTIMATE)
    form = EstimateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require_perm(request.user, perms.ADD_ESTIMATE)
        if form.is_valid():
            customer = selectors.visible_customer_by_code(
                user=request.user, code=form.cleaned_data["customer"]
            )
            if customer is None:
                form.add_error(
                    "customer", _("There is no customer with this code that you may see.")
                )
            else:
                try:
                    services.purchase_estimate_save(
                        actor=request.user,
                        customer=customer,
                        year=form.cleaned_data["year"],
                        amount=form.cleaned_data["amount"],
                        source=form.cleaned_data["source"],
                    )
                except ValidationError as exc:
                    form_add_errors(form, exc)
                else:
                    if not request.headers.get("HX-Request"):
                        return redirect("analytics:estimates")
                    form = EstimateForm()
        if form.errors and not request.headers.get("HX-Request"):
            status = 400  # htmx swaps only a 2xx answer: the form with its errors
    context = _estimates_context(request, form)
    template = (
        "analytics/_estimates.html"
        if request.headers.get("HX-Request")
        else "analytics/estimates.html"
    )
    return render(request, template, context, status=status)


@login_required
def estimate_history(request, estimate_id: int):
    """The recorded versions of one estimate (newest first): who changed what, when."""
    estimate = perms.access_estimate(request.user, estimate_id)
    versions = estimate.history.select_related("history_user").order_by("-history_date")[:50]
    return render(
        request, "analytics/_estimate_history.html", {"estimate": estimate, "versions": versions}
    )
