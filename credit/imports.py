"""Invoices and payments as import targets of ``crm.imports`` (CSV/XLSX; issue 9, item 5).

The framework reads the file, maps the columns (Chinese headers too) and runs the job: dry
run, all-or-nothing or valid rows only, errors by line and column, progress. The checkers
here check each row's cells, then each batch against the database in a few queries
(``check_database``), and write a batch of valid rows in bulk (``batch_writer``): the rows
and their history records with ``crm.imports.bulk``, the warning threshold refreshed once per
customer of the batch. The job records one audit event (``credit.receivables_imported``).

* A customer is named by its code; a code the importer may not see is reported like an
  unknown one ("no customer you may see"), never saying whose it is.
* Invoices are unique by number: a number already stored is reported on its line, so
  importing a file again writes nothing twice.
* A payment names the invoice it pays (by number, of the same customer) and is allocated to
  it; it may not exceed what is still open (earlier lines of the file count). A payment
  already stored (same invoice, date, amount and reference) is reported as imported before.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop
from simple_history.utils import bulk_update_with_history

from credit import events
from credit import permissions as perms
from credit.models import CreditAccount, Invoice, Payment, PaymentAllocation
from credit.selectors import credit_settings
from crm import imports
from crm.imports import bulk, checks
from crm.imports import messages as import_messages
from crm.imports.checks import Checker, Row
from crm.imports.columns import Column
from customers import permissions as customer_perms
from customers.models import Customer

INVOICES, PAYMENTS = "credit_invoices", "credit_payments"

REQUIRED = import_messages.REQUIRED
UNKNOWN_CUSTOMER = gettext_noop("No customer you may see has this code.")
BAD_AMOUNT = gettext_noop("Enter an amount greater than zero with at most two decimal places.")
BAD_PAID = gettext_noop("Enter an amount between 0 and the invoice's amount.")
DUE_BEFORE_ISSUE = gettext_noop("The due date cannot be before the issue date.")
WRONG_CURRENCY = gettext_noop("Amounts for this customer are in %(currency)s.")
INVOICE_STORED = gettext_noop("An invoice with this number is already stored (imported before).")
UNKNOWN_INVOICE = gettext_noop("This customer has no open invoice with this number.")
OVER_OPEN = gettext_noop("The invoice has only %(open)s open.")
PAYMENT_STORED = gettext_noop("This payment is already stored (imported before).")

_CUSTOMER = ("customer_code", "客户编码", "客户代码", "客户")
_CURRENCY = ("币种", "货币")
INVOICE_COLUMNS = (
    Column("customer", _CUSTOMER, required=True),
    Column("number", ("invoice_number", "invoice", "发票号", "发票号码"), required=True),
    Column("issued_on", ("issue_date", "开票日期", "发票日期"), required=True),
    Column("due_on", ("due_date", "到期日", "到期日期"), required=True),
    Column("amount", ("金额", "发票金额"), required=True),
    Column("currency", _CURRENCY),
    Column("paid_amount", ("paid", "已付", "已付金额")),
)
PAYMENT_COLUMNS = (
    Column("customer", _CUSTOMER, required=True),
    Column("invoice", ("invoice_number", "发票号", "发票号码"), required=True),
    Column("received_on", ("date", "payment_date", "收款日期", "付款日期"), required=True),
    Column("amount", ("金额", "收款金额"), required=True),
    Column("currency", _CURRENCY),
    Column("reference", ("payment_reference", "参考号", "单据号", "收款单号")),
)
MAX_AMOUNT = Decimal("1e14")


def _amount(row: Row, cells: dict, column: str, *, required=True, zero=False) -> Decimal | None:
    value = checks.text(row, cells, column).replace(",", "").strip()
    if not value:
        if required:
            row.add(column, REQUIRED)
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        row.add(column, BAD_AMOUNT)
        return None
    if (
        not amount.is_finite()
        or amount != amount.quantize(Decimal("0.01"))
        or amount < 0
        or (amount == 0 and not zero)
        or amount >= MAX_AMOUNT
    ):
        row.add(column, BAD_AMOUNT)
        return None
    return amount.quantize(Decimal("0.01"))


def _required_text(row: Row, cells: dict, column: str, model, field: str) -> str:
    value = checks.text(row, cells, column, max_length=checks.model_max_length(model, field))
    if not cells.get(column):
        row.add(column, REQUIRED)
    return value.strip()


def _required_date(row: Row, cells: dict, column: str):
    if not cells.get(column):
        row.add(column, REQUIRED)
        return None
    return checks.date(row, cells, column)


class _ReceivablesChecker(Checker):
    """What both targets share: customers by code (only those the importer may see) and
    the currency each customer's amounts must be in."""

    def __init__(self, actor):
        super().__init__(actor)
        self.customers: dict[str, Customer] = {}
        self.currencies: dict[int, str] = {}

    def _load_customers(self, rows: list[Row]) -> None:
        codes = {row.values["customer"] for row in rows if row.values.get("customer")}
        codes -= set(self.customers)
        if not codes:
            return
        found = customer_perms.visible_customers(
            self.actor, Customer.objects.filter(code__in=codes)
        ).select_related("owner__team")
        for customer in found:
            self.customers[customer.code] = customer
        accounts = CreditAccount.objects.filter(
            customer__in=[c.pk for c in self.customers.values()]
        ).values_list("customer_id", "currency")
        self.currencies.update(dict(accounts))

    def _check_customer(self, row: Row) -> Customer | None:
        """The row's customer, or an error that does not tell whether the code exists."""
        code = row.values.get("customer")
        if not code:
            return None
        customer = self.customers.get(code)
        if customer is None:
            row.add("customer", UNKNOWN_CUSTOMER)
            return None
        expected = self.currencies.get(customer.pk) or credit_settings().currency
        currency = (row.values.get("currency") or expected).upper()
        if currency != expected:
            row.add("currency", WRONG_CURRENCY, currency=expected)
        row.values["currency"] = currency
        return customer

    def _refresh_warnings(self, customers: set[int]) -> None:
        """The warning threshold of each customer whose exposure changed (its credit row
        locked, as the services do)."""
        from credit.services.orders import warning_refresh

        accounts = (
            CreditAccount.objects.select_for_update()
            .filter(customer_id__in=customers)
            .select_related("customer")
            .order_by("pk")
        )
        for account in accounts:
            warning_refresh(account=account, actor=self.actor)


