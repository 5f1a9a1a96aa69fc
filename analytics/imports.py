"""Products, sales lines, stock snapshots and purchase estimates as import targets of
``crm.imports`` (CSV/XLSX).

The framework reads the file, maps the columns (Chinese headers too), runs the job (dry run,
all-or-nothing or valid rows only, capped line/column errors, progress). Sales lines, stock
snapshots and products take the framework's bulk path (``ImportTarget.batch_writer``): the
cells are checked a batch at a time with the API's batch checks, and each batch of valid
rows is written with ``bulk_create`` (products with their history records,
``crm.imports.bulk``) inside the one transaction the job opens for the batch — no per-row
savepoint or ``full_clean``. A batch that meets a database error (a row raced in since the
check) is rolled back and written again row by row through ``write``. Purchase estimates
are few and have history: each goes through ``purchase_estimate_save``.

Re-importing is idempotent: a sales line already stored (its ``line_key``: the reference,
or its content and occurrence in the file), a stored snapshot, a stored product code and an
estimate stored with the same values are reported as already stored, so nothing is written
twice.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy, gettext_noop

from analytics import events, services
from analytics import permissions as perms
from analytics.models import Product, PurchaseEstimate, SalesLine, StockSnapshot
from crm import imports
from crm.imports import bulk, checks
from crm.imports import messages as common
from crm.imports.checks import Checker, Row
from crm.imports.columns import Column

ALREADY_IMPORTED = gettext_noop("This line is already stored (imported before).")
SNAPSHOT_STORED = gettext_noop("This snapshot is already stored.")
PRODUCT_STORED = gettext_noop("A product with this code is already stored.")
ESTIMATE_STORED = gettext_noop("This estimate is already stored with the same values.")

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


PRODUCT_COLUMNS = (
    Column("code", ("product_code", "产品编码", "产品代码"), required=True),
    Column("name", ("产品名称", "名称"), required=True),
    Column("category", ("类别", "产品类别")),
    Column("standard_cost", ("标准成本",)),
)
ESTIMATE_COLUMNS = (
    Column("customer", ("customer_code", "客户编码", "客户代码", "客户"), required=True),
    Column("year", ("年度", "年份"), required=True),
    Column("amount", ("估计采购额", "采购总额", "金额"), required=True),
    Column("source", ("来源", "估计来源"), required=True),
)


def _refuse(rows: list[Row], batch) -> None:
    """The batch check's errors on the rows they belong to."""
    for index, errors in batch.errors.items():
        for column, messages in errors.items():
            for message in messages:
                rows[index].add(column, message)


def _refuse_all(rows: list[Row]) -> None:
    for row in rows:
        row.add("", common.NOT_SAVED)


class _BatchChecker(Checker):
    """Cells are checked a batch at a time (``check_database``), the way the API checks a
    POST; ``check`` only keeps the cells."""

    permission = ""

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        row = Row(line)
        row.values = dict(cells)
        return row

    def may_write(self, rows: list[Row]) -> bool:
        """The permission again at writing time (it may have been withdrawn meanwhile)."""
        if self.actor.has_perm(self.permission):
            return True
        _refuse_all(rows)
        return False


# --- sales lines --------------------------------------------------------------------------


class SalesLineChecker(_BatchChecker):
    permission = perms.ADD_LINES
    field_columns = {"lines": ""}  # the service's "stored meanwhile": the whole line

    def __init__(self, actor):
        super().__init__(actor)
        self.occurrences: dict[tuple, int] = {}  # identical lines of the file, first pass
        self.keys: dict[int, str] = {}  # line → key, for the writing pass

    def check_database(self, rows: list[Row]) -> None:
        batch = services.sales_lines_check(actor=self.actor, lines=[row.values for row in rows])
        _refuse(rows, batch)
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

    def _checked(self, rows: list[Row]) -> list[tuple[Row, dict]]:
        """The rows checked again (a customer may have left the importer's reach), with
        their file keys; the rows refused carry their errors."""
        batch = services.sales_lines_check(actor=self.actor, lines=[row.values for row in rows])
        _refuse(rows, batch)
        return [
            (rows[checked["index"]], checked | {"line_key": self.keys[rows[checked["index"]].line]})
            for checked in batch.rows
        ]

    def write_batch(self, rows: list[Row]) -> None:
        """A batch of lines in a fixed number of statements (a few look-ups, one INSERT a
        2,000 lines), inside the job's transaction for the batch."""
        if not self.may_write(rows):
            return
        checked = self._checked(rows)
        stored = services.existing_keys([values["line_key"] for _row, values in checked])
        ready = []
        for row, values in checked:
            if values["line_key"] in stored:  # stored by someone else since the check
                row.add("", ALREADY_IMPORTED)
            else:
                ready.append(values)
        services.sales_lines_insert(actor=self.actor, rows=ready)

    def write(self, row: Row) -> None:
        """One line (the fallback after a batch met a database error)."""
        if not self.actor.has_perm(self.permission):
            raise ValidationError({"": [common.NOT_SAVED]})
        checked = self._checked([row])
        if not checked:
            raise ValidationError({row.errors[0]["column"]: [row.errors.pop(0)["message"]]})
        if not services.sales_lines_write(actor=self.actor, rows=[checked[0][1]]):
            raise ValidationError({"": [ALREADY_IMPORTED]})


