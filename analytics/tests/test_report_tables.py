"""The report tables on the page group figures by thousands and leave codes and names alone."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from analytics import exports


def _cells(html: str) -> list[str]:
    import re

    return re.findall(r"<td[^>]*>(.*?)</td>", html)


def test_figures_are_grouped_and_codes_are_not():
    result = [
        {
            "code": "100234",
            "name": "茶叶礼盒",
            "sales": "1234567.80",
            "cost": "1000000.00",
            "gross_profit": "234567.80",
            "margin": "19.00",
            "average_stock": "-1500.5",
            "turnover": None,
            "cross_ratio": "3.10",
            "share": "12.50",
            "cumulative_share": "40.00",
            "contribution_ratio": "0.80",
        }
    ]
    header, rows = exports.table("products", result)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            html = render_to_string(
                "analytics/_table.html",
                {"header": header, "rows": rows, "text_columns": exports.TEXT_COLUMNS["products"]},
            )
        cells = _cells(html)
        assert cells[:4] == ["100234", "茶叶礼盒", "1,234,567.80", "1,000,000.00"]
        assert cells[6] == "-1,500.5" and cells[7] == "—"


def test_the_files_keep_plain_numbers():
    header, rows = exports.table("composition", [
        {"business_type": "retail", "name": "零售", "sales": "1234567.80", "share": "50.00"}
    ])  # fmt: skip
    assert b"1234567.80" in exports.render("composition", [
        {"business_type": "retail", "name": "零售", "sales": "1234567.80", "share": "50.00"}
    ], "csv")  # fmt: skip
    assert rows[0][2] == "1234567.80"


def test_every_report_kind_declares_its_text_columns():
    assert set(exports.TEXT_COLUMNS) == set(exports.KINDS)