class InvoiceChecker(_ReceivablesChecker):
    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        row = Row(line)
        values = row.values
        values["customer"] = _required_text(row, cells, "customer", Customer, "code")
        values["number"] = _required_text(row, cells, "number", Invoice, "number")
        values["issued_on"] = _required_date(row, cells, "issued_on")
        values["due_on"] = _required_date(row, cells, "due_on")
        values["amount"] = _amount(row, cells, "amount")
        values["currency"] = checks.text(row, cells, "currency", max_length=3).strip()
        paid = _amount(row, cells, "paid_amount", required=False, zero=True)
        values["paid_amount"] = paid if paid is not None else Decimal("0.00")
        if values["amount"] is not None and values["paid_amount"] > values["amount"]:
            row.add("paid_amount", BAD_PAID)
        if values["issued_on"] and values["due_on"] and values["due_on"] < values["issued_on"]:
            row.add("due_on", DUE_BEFORE_ISSUE)
        if first_pass and values["number"]:
            self.remember(row, ("number", values["number"]), "number")
        return row

    def check_database(self, rows: list[Row]) -> None:
        self._load_customers(rows)
        numbers = {row.values["number"] for row in rows if row.values["number"]}
        stored = set(Invoice.objects.filter(number__in=numbers).values_list("number", flat=True))
        for row in rows:
            self._check_customer(row)
            if row.values["number"] in stored:
                row.add("number", INVOICE_STORED)

    def prepare(self, rows: list[Row]) -> None:
        self._load_customers(rows)


