"""Stored monthly report runs (services): start, execute, retry; the workbook.

On the first of each month a Celery beat job (``analytics.monthly_report_run``) and the
command ``manage.py analytics_monthly_run`` start the run of the previous month: the
standard set — composition of the month and of the year to date, ABC, share and product mix
of the year to date, the company's seasonal index over the three years before — computed
for the whole company, stored as JSON with the timings of each report and an XLSX workbook
(one sheet per report, with a chart). A run is unique per month: starting a month that is
done returns the stored run; a failed run keeps its error and can be retried.
"""

from __future__ import annotations

import datetime
import io
import logging
import time
import traceback
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analytics import events, reports
from analytics import permissions as perms
from analytics.models import ReportRun
from audit.services import record_event
from crm.permissions import require_perm
from crm.queueing import enqueue_on_commit

logger = logging.getLogger(__name__)

EXECUTE_TASK = "analytics.report_run_execute"
# A run "running" without progress for this long lost its worker: starting it again
# retries it, as a failed one (progress is written after each report, every few seconds).
STALLED_AFTER = datetime.timedelta(hours=1)
STANDARD_SET = (
    ("composition_month", gettext_noop("Composition by business type (month)")),
    ("composition_ytd", gettext_noop("Composition by business type (year to date)")),
    ("abc_ytd", gettext_noop("ABC classes (year to date)")),
    ("share_ytd", gettext_noop("Share of sales and of wallet (year to date)")),
    ("products_ytd", gettext_noop("Product mix (year to date)")),
    ("seasonal", gettext_noop("Seasonal index (company)")),
)


def previous_month(today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


@transaction.atomic
def report_run_start(*, actor, period: datetime.date) -> ReportRun:
    """Start (or return) the run of ``period``'s month; ``actor=None`` is the scheduler.

    Idempotent per month: a run pending, running or done is returned as it is; a failed one
    is retried, and so is one left running without progress for ``STALLED_AFTER`` (its
    worker died). Needs ``analytics.run_reportrun``.
    """
    require_perm(actor, perms.RUN_REPORTS, _("You are not allowed to start report runs."))
    period = period.replace(day=1)
    run, created = ReportRun.objects.select_for_update().get_or_create(
        period=period, defaults={"requested_by": actor}
    )
    stalled = (
        run.status == ReportRun.Status.RUNNING and run.updated_at < timezone.now() - STALLED_AFTER
    )
    if not created and run.status != ReportRun.Status.FAILED and not stalled:
        return run
    run.status = ReportRun.Status.PENDING
    run.progress = 0
    run.error = ""
    run.requested_by = actor
    run.parameters = {
        "month": f"{period:%Y-%m}",
        "date_from": f"{period.replace(month=1):%Y-%m-%d}",
        "date_to": f"{month_end(period):%Y-%m-%d}",
        "years": [period.year - 3, period.year - 2, period.year - 1],
    }
    run._history_user = actor
    run.save()
    record_event(
        action=events.REPORT_RUN_STARTED,
        actor=actor,
        obj=run,
        data={"month": run.parameters["month"], "retry": not created},
    )
    enqueue_on_commit(EXECUTE_TASK, run.pk)
    return run


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _progress(run: ReportRun, percent: int) -> None:
    ReportRun.objects.filter(pk=run.pk).update(progress=percent, updated_at=timezone.now())


def compute_standard_set(period: datetime.date, *, on_progress=None) -> tuple[dict, dict]:
    """The results and timings (ms) of the standard set for ``period``'s month."""
    end = month_end(period)
    month = reports.Scope(user=None, date_from=period, date_to=end)
    ytd = reports.Scope(user=None, date_from=period.replace(month=1), date_to=end)
    years = [period.year - 3, period.year - 2, period.year - 1]
    jobs = {
        "composition_month": lambda: reports.composition(month),
        "composition_ytd": lambda: reports.composition(ytd),
        "abc_ytd": lambda: reports.abc(ytd),
        "share_ytd": lambda: reports.share(ytd),
        "products_ytd": lambda: reports.products(ytd),
        "seasonal": lambda: reports.seasonal(ytd, years=years),
    }
    results, timings = {}, {}
    for done, (key, job) in enumerate(jobs.items(), start=1):
        started = time.perf_counter()
        results[key] = _jsonable(job())
        timings[key] = round((time.perf_counter() - started) * 1000)
        if on_progress:
            on_progress(int(done * 90 / len(jobs)))
    return results, timings


def report_run_execute(*, run_id: int) -> str:
    """Compute and store a run (the Celery task body); returns its status."""
    run = ReportRun.objects.filter(pk=run_id).first()
    if run is None:
        return "missing"
    if run.status in (ReportRun.Status.DONE, ReportRun.Status.RUNNING):
        return run.status
    run.status, run.started_at, run.attempts = (
        ReportRun.Status.RUNNING,
        timezone.now(),
        run.attempts + 1,
    )
    run._history_user = run.requested_by
    run.save(update_fields=["status", "started_at", "attempts", "updated_at"])
    started = time.perf_counter()
    try:
        results, timings = compute_standard_set(run.period, on_progress=lambda p: _progress(run, p))
        workbook = build_workbook(run.period, results)
    except Exception as exc:  # the run is marked failed, never left running
        logger.error(
            "report run %s failed: %s\n%s",
            run.pk,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        run.status, run.error = ReportRun.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "updated_at"])
        record_event(
            action=events.REPORT_RUN_FINISHED,
            actor=run.requested_by,
            obj=run,
            data={"status": run.status},
        )
        return run.status
    timings["total"] = round((time.perf_counter() - started) * 1000)
    with transaction.atomic():
        run.status, run.progress = ReportRun.Status.DONE, 100
        run.results, run.timings, run.workbook = results, timings, workbook
        run.finished_at = timezone.now()
        run.error = ""
        run.save()
        record_event(
            action=events.REPORT_RUN_FINISHED,
            actor=run.requested_by,
            obj=run,
            data={"status": run.status, "ms": timings["total"]},
        )
    return run.status


