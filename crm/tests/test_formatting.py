"""Dates and money per locale (issue 13 item 3): the ``formatting`` filters in English and
Simplified Chinese, and no template with a hard-coded date format or a raw amount."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from crm.templatetags.formatting import amount, format_money, grouped, money, when

D = Decimal
TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.fixture(params=["en", "zh-hans"])
def language(request):
    with translation.override(request.param):
        yield request.param


# --- money --------------------------------------------------------------------------------

MONEY = [
    # value, currency, English, Simplified Chinese
    (D("5000000.00"), "CNY", "CNY 5,000,000.00", "5,000,000.00 元"),
    (D("5000000"), "CNY", "CNY 5,000,000.00", "5,000,000.00 元"),
    (D("1234.5"), "USD", "USD 1,234.50", "1,234.50 美元"),
    (D("999.99"), "EUR", "EUR 999.99", "999.99 欧元"),
    (D("1000000.00"), "HKD", "HKD 1,000,000.00", "1,000,000.00 港元"),
    (D("1234567.50"), "JPY", "JPY 1,234,568", "1,234,568 日元"),  # no minor unit, rounded
    (D("-2500.00"), "CNY", "CNY -2,500.00", "-2,500.00 元"),
    (D("0"), "CNY", "CNY 0.00", "0.00 元"),
    (12345, "usd", "USD 12,345.00", "12,345.00 美元"),  # codes are upper-cased
    (D("10.005"), "CNY", "CNY 10.01", "10.01 元"),  # half up, never truncated
    (D("100"), "XAU", "XAU 100.00", "100.00 XAU"),  # an unknown code is shown as the code
    (D("100"), None, "CNY 100.00", "100.00 元"),  # no currency: the company's (CNY)
]


@pytest.mark.parametrize(("value", "currency", "english", "chinese"), MONEY)
def test_money_in_both_languages(value, currency, english, chinese):
    with translation.override("en"):
        assert money(value, currency) == english
    with translation.override("zh-hans"):
        assert money(value, currency) == chinese


def test_money_without_a_value_is_empty_so_default_applies(language):
    assert money(None, "CNY") == ""
    assert money("", "CNY") == ""
    assert money("n/a", "CNY") == "n/a"  # not a number: shown as it is, never an error
    rendered = Template('{% load formatting %}{{ v|money:"CNY"|default:"—" }}').render(
        Context({"v": None})
    )
    assert rendered == "—"


def test_money_default_currency_is_cny():
    with translation.override("en"):
        assert Template("{% load formatting %}{{ v|money }}").render(Context({"v": D("5")})) == (
            "CNY 5.00"
        )


# --- amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (D("1234567.80"), None, "1,234,567.80"),
        (D("1234567.891"), None, "1,234,567.891"),
        (D("1234567.891"), 2, "1,234,567.89"),
        (1234567, None, "1,234,567"),
        (1234567, 2, "1,234,567.00"),
        (D("999"), 0, "999"),
        (D("-1000"), "2", "-1,000.00"),
        (12.5, 1, "12.5"),
        ("7000", 2, "7,000.00"),
    ],
)
def test_amount_groups_in_both_languages(language, value, places, expected):
    assert amount(value, places) == expected


def test_amount_of_nothing_is_empty(language):
    assert amount(None) == ""
    assert amount("") == ""
    assert grouped("C0001234") == "C0001234"  # codes are not numbers


def test_chinese_groups_by_thousands_with_commas():
    """Django's zh_Hans locale has no thousands separator; amounts still get one."""
    with translation.override("zh-hans"):
        from django.utils import formats

        assert formats.get_format("THOUSAND_SEPARATOR") == ""
        assert amount(D("12345678.00")) == "12,345,678.00"
        assert format_money(D("12345678.00"), "CNY") == "12,345,678.00 元"


def test_thousand_separator_stays_off_globally():
    """Ids in URLs, form values and data attributes must never get separators."""
    assert settings.USE_THOUSAND_SEPARATOR is False
    with translation.override("en"):
        assert Template("{{ pk }}").render(Context({"pk": 1234567})) == "1234567"


# --- dates --------------------------------------------------------------------------------


def test_named_date_formats_are_localized():
    day = datetime.date(2026, 11, 29)
    moment = datetime.datetime(2026, 11, 29, 12, 5, tzinfo=datetime.UTC)  # 20:05 in Shanghai
    template = Template(
        '{{ day|date:"SHORT_DATE_FORMAT" }}|{{ moment|date:"SHORT_DATETIME_FORMAT" }}|'
        '{{ day|date:"DATE_FORMAT" }}|{{ day|date:"YEAR_MONTH_FORMAT" }}'
    )
    with translation.override("en"):
        assert template.render(Context({"day": day, "moment": moment})) == (
            "11/29/2026|11/29/2026 8:05 p.m.|Nov. 29, 2026|November 2026"
        )
    with translation.override("zh-hans"):
        assert template.render(Context({"day": day, "moment": moment})) == (
            "2026年11月29日|2026年11月29日 20:05|2026年11月29日|2026年11月"
        )