def write_invoices(checker: InvoiceChecker, rows: list[Row]) -> None:
    """A batch of invoices in bulk: one INSERT for the rows, one for their history."""
    if not checker.actor.has_perm(perms.ADD_INVOICE):
        for row in rows:
            row.add("", import_messages.NOT_SAVED)
        return
    numbers = {row.values["number"] for row in rows}
    stored = set(Invoice.objects.filter(number__in=numbers).values_list("number", flat=True))
    invoices, touched = [], set()
    for row in rows:
        customer = checker._check_customer(row)
        if customer is None or row.errors:
            continue
        if row.values["number"] in stored:  # raced in since the check
            row.add("number", INVOICE_STORED)
            continue
        values = row.values
        invoices.append(
            Invoice(
                customer=customer,
                data_key_id=customer.data_key_id,
                number=values["number"],
                issued_on=values["issued_on"],
                due_on=values["due_on"],
                amount=values["amount"],
                paid_amount=values["paid_amount"],
                currency=values["currency"],
            )
        )
        touched.add(customer.pk)
    bulk.create_with_history(invoices, Invoice, user=checker.actor)
    checker._refresh_warnings(touched)


class PaymentChecker(_ReceivablesChecker):
    def __init__(self, actor):
        super().__init__(actor)
        # What the file has already allocated to each invoice (earlier lines), by number.
        self.allocated: dict[str, Decimal] = defaultdict(Decimal)

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        row = Row(line)
        values = row.values
        values["customer"] = _required_text(row, cells, "customer", Customer, "code")
        values["invoice"] = _required_text(row, cells, "invoice", Invoice, "number")
        values["received_on"] = _required_date(row, cells, "received_on")
        values["amount"] = _amount(row, cells, "amount")
        values["currency"] = checks.text(row, cells, "currency", max_length=3).strip()
        values["reference"] = checks.text(
            row, cells, "reference", max_length=checks.model_max_length(Payment, "reference")
        ).strip()
        if first_pass and not row.errors:
            key = (values["invoice"], values["received_on"], values["amount"], values["reference"])
            self.remember(row, key, "invoice")
        return row

    def _invoices(self, rows: list[Row]) -> dict[str, Invoice]:
        numbers = {row.values["invoice"] for row in rows if row.values["invoice"]}
        visible = [c.pk for c in self.customers.values()]
        return {
            invoice.number: invoice
            for invoice in Invoice.objects.filter(
                number__in=numbers, customer__in=visible, written_off_at__isnull=True
            )
        }

    def _check_invoice(self, row: Row, customer, invoices: dict) -> Invoice | None:
        invoice = invoices.get(row.values["invoice"])
        if invoice is None or invoice.customer_id != customer.pk:
            row.add("invoice", UNKNOWN_INVOICE)
            return None
        return invoice

    def check_database(self, rows: list[Row]) -> None:
        self._load_customers(rows)
        invoices = self._invoices(rows)
        stored = set(
            PaymentAllocation.objects.filter(
                invoice__in=[i.pk for i in invoices.values()], amount=F("payment__amount")
            ).values_list(
                "invoice__number", "payment__received_on", "payment__amount", "payment__reference"
            )
        )
        for row in rows:
            customer = self._check_customer(row)
            if customer is None or not row.values["invoice"]:
                continue
            invoice = self._check_invoice(row, customer, invoices)
            if invoice is None or row.values["amount"] is None:
                continue
            values = row.values
            if (invoice.number, values["received_on"], values["amount"], values["reference"]) in (
                stored
            ):
                row.add("invoice", PAYMENT_STORED)
                continue
            open_amount = invoice.open_amount - self.allocated[invoice.number]
            if values["amount"] > open_amount:
                row.add("amount", OVER_OPEN, open=str(open_amount))
            elif not row.errors:
                self.allocated[invoice.number] += values["amount"]

    def prepare(self, rows: list[Row]) -> None:
        self._load_customers(rows)


