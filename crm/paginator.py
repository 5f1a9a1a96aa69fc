"""A paginator whose count stays cheap on large sets (issue 8, item 5).

Up to ``EXACT_COUNT_LIMIT`` rows the count is exact, counted with a ``LIMIT`` so that it
never reads more than that many rows. Above it, on PostgreSQL, the count is the query
planner's estimate of the same query (``EXPLAIN``: table statistics, no row read), flagged
``count_is_estimate`` so that pages and the API can say "about N"; on other databases
(SQLite, development) it stays an exact ``COUNT(*)``.

An estimate may be off by a few per cent: the last page shown may then be short or empty,
and a page past the real end shows no rows (the list says so); paging never skips a row,
since each page is an ``OFFSET`` in the same order. Deep pages (``DEEP_PAGE_OFFSET``) read
their rows by id after finding the ids on narrow rows (a deferred join).
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_COUNT_LIMIT = 20_000
# From this offset on a page is fetched as a "deferred join": the page's ids are found by
# sorting narrow rows (id and the ordering columns), then only those rows are read whole.
DEEP_PAGE_OFFSET = 500


def planner_estimate(queryset) -> int | None:
    """The planner's row estimate for ``queryset`` (PostgreSQL), else ``None``."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """``count`` exact up to ``exact_limit`` rows, a planner estimate above it."""

    exact_limit = EXACT_COUNT_LIMIT

    def __init__(self, *args, exact_limit: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if exact_limit is not None:
            self.exact_limit = exact_limit
        self.count_is_estimate = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not hasattr(queryset, "query") or not hasattr(queryset, "db"):
            return len(queryset)
        capped = queryset.order_by()[: self.exact_limit + 1].count()
        if capped <= self.exact_limit:
            return capped
        estimate = planner_estimate(queryset)
        if estimate is None:
            return queryset.count()
        self.count_is_estimate = True
        # Never claim fewer rows than were just counted.
        return max(estimate, capped)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        queryset = self.object_list
        if (
            bottom >= DEEP_PAGE_OFFSET
            and hasattr(queryset, "query")
            and not queryset.query.distinct
            and not queryset.query.combinator
        ):
            ids = queryset.values("pk")[bottom:top]
            rows = queryset.filter(pk__in=ids)
        else:
            rows = queryset[bottom:top]
        return self._get_page(rows, number, self)