def report_run_monthly() -> int:
    """The beat job: start the previous month's run (a no-op once it is done)."""
    return report_run_start(actor=None, period=previous_month()).pk


def report_run_download(*, user, run: ReportRun) -> bytes:
    record_event(
        action=events.REPORT_RUN_DOWNLOADED,
        actor=user,
        obj=run,
        data={"month": f"{run.period:%Y-%m}"},
    )
    return bytes(run.workbook)


# --- the workbook -------------------------------------------------------------------------


def _sheet_rows(key: str, result) -> tuple[list[str], list[list]]:
    from analytics import exports

    return exports.table(key.split("_")[0], result)


def build_workbook(period: datetime.date, results: dict) -> bytes:
    """One sheet per report (numbers as numbers), with a chart where openpyxl draws one."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, PieChart, Reference

    workbook = Workbook()
    workbook.remove(workbook.active)
    for key, title in STANDARD_SET:
        header, rows = _sheet_rows(key, results[key])
        sheet = workbook.create_sheet(_(title)[:31].replace("/", "-"))
        sheet.append(header)
        for row in rows:
            sheet.append([_number(value) for value in row])
        if not rows:
            continue
        last = len(rows) + 1
        if key.startswith("composition"):
            chart = PieChart()
            chart.add_data(
                Reference(sheet, min_col=3, min_row=1, max_row=last), titles_from_data=True
            )
            chart.set_categories(Reference(sheet, min_col=2, min_row=2, max_row=last))
        elif key == "seasonal":
            chart = LineChart()
            chart.add_data(
                Reference(sheet, min_col=len(header) - 1, min_row=1, max_row=last),
                titles_from_data=True,
            )
            chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last))
        else:
            value_column = 2 if key.startswith("share") else 3
            chart = BarChart()
            chart.add_data(
                Reference(sheet, min_col=value_column, min_row=1, max_row=last),
                titles_from_data=True,
            )
            chart.set_categories(
                Reference(sheet, min_col=value_column - 1, min_row=2, max_row=last)
            )
        chart.title = _(title)
        sheet.add_chart(chart, f"{chr(ord('A') + len(header) + 1)}2")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _number(value):
    """Decimal strings as numbers; any other text neutralised (never run as a formula)."""
    from crm.exports.writers import neutralise

    if isinstance(value, str):
        if value and value.lstrip("-").replace(".", "", 1).isdigit():
            return Decimal(value)
        return neutralise(value)
    return value
