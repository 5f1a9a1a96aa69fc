"""Template helpers: amounts, money and dates in the user's language (``{% load formatting %}``).

* ``{{ value|amount }}`` — a number grouped by thousands in the active language:
  ``5,000,000.00``; ``{{ value|amount:0 }}`` fixes the decimal places.
* ``{{ value|money:currency }}`` — an amount with its ISO 4217 currency, one convention per
  language: English ``CNY 5,000,000.00`` (code first), Simplified Chinese
  ``5,000,000.00 元`` (amount first, then the currency's Chinese name: 元, 美元, 欧元, 港元,
  日元; an unknown code is written as the code). Yen have no minor unit: ``JPY 1,200``.
* ``{{ value|report_cell }}`` — a report cell by its type: numbers grouped, dates localized.
* ``{{ value|when }}`` — ``<time datetime="ISO">localized</time>``: a date in
  ``SHORT_DATE_FORMAT``, a datetime (in the current time zone) in
  ``SHORT_DATETIME_FORMAT``; ``{{ value|when:"DATE_FORMAT" }}`` picks another named format.

Dates otherwise use Django's named formats (``|date:"SHORT_DATE_FORMAT"`` …), which give
``11/29/2026`` in English and ``2026年11月29日`` in Chinese. ``USE_THOUSAND_SEPARATOR`` stays
off: ids in URLs, form values and data attributes must stay plain, so only these filters
group digits. Django's ``zh_Hans`` locale defines no thousands separator (it groups by 4
with an empty separator); Chinese business and bank documents write amounts grouped by
thousands with commas, so a locale without a separator gets ``,`` every 3 digits here.
Empty values (``None``, ``""``) give ``""`` so ``|default:"—"`` still applies.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import formats, numberformat, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html
from django.utils.translation import get_language, pgettext

register = template.Library()

DEFAULT_CURRENCY = "CNY"
# Currencies without a minor unit (ISO 4217 exponent 0).
NO_MINOR_UNIT = frozenset({"JPY", "KRW"})
# How Simplified Chinese names a currency after the amount ("5,000,000.00 元"): locale data,
# like Django's own format modules, not a message to translate.
CHINESE_CURRENCY_NAMES = {
    "CNY": "元",
    "USD": "美元",
    "EUR": "欧元",
    "HKD": "港元",
    "JPY": "日元",
    "GBP": "英镑",
    "TWD": "新台币",
    "MOP": "澳门元",
    "KRW": "韩元",
    "SGD": "新加坡元",
}


def _number(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def grouped(value, decimal_pos: int | None = None) -> str:
    """``value`` grouped by thousands with the active language's separators."""
    number = _number(value)
    if number is None:
        return "" if value is None else str(value)
    decimal_sep = formats.get_format("DECIMAL_SEPARATOR")
    thousand_sep = formats.get_format("THOUSAND_SEPARATOR")
    grouping = formats.get_format("NUMBER_GROUPING")
    if not thousand_sep or not grouping:  # e.g. Django's zh_Hans: see the module's docstring
        thousand_sep, grouping = ",", 3
    if decimal_pos is not None and number.is_finite():  # round half up, never truncate
        number = number.quantize(Decimal(1).scaleb(-decimal_pos), rounding=ROUND_HALF_UP)
    return numberformat.format(
        number,
        decimal_sep,
        decimal_pos=decimal_pos,
        grouping=grouping,
        thousand_sep=thousand_sep,
        force_grouping=True,
    )


def labelled(label, text) -> str:
    """``Owner: 孙军`` / ``负责人：孙军``: a label, the language's colon, a text (the same
    colon as the ``{% colon %}`` tag)."""
    colon = pgettext("colon after a label", ": ")
    return f"{label}{colon}{text}"


def format_money(value, currency: str | None = DEFAULT_CURRENCY) -> str:
    """``value`` with its currency in the active language's convention (module docstring)."""
    number = _number(value)
    if number is None:
        return "" if value is None else str(value)
    code = (currency or DEFAULT_CURRENCY).strip().upper()
    text = grouped(number, 0 if code in NO_MINOR_UNIT else 2)
    if (get_language() or "").lower().startswith("zh"):
        return f"{text} {CHINESE_CURRENCY_NAMES.get(code, code)}"
    return f"{code} {text}"


@register.filter
def amount(value, decimal_pos=None) -> str:
    """``{{ sales|amount }}``: ``1,234,567.80``; ``{{ sales|amount:0 }}``: ``1,234,568``."""
    try:
        places = None if decimal_pos in (None, "") else int(decimal_pos)
    except (TypeError, ValueError):
        places = None
    return grouped(value, places)


@register.filter
def money(value, currency=DEFAULT_CURRENCY) -> str:
    """``{{ limit.amount|money:limit.currency }}``: ``CNY 5,000,000.00`` / ``5,000,000.00 元``."""
    return format_money(value, currency)


@register.filter
def when(value, format_name: str = "") -> str:
    """``{{ moment|when }}``: ``<time datetime="ISO">`` around the localized date or time."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):  # an ISO string (a revealed value travels as JSON)
        parse = parse_date if len(value) == len("2026-11-29") else parse_datetime
        try:
            value = parse(value) or value
        except ValueError:  # well formed, yet no such day
            return value
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        iso = value.isoformat(timespec="seconds")
        shown = formats.date_format(value, format_name or "SHORT_DATETIME_FORMAT")
    elif isinstance(value, datetime.date):
        iso = value.isoformat()
        shown = formats.date_format(value, format_name or "SHORT_DATE_FORMAT")
    else:
        return str(value)
    return format_html('<time datetime="{}">{}</time>', iso, shown)


@register.filter
def report_cell(value):
    """A report cell by its type: a number grouped (its own decimal places kept), a date in
    the language's short format, anything else as it is."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Decimal, float)):
        return grouped(value)
    if isinstance(value, datetime.date):  # a datetime too: shown as its local date and time
        return when(value)
    return value
