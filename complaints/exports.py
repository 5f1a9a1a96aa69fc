"""The service report as a file: CSV (one sheet after another) or XLSX (one sheet per table,
numbers as numbers, every text typed as text so that no spreadsheet runs it as a formula).

Both are built from the same tables (``report_tables``), so they always agree with each
other and with the page.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils.translation import gettext as _

from crm.exports.writers import neutralise

MEASURES = (
    "total",
    "first_response_compliance",
    "resolution_compliance",
    "first_response_median",
    "first_response_p90",
    "resolution_median",
    "resolution_p90",
    "csat_average",
    "repeat_rate",
)
SURVEY_MEASURES = ("invited", "answered", "response_rate", "csat_average")


def _day(value):
    return value.date().isoformat() if value else ""


def report_tables(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """``[(sheet title, header, rows)]`` of a ``selectors.service_report``."""
    measures = [[key, report[key]] for key in MEASURES]
    measures += [[f"csat_{score}", n] for score, n in report["csat_distribution"].items()]
    surveys = report["surveys"]
    measures += [[f"survey_{key}", surveys[key]] for key in SURVEY_MEASURES]
    measures += [[f"survey_csat_{score}", n] for score, n in surveys["csat_distribution"].items()]
    return [
        ("measures", ["measure", "value"], measures),
        (
            "by_category",
            ["period", "category", "count"],
            [[_day(r["period"]), r["category__code"], r["count"]] for r in report["by_category"]],
        ),
        (
            "by_channel",
            ["period", "channel", "count"],
            [[_day(r["period"]), r["channel"], r["count"]] for r in report["by_channel"]],
        ),
        (
            "root_causes",
            ["root_cause", "count"],
            [[r["root_cause__code"], r["count"]] for r in report["top_root_causes"]],
        ),
    ]


def report_csv(report: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for index, (_title, header, rows) in enumerate(report_tables(report)):
        if index:
            writer.writerow([])
        writer.writerow(header)
        for row in rows:
            writer.writerow([neutralise("" if v is None else v) for v in row])
    return out.getvalue().encode("utf-8")


def report_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    titles = {
        "measures": _("Measures"),
        "by_category": _("By category"),
        "by_channel": _("By channel"),
        "root_causes": _("Root causes"),
    }
    for title, header, rows in report_tables(report):
        sheet = workbook.create_sheet(str(titles[title])[:31])

        def cell(value, sheet=sheet):
            if isinstance(value, Decimal):
                value = float(value)
            if isinstance(value, int | float):
                return WriteOnlyCell(sheet, value=value)
            text = WriteOnlyCell(sheet, value="" if value is None else str(value))
            text.data_type = "s"  # text, never a formula
            return text

        sheet.append([cell(v) for v in header])
        for row in rows:
            sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
