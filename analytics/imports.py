"""Sales lines and stock snapshots as import targets of ``crm.imports`` (CSV/XLSX).

The framework reads the file, maps the columns (Chinese headers too), runs the job (dry run,
all-or-nothing or valid rows only, capped line/column errors, progress). The checkers here
reuse the batch checks of ``analytics.services`` and write each batch of valid rows with one
``bulk_create`` from ``prepare()`` — inside a transaction of its own, no ``full_clean`` —
while ``write()`` only reports the rows ``prepare`` refused. A line already stored (its
``line_key``: the reference, or its content and occurrence in the file) is reported as a
duplicate, so importing a file again writes nothing twice.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy, gettext_noop

from analytics import events, services
from analytics.models import SalesLine, StockSnapshot
from crm import imports
from crm.imports.checks import Checker, Row
from crm.imports.columns import Column

ALREADY_IMPORTED = gettext_noop("This line is already stored (imported before).")
SNAPSHOT_STORED = gettext_noop("This snapshot is already stored.")

SALES_COLUMNS = (
    Column("customer", ("customer_code", "客户编码", "客户代码", "客户"), required=True),
    Column("product", ("product_code", "产品编码", "产品代码", "产品"), required=True),
    Column("date", ("日期", "销售日期"), required=True),
    Column("quantity", ("数量",), required=True),
    Column("amount", ("金额", "销售额"), required=True),
    Column("cost", ("成本",), required=True),
    Column("reference", ("单据号", "参考号")),
)
STOCK_COLUMNS = (
    Column("customer", ("customer_code", "客户编码", "客户代码", "客户"), required=True),
    Column("product", ("product_code", "产品编码", "产品代码", "产品"), required=True),
    Column("month", ("月份",), required=True),
    Column("opening_quantity", ("期初数量",), required=True),
    Column("closing_quantity", ("期末数量",), required=True),
    Column("opening_value", ("期初金额",), required=True),
    Column("closing_value", ("期末金额",), required=True),
)


def _row(line: int, errors: dict | None) -> Row:
    row = Row(line)
    for column, messages in (errors or {}).items():
        for message in messages:
            row.errors.append({"line": line, "column": column, "message": message})
    return row


class _BatchChecker(Checker):
    """Cells are checked a batch at a time (``check_database``), the way the API checks a
    POST; ``check`` only keeps the cells."""

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        row = Row(line)
        row.values = dict(cells)
        return row

    def _apply(self, rows: list[Row], batch) -> None:
        for index, row in enumerate(rows):
            for column, messages in batch.errors.get(index, {}).items():
                for message in messages:
                    row.errors.append({"line": row.line, "column": column, "message": message})

    def write(self, row: Row) -> None:
        problem = self.refused.get(row.line)
        if problem:
            raise ValidationError({problem[0]: [problem[1]]})


class SalesLineChecker(_BatchChecker):
    def __init__(self, actor):
        super().__init__(actor)
        self.occurrences: dict[tuple, int] = {}  # identical lines of the file, first pass
        self.keys: dict[int, str] = {}  # line → key, for the writing pass
        self.refused: dict[int, tuple[str, str]] = {}

    def check_database(self, rows: list[Row]) -> None:
        items = [row.values for row in rows]
        batch = services.sales_lines_check(actor=self.actor, lines=items)
        self._apply(rows, batch)
        # Occurrences count over the whole file, not the batch.
        for checked in batch.rows:
            row = rows[checked["index"]]
            content = tuple(
                checked[n]
                for n in ("customer_id", "product_id", "date", "quantity", "amount", "cost")
            )
            occurrence = self.occurrences[content] = self.occurrences.get(content, 0) + 1
            key = services.line_key(
                customer_id=checked["customer_id"],
                product_id=checked["product_id"],
                date=checked["date"],
                quantity=checked["quantity"],
                amount=checked["amount"],
                cost=checked["cost"],
                reference=checked["reference"],
                occurrence=occurrence,
            )
            if checked["reference"]:
                self.remember(row, ("reference", checked["reference"]), "reference")
            self.keys[row.line] = key
        stored = services.existing_keys([self.keys[r.line] for r in rows if r.line in self.keys])
        for row in rows:
            if self.keys.get(row.line) in stored:
                row.add("", ALREADY_IMPORTED)

    def prepare(self, rows: list[Row]) -> None:
        batch = services.sales_lines_check(actor=self.actor, lines=[r.values for r in rows])
        ready = []
        for checked in batch.rows:
            row = rows[checked["index"]]
            ready.append(checked | {"line_key": self.keys[row.line]})
        for index, errors in batch.errors.items():  # changed since the check
            column, messages = next(iter(errors.items()))
            self.refused[rows[index].line] = (column, messages[0])
        with transaction.atomic():
            services.sales_lines_write(actor=self.actor, rows=ready)


class StockChecker(_BatchChecker):
    def __init__(self, actor):
        super().__init__(actor)
        self.refused: dict[int, tuple[str, str]] = {}
        self.seen_keys: dict[tuple, int] = {}

    def check_database(self, rows: list[Row]) -> None:
        batch = services.stock_snapshots_check(actor=self.actor, snapshots=[r.values for r in rows])
        self._apply(rows, batch)
        stored = services._stored_snapshots(batch.rows) if batch.rows else {}
        for checked in batch.rows:
            row = rows[checked["index"]]
            key = (checked["customer_id"], checked["product_id"], checked["month"])
            self.remember(row, key, "month")
            if key in stored:
                row.add("month", SNAPSHOT_STORED)

    def prepare(self, rows: list[Row]) -> None:
        batch = services.stock_snapshots_check(actor=self.actor, snapshots=[r.values for r in rows])
        for index, errors in batch.errors.items():
            column, messages = next(iter(errors.items()))
            self.refused[rows[index].line] = (column, messages[0])
        stored = services._stored_snapshots(batch.rows) if batch.rows else {}
        new = []
        for checked in batch.rows:
            key = (checked["customer_id"], checked["product_id"], checked["month"])
            if key in stored:
                self.refused[rows[checked["index"]].line] = ("month", SNAPSHOT_STORED)
                continue
            new.append(
                StockSnapshot(
                    created_by=self.actor,
                    **{k: v for k, v in checked.items() if k != "index"},
                )
            )
        with transaction.atomic():
            StockSnapshot.objects.bulk_create(new, batch_size=services.WRITE_CHUNK)


def register_import_targets() -> None:
    """Sales lines and stock snapshots as import targets (``AnalyticsConfig.ready``)."""
    imports.register(
        imports.ImportTarget(
            key="sales_lines",
            label=gettext_lazy("Sales lines"),
            permission="analytics.add_salesline",
            columns=SALES_COLUMNS,
            checker=SalesLineChecker,
            audit_action=events.DATA_IMPORTED,
            order=50,
        )
    )
    imports.register(
        imports.ImportTarget(
            key="stock_snapshots",
            label=gettext_lazy("Stock snapshots"),
            permission="analytics.add_stocksnapshot",
            columns=STOCK_COLUMNS,
            checker=StockChecker,
            audit_action=events.DATA_IMPORTED,
            order=51,
        )
    )


__all__ = ["SALES_COLUMNS", "STOCK_COLUMNS", "SalesLine", "register_import_targets"]