def test_when_wraps_the_localized_date_in_a_machine_readable_time():
    day = datetime.date(2026, 11, 29)
    moment = datetime.datetime(2026, 11, 29, 12, 5, tzinfo=datetime.UTC)
    with translation.override("en"):
        assert when(day) == '<time datetime="2026-11-29">11/29/2026</time>'
        assert when(moment) == (
            '<time datetime="2026-11-29T20:05:00+08:00">11/29/2026 8:05 p.m.</time>'
        )
        assert when(day, "DATE_FORMAT") == '<time datetime="2026-11-29">Nov. 29, 2026</time>'
    with translation.override("zh-hans"):
        assert when(day) == '<time datetime="2026-11-29">2026年11月29日</time>'
        assert when(moment) == (
            '<time datetime="2026-11-29T20:05:00+08:00">2026年11月29日 20:05</time>'
        )
        rendered = Template("{% load formatting %}{{ d|when }}").render(Context({"d": day}))
        assert rendered == '<time datetime="2026-11-29">2026年11月29日</time>'  # not escaped
    assert when(None) == "" and when("") == ""


def test_when_reads_an_iso_string_as_a_revealed_value_carries_it():
    with translation.override("zh-hans"):
        assert when("2026-11-29T12:05:00+00:00", "SHORT_DATE_FORMAT") == (
            '<time datetime="2026-11-29T20:05:00+08:00">2026年11月29日</time>'
        )
        assert when("2026-11-29") == '<time datetime="2026-11-29">2026年11月29日</time>'
    assert when("not a date") == "not a date"
    assert when("2026-13-45") == "2026-13-45"


# --- no hard-coded formats in templates ---------------------------------------------------

# Django's localized formats (``django.utils.formats``); ``c`` is ISO 8601 for machines.
NAMED_FORMATS = {
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
    "TIME_FORMAT",
    "c",
}
# Where a fixed format is required because a machine reads the value, not a person:
MACHINE_READABLE = re.compile(
    r"(?:"
    # <input type="date" value="…">: browsers accept only ISO dates (Y-m-d) in value;
    # <time datetime="…">, data-* attributes (data-testid="cal-day-…" too) and ids are
    # read by browsers, scripts and tests.
    r"\b(?:value|datetime|id|data-[\w-]+)=[\"'][^\"'<>{}]*"
    # a query string (href="?start=…&amp;end=…"): the views parse ISO dates.
    r"|[?&;}][\w-]+="
    r")$"
)
DATE_FILTER = re.compile(r"\|date:([\"'])(.*?)\1")
# "{{ x.amount }} {{ x.currency }}": a raw Decimal beside its currency.
RAW_MONEY = re.compile(r"\{\{\s*[\w.]+\s*\}\}\s*\{\{\s*[\w.]*currency\s*\}\}")


def _templates():
    return sorted(TEMPLATES.rglob("*.html"))


def _hard_coded_dates(text: str) -> list[tuple[int, str]]:
    found = []
    for match in DATE_FILTER.finditer(text):
        # A named format, or one part of a date whose name Django translates ("l": the
        # weekday, "F": the month) or a bare number ("j"): no order of parts is imposed.
        if match.group(2) in NAMED_FORMATS or len(match.group(2)) == 1:
            continue
        opening = max(text.rfind("{{", 0, match.start()), text.rfind("{%", 0, match.start()))
        if text[opening : opening + 2] == "{{" and MACHINE_READABLE.search(
            text[max(0, opening - 60) : opening]
        ):
            continue
        found.append((text.count("\n", 0, match.start()) + 1, match.group(0)))
    return found


def test_the_checker_tells_display_from_machine_readable():
    assert _hard_coded_dates('<td>{{ x|date:"Y-m-d" }}</td>') == [(1, '|date:"Y-m-d"')]
    assert _hard_coded_dates('{% blocktranslate with d=x|date:"Y-m-d H:i" %}') != []
    assert _hard_coded_dates("<h1>{{ run.period|date:'Y-m' }}</h1>") != []
    assert _hard_coded_dates('<input type="date" value="{{ x|date:\'Y-m-d\' }}">') == []
    assert _hard_coded_dates("<a href=\"?start={{ x|date:'Y-m-d' }}&amp;end=\">") == []
    assert _hard_coded_dates("<time datetime=\"{{ x|date:'c' }}\">") == []
    assert _hard_coded_dates('{{ x|date:"SHORT_DATE_FORMAT" }}') == []
    assert _hard_coded_dates('{{ x|date:"l" }}, {{ x|date:"MONTH_DAY_FORMAT" }}') == []
    assert _hard_coded_dates("<li data-testid=\"day-{{ x|date:'Y-m-d' }}\">") == []
    assert _hard_coded_dates('<b title="{{ x|date:"d/m/Y" }}">') != []


def test_no_template_hard_codes_a_date_format():
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{line}: {snippet}"
        for path in _templates()
        for line, snippet in _hard_coded_dates(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], (
        'Use a named format (|date:"SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT", …) or '
        "{{ value|when }} for dates shown to people:\n" + "\n".join(offenders)
    )


def test_no_template_shows_a_raw_amount_beside_its_currency():
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in _templates()
        for match in RAW_MONEY.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "Use {{ amount|money:currency }}:\n" + "\n".join(offenders)


def test_report_cells_are_formatted_by_their_type():
    from crm.templatetags.formatting import report_cell

    with translation.override("zh-hans"):
        assert report_cell(Decimal("1234567.8")) == "1,234,567.8"
        assert report_cell(12000) == "12,000"
        assert report_cell(datetime.date(2026, 11, 29)) == (
            '<time datetime="2026-11-29">2026年11月29日</time>'
        )
    assert report_cell("PO-1000") == "PO-1000"
    assert report_cell(None) is None and report_cell(True) is True
