"""Each report as a table (header and rows) for CSV/XLSX export and the run workbook.

The rows are the report's own (already aggregated in the database); the writers of
``crm.exports.writers`` produce the file (formula-safe CSV with a BOM, text-typed XLSX).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from crm.exports.writers import csv_chunks, xlsx_bytes

KINDS = ("composition", "abc", "share", "seasonal", "products")
MONTHS = [str(m) for m in range(1, 13)]


# The columns of each table that hold text (names, codes, classes, months); every other
# column is a figure, grouped by thousands on the page (never in the files, which keep the
# plain number for spreadsheets).
TEXT_COLUMNS: dict[str, frozenset[int]] = {
    "composition": frozenset({0, 1}),
    "abc": frozenset({1, 5}),
    "share": frozenset({0}),
    "seasonal": frozenset({0}),
    "products": frozenset({0, 1}),
}


def _s(value) -> str:
    return "" if value is None else str(value)


def table(kind: str, result) -> tuple[list[str], list[list]]:
    if kind == "composition":
        header = [_("Business type"), _("Name"), _("Sales"), _("Share (%)")]
        rows = [[r["business_type"], r["name"], _s(r["sales"]), _s(r["share"])] for r in result]
    elif kind == "abc":
        header = [
            _("Rank"), _("Customer code"), _("Sales"), _("Share (%)"),
            _("Cumulative share before (%)"), _("Class"),
        ]  # fmt: skip
        rows = [
            [r["rank"], r["code"], _s(r["sales"]), _s(r["share"]),
             _s(r["cumulative_share_before"]), r["abc_class"]]
            for r in result
        ]  # fmt: skip
    elif kind == "share":
        header = [
            _("Customer code"), _("Sales"), _("Share of company sales (%)"),
            _("Estimated purchases"), _("Share of wallet (%)"), _("Target share (%)"), _("Gap"),
        ]  # fmt: skip
        rows = [
            [r["code"], _s(r["sales"]), _s(r["share"]), _s(r["estimate"]),
             _s(r["share_of_wallet"]), _s(r["target_share"]), _s(r["gap"])]
            for r in result["rows"]
        ]  # fmt: skip
    elif kind == "seasonal":
        years = result["years"]
        header = [_("Month"), *[str(y) for y in years], _("Average"), _("Index (%)"), _("Target")]
        rows = []
        for m in range(12):
            rows.append(
                [
                    MONTHS[m],
                    *[_s(result["monthly_sales"][i][m]) for i in range(len(years))],
                    _s(result["average"][m]),
                    _s(result["index"][m]) if result["index"] else "",
                    _s(result["targets"][m]) if result.get("targets") else "",
                ]
            )
    elif kind == "products":
        header = [
            _("Product code"), _("Product"), _("Sales"), _("Cost"), _("Gross profit"),
            _("Margin (%)"), _("Average stock"), _("Turnover"), _("Cross ratio"), _("Share (%)"),
            _("Cumulative share (%)"), _("Contribution ratio"),
        ]  # fmt: skip
        rows = [
            [r["code"], r["name"], _s(r["sales"]), _s(r["cost"]), _s(r["gross_profit"]),
             _s(r["margin"]), _s(r["average_stock"]), _s(r["turnover"]), _s(r["cross_ratio"]),
             _s(r["share"]), _s(r["cumulative_share"]), _s(r["contribution_ratio"])]
            for r in result
        ]  # fmt: skip
    else:
        raise ValueError(kind)
    return header, rows


def render(kind: str, result, fmt: str) -> bytes:
    header, rows = table(kind, result)
    if fmt == "csv":
        return b"".join(csv_chunks(header, rows))
    return xlsx_bytes(header, rows, sheet_title=kind)