def _write_sales_lines(checker: SalesLineChecker, rows: list[Row]) -> None:
    checker.write_batch(rows)


# --- stock snapshots ----------------------------------------------------------------------


class StockChecker(_BatchChecker):
    permission = perms.ADD_STOCK

    def check_database(self, rows: list[Row]) -> None:
        batch = services.stock_snapshots_check(actor=self.actor, snapshots=[r.values for r in rows])
        _refuse(rows, batch)
        stored = services._stored_snapshots(batch.rows) if batch.rows else {}
        for checked in batch.rows:
            row = rows[checked["index"]]
            key = (checked["customer_id"], checked["product_id"], checked["month"])
            self.remember(row, key, "month")
            if key in stored:
                row.add("month", SNAPSHOT_STORED)

    def _new(self, rows: list[Row]) -> list[StockSnapshot]:
        batch = services.stock_snapshots_check(actor=self.actor, snapshots=[r.values for r in rows])
        _refuse(rows, batch)
        stored = services._stored_snapshots(batch.rows) if batch.rows else {}
        new = []
        for checked in batch.rows:
            if (checked["customer_id"], checked["product_id"], checked["month"]) in stored:
                rows[checked["index"]].add("month", SNAPSHOT_STORED)
                continue
            values = {k: v for k, v in checked.items() if k != "index"}
            new.append(StockSnapshot(created_by=self.actor, **values))
        return new

    def write_batch(self, rows: list[Row]) -> None:
        if self.may_write(rows):
            StockSnapshot.objects.bulk_create(self._new(rows), batch_size=services.WRITE_CHUNK)

    def write(self, row: Row) -> None:
        if not self.actor.has_perm(self.permission):
            raise ValidationError({"": [common.NOT_SAVED]})
        new = self._new([row])
        if not new:
            raise ValidationError({row.errors[0]["column"]: [row.errors.pop(0)["message"]]})
        new[0].save()


def _write_stock(checker: StockChecker, rows: list[Row]) -> None:
    checker.write_batch(rows)


# --- products -----------------------------------------------------------------------------


class ProductChecker(Checker):
    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        row = Row(line)
        values = row.values
        for column, required in (("code", True), ("name", True), ("category", False)):
            values[column] = checks.text(
                row, cells, column, max_length=checks.model_max_length(Product, column)
            ).strip()
            if required and not values[column] and not cells.get(column):
                row.add(column, common.REQUIRED)
        cost, problem = services.parse_decimal(
            cells.get("standard_cost") or "0", places=2, negative=False
        )
        if problem:
            row.add("standard_cost", problem)
        values["standard_cost"] = cost
        if first_pass and values["code"]:
            self.remember(row, ("code", values["code"]), "code")
        return row

    def _refuse_stored(self, rows: list[Row]) -> None:
        codes = {row.values["code"] for row in rows if row.values["code"]}
        stored = set(Product.objects.filter(code__in=codes).values_list("code", flat=True))
        for row in rows:
            if row.values["code"] in stored:
                row.add("code", PRODUCT_STORED)

    def check_database(self, rows: list[Row]) -> None:
        self._refuse_stored(rows)

    def write_batch(self, rows: list[Row]) -> None:
        """The batch's products and their history records, a few statements a batch."""
        if not self.actor.has_perm(perms.ADD_PRODUCT):
            _refuse_all(rows)
            return
        self._refuse_stored(rows)
        new = [Product(**row.values) for row in rows if not row.errors]
        bulk.create_with_history(new, Product, user=self.actor)

    def write(self, row: Row) -> None:
        services.product_create(actor=self.actor, audit=False, **row.values)