def write_payments(checker: PaymentChecker, rows: list[Row]) -> None:
    """A batch of payments in bulk, each allocated to its invoice: the payments, their
    allocations and the invoices' paid amounts (with history) in a few statements. The
    customers' credit rows are locked first and then the invoices, in the services' order;
    each invoice's open amount is checked again under the lock."""
    if not checker.actor.has_perm(perms.ADD_PAYMENT):
        for row in rows:
            row.add("", import_messages.NOT_SAVED)
        return
    wanted = []
    for row in rows:
        customer = checker._check_customer(row)
        if customer is not None and not row.errors:
            wanted.append((row, customer))
    if not wanted:
        return
    list(
        CreditAccount.objects.select_for_update()
        .filter(customer__in={customer.pk for _row, customer in wanted})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    numbers = {row.values["invoice"] for row, _customer in wanted}
    invoices = {
        invoice.number: invoice
        for invoice in Invoice.objects.select_for_update()
        .filter(number__in=numbers, written_off_at__isnull=True)
        .order_by("pk")
    }
    payments, parts, changed = [], [], {}
    for row, customer in wanted:
        values = row.values
        invoice = checker._check_invoice(row, customer, invoices)
        if invoice is None:
            continue
        if values["amount"] > invoice.open_amount:  # paid elsewhere since the check
            row.add("amount", OVER_OPEN, open=str(invoice.open_amount))
            continue
        invoice.paid_amount += values["amount"]
        changed[invoice.pk] = invoice
        payment = Payment(
            customer=customer,
            data_key_id=customer.data_key_id,
            received_on=values["received_on"],
            amount=values["amount"],
            currency=values["currency"],
            reference=values["reference"],
            recorded_by=checker.actor,
        )
        payments.append(payment)
        parts.append((payment, invoice, values["amount"]))
    bulk.create_with_history(payments, Payment, user=checker.actor)
    bulk.create_with_history(
        [PaymentAllocation(payment=p, invoice=i, amount=a) for p, i, a in parts],
        PaymentAllocation,
        user=checker.actor,
    )
    if changed:
        now = timezone.now()
        for invoice in changed.values():
            invoice.updated_at = now
        bulk_update_with_history(
            list(changed.values()),
            Invoice,
            ["paid_amount", "updated_at"],
            batch_size=bulk.INSERT_BATCH,
            default_user=checker.actor,
        )
    checker._refresh_warnings({invoice.customer_id for invoice in changed.values()})


def _row_by_row(batch_writer):
    """The framework's fallback after a database error in the bulk path: the same writer,
    one row (one savepoint) at a time; a row it refuses keeps its error (line, column)."""

    def write(checker, row: Row) -> None:
        batch_writer(checker, [row])

    return write


def register_import_targets() -> None:
    """Invoices and payments as import targets (``CreditConfig.ready``)."""
    imports.register(
        imports.ImportTarget(
            key=INVOICES,
            label=gettext_lazy("Invoices (credit)"),
            permission=perms.ADD_INVOICE,
            columns=INVOICE_COLUMNS,
            checker=InvoiceChecker,
            writer=_row_by_row(write_invoices),
            batch_writer=write_invoices,
            audit_action=events.RECEIVABLES_IMPORTED,
            order=60,
        )
    )
    imports.register(
        imports.ImportTarget(
            key=PAYMENTS,
            label=gettext_lazy("Payments (credit)"),
            permission=perms.ADD_PAYMENT,
            columns=PAYMENT_COLUMNS,
            checker=PaymentChecker,
            writer=_row_by_row(write_payments),
            batch_writer=write_payments,
            audit_action=events.RECEIVABLES_IMPORTED,
            order=61,
        )
    )
