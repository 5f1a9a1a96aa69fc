"""Timing the analytics reports against the bare SQL aggregate each is built on.

Each scenario runs the report cold (a fresh connection, so no statement or plan is cached by
the session) and then the bare aggregate over the same sales lines, and returns both times
and their ratio (report ÷ bare). A ratio near 1 says the report adds little beyond the
aggregate it cannot avoid (the visibility subquery, the window functions, shaping the rows).

Scenarios (each ``fn(*, user=None, date_from=None, date_to=None) -> dict``):

* ``abc_company`` — ABC classes of every customer;
* ``composition_by_business_type`` — sales and share per business type;
* ``seasonal_company`` and ``seasonal_business_type`` — seasonal index over three years;
* ``product_mix`` — product composition with margin, turnover and ratios.

``run_all(*, user=None) -> dict[str, dict]`` runs them all. ``user`` is whose visibility the
report applies (``None``: the whole company, as the monthly run computes it; pass the
general manager for the pages' path).
"""

from __future__ import annotations

import datetime
import time

from django.db import connection
from django.db.models import Count

from bench.load_analytics import years


def _period(date_from, date_to) -> tuple[datetime.date, datetime.date]:
    first, _middle, last = years()
    return date_from or datetime.date(first, 1, 1), date_to or datetime.date(last, 12, 31)


def _cold(function):
    connection.close()  # a new session: nothing cached by the last one
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _bare(sql: str, params: list) -> float:
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    return _cold(run)[0]


def _measure(name: str, report, sql: str, params: list) -> dict:
    report_s, result = _cold(report)
    bare_s = _bare(sql, params)
    rows = len(result) if isinstance(result, list) else len(result.get("rows", result))
    return {
        "scenario": name,
        "report_s": round(report_s, 4),
        "bare_s": round(bare_s, 4),
        "ratio": round(report_s / bare_s, 2) if bare_s else None,
        "rows": rows,
    }


def _scope(user, date_from, date_to, **kwargs):
    from analytics.reports import Scope

    date_from, date_to = _period(date_from, date_to)
    return Scope(user=user, date_from=date_from, date_to=date_to, **kwargs)


def abc_company(*, user=None, date_from=None, date_to=None) -> dict:
    from analytics import reports

    scope = _scope(user, date_from, date_to)
    return _measure(
        "abc_company",
        lambda: reports.abc(scope),
        "SELECT customer_id, SUM(amount) FROM analytics_salesline "
        "WHERE date BETWEEN %s AND %s GROUP BY customer_id",
        [scope.date_from, scope.date_to],
    )


def composition_by_business_type(*, user=None, date_from=None, date_to=None) -> dict:
    from analytics import reports

    scope = _scope(user, date_from, date_to)
    return _measure(
        "composition_by_business_type",
        lambda: reports.composition(scope),
        "SELECT c.business_type_id, SUM(s.amount) FROM analytics_salesline s "
        "JOIN customers_customer c ON c.id = s.customer_id "
        "WHERE s.date BETWEEN %s AND %s GROUP BY c.business_type_id",
        [scope.date_from, scope.date_to],
    )


def _seasonal_sql(by_type: bool) -> str:
    join = " JOIN customers_customer c ON c.id = s.customer_id" if by_type else ""
    where = " AND c.business_type_id = %s" if by_type else ""
    if connection.vendor == "sqlite":  # the hermetic test
        year, month = "strftime('%%Y', s.date)", "strftime('%%m', s.date)"
    else:
        year, month = "EXTRACT(YEAR FROM s.date)", "EXTRACT(MONTH FROM s.date)"
    return (
        f"SELECT {year}, {month}, SUM(s.amount) "
        f"FROM analytics_salesline s{join} WHERE s.date BETWEEN %s AND %s{where} "
        "GROUP BY 1, 2"
    )


def seasonal_company(*, user=None, date_from=None, date_to=None) -> dict:
    from analytics import reports

    scope = _scope(user, date_from, date_to)
    return _measure(
        "seasonal_company",
        lambda: reports.seasonal(scope, years=list(years())),
        _seasonal_sql(False),
        [scope.date_from, scope.date_to],
    )


def seasonal_business_type(
    *, user=None, date_from=None, date_to=None, business_type: int | None = None
) -> dict:
    from analytics import reports
    from customers.models import Customer

    if business_type is None:  # the type of the most customers
        business_type = (
            Customer.objects.values("business_type_id")
            .order_by()
            .annotate(n=Count("id"))
            .order_by("-n")
            .values_list("business_type_id", flat=True)
            .first()
        )
    scope = _scope(user, date_from, date_to, business_type=business_type)
    return _measure(
        "seasonal_business_type",
        lambda: reports.seasonal(scope, years=list(years())),
        _seasonal_sql(True),
        [scope.date_from, scope.date_to, business_type],
    )


def product_mix(*, user=None, date_from=None, date_to=None) -> dict:
    from analytics import reports

    scope = _scope(user, date_from, date_to)
    return _measure(
        "product_mix",
        lambda: reports.products(scope),
        "SELECT product_id, SUM(amount), SUM(cost) FROM analytics_salesline "
        "WHERE date BETWEEN %s AND %s GROUP BY product_id",
        [scope.date_from, scope.date_to],
    )


SCENARIOS = (
    abc_company,
    composition_by_business_type,
    seasonal_company,
    seasonal_business_type,
    product_mix,
)


def run_all(*, user=None) -> dict[str, dict]:
    return {scenario.__name__: scenario(user=user) for scenario in SCENARIOS}