def _write_products(checker: ProductChecker, rows: list[Row]) -> None:
    checker.write_batch(rows)


# --- purchase estimates -------------------------------------------------------------------


class EstimateChecker(Checker):
    field_columns = {"customer": "customer"}

    def __init__(self, actor):
        super().__init__(actor)
        self.customers: dict[str, object] = {}

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        row = Row(line)
        code = checks.text(row, cells, "customer").strip()
        if not code:
            row.add("customer", common.REQUIRED)
        values, errors = services.purchase_estimate_check(
            year=cells.get("year", ""), amount=cells.get("amount", ""), source=cells.get("source")
        )
        for column, messages in errors.items():
            for message in messages:
                row.add(column, message)
        row.values = {"customer": code, **values}
        if first_pass and code and "year" not in errors:
            self.remember(row, (code, values["year"]), "year")
        return row

    def _customers(self, codes: set[str]):
        """The visible customers with these codes (one query; no card is decrypted)."""
        from customers.selectors import customer_list

        found = (
            customer_list(user=self.actor)
            .filter(code__in=codes)
            .select_related(None)
            .only("pk", "code")
        )
        return {customer.code: customer for customer in found}

    def check_database(self, rows: list[Row]) -> None:
        codes = {row.values["customer"] for row in rows if row.values["customer"]}
        customers = self._customers(codes) if codes else {}
        stored = {
            (estimate.customer_id, estimate.year): estimate
            for estimate in PurchaseEstimate.objects.filter(
                customer_id__in=[c.pk for c in customers.values()],
                year__in={row.values["year"] for row in rows if not row.errors},
            )
        }
        for row in rows:
            values = row.values
            customer = customers.get(values["customer"])
            if values["customer"] and customer is None:
                row.add("customer", services.UNKNOWN_CUSTOMER)
            elif customer is not None and not row.errors:
                existing = stored.get((customer.pk, values["year"]))
                if existing is not None and (existing.amount, existing.source) == (
                    values["amount"],
                    values["source"],
                ):
                    row.add("", ESTIMATE_STORED)

    def prepare(self, rows: list[Row]) -> None:
        self.customers = self._customers({row.values["customer"] for row in rows})

    def write(self, row: Row) -> None:
        customer = self.customers.get(row.values["customer"])
        if customer is None:  # it left the importer's reach since the check
            raise ValidationError({"customer": [services.UNKNOWN_CUSTOMER]})
        services.purchase_estimate_save(
            actor=self.actor,
            customer=customer,
            year=row.values["year"],
            amount=row.values["amount"],
            source=row.values["source"],
            audit=False,  # the job records one event with the counts
        )


def register_import_targets() -> None:
    """The analytics import targets (``AnalyticsConfig.ready``)."""
    imports.register(
        imports.ImportTarget(
            key="sales_lines",
            label=gettext_lazy("Sales lines"),
            permission=perms.ADD_LINES,
            columns=SALES_COLUMNS,
            checker=SalesLineChecker,
            batch_writer=_write_sales_lines,
            audit_action=events.DATA_IMPORTED,
            order=50,
        )
    )
    imports.register(
        imports.ImportTarget(
            key="stock_snapshots",
            label=gettext_lazy("Stock snapshots"),
            permission=perms.ADD_STOCK,
            columns=STOCK_COLUMNS,
            checker=StockChecker,
            batch_writer=_write_stock,
            audit_action=events.DATA_IMPORTED,
            order=51,
        )
    )
    imports.register(
        imports.ImportTarget(
            key="products",
            label=gettext_lazy("Products"),
            permission=perms.ADD_PRODUCT,
            columns=PRODUCT_COLUMNS,
            checker=ProductChecker,
            batch_writer=_write_products,
            audit_action=events.DATA_IMPORTED,
            order=49,
        )
    )
    imports.register(
        imports.ImportTarget(
            key="purchase_estimates",
            label=gettext_lazy("Purchase estimates"),
            permission=perms.ADD_ESTIMATE,
            columns=ESTIMATE_COLUMNS,
            checker=EstimateChecker,
            audit_action=events.DATA_IMPORTED,
            order=52,
        )
    )


__all__ = [
    "ESTIMATE_COLUMNS",
    "PRODUCT_COLUMNS",
    "SALES_COLUMNS",
    "STOCK_COLUMNS",
    "SalesLine",
    "register_import_targets",
]
