"""Sales analytics.

Every write that matters: one function per business action, named <entity>_<verb>.

Sales lines and stock snapshots are loaded in batches (the API, the import targets, the
demo data): each batch is checked in Python once — a few queries for the customers the
loader may see, the products and the keys already stored — and then written with
``bulk_create`` in chunks inside one transaction: no per-row ``full_clean``, no per-row
savepoint, one audit event with the counts. A batch is all-or-nothing and idempotent: a line
already stored (same ``line_key``) is skipped, so sending a batch again creates nothing.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analytics import events
from analytics import permissions as perms
from analytics.models import Product, PurchaseEstimate, SalesLine, StockSnapshot
from audit.services import record_event
from crm.permissions import require_perm
from customers.selectors import customer_list

MAX_BATCH = 10_000
WRITE_CHUNK = 2_000  # rows per INSERT statement
LOOKUP_CHUNK = 2_000  # values per IN (…) look-up

# Messages: English templates, translated when shown (stored in import jobs too).
REQUIRED = gettext_noop("This field is required.")
UNKNOWN_CUSTOMER = gettext_noop("There is no customer with this id or code that you may see.")
UNKNOWN_PRODUCT = gettext_noop("There is no product with this id or code.")
BAD_DATE = gettext_noop("Enter a date as YYYY-MM-DD.")
BAD_MONTH = gettext_noop("Enter a month as YYYY-MM.")
DATE_OUT_OF_RANGE = gettext_noop("Enter a date between 1900-01-01 and 2100-12-31.")
BAD_NUMBER = gettext_noop("Enter a number with at most %(places)s decimal places.")
TOO_BIG = gettext_noop("This number is too large.")
NEGATIVE = gettext_noop("This value cannot be negative.")
TOO_LONG = gettext_noop("This value is too long (at most %(limit)s characters).")
SNAPSHOT_DIFFERS = gettext_noop(
    "A snapshot of this product for this customer and month already exists with other values."
)
SNAPSHOT_TWICE = gettext_noop("The same customer, product and month are already on line %(line)s.")
RACE = gettext_noop(
    "Some of these lines were stored by another request at the same time; send the batch again."
)


# --- checking values ----------------------------------------------------------------------


def _message(template: str, **params) -> str:
    text = _(template)
    return text % params if params else text


def parse_decimal(value, *, places: int, digits: int = 16, negative: bool = True):
    """``(Decimal, None)`` or ``(None, message)``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, _message(REQUIRED)
    if isinstance(value, float | bool):
        value = str(value) if isinstance(value, float) else "x"
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        return None, _message(BAD_NUMBER, places=places)
    if not number.is_finite():
        return None, _message(BAD_NUMBER, places=places)
    if number.as_tuple().exponent < -places:
        return None, _message(BAD_NUMBER, places=places)
    if abs(number) >= Decimal(10) ** (digits - places):
        return None, _message(TOO_BIG)
    if not negative and number < 0:
        return None, _message(NEGATIVE)
    return number.quantize(Decimal(1).scaleb(-places)), None


def parse_date(value):
    if isinstance(value, datetime.date):
        parsed = value
    else:
        from crm.imports.checks import parse_date as parse

        if not isinstance(value, str) or not value.strip():
            return None, _message(REQUIRED if not value else BAD_DATE)
        parsed = parse(value)
        if parsed is None:
            return None, _message(BAD_DATE)
    if not datetime.date(1900, 1, 1) <= parsed <= datetime.date(2100, 12, 31):
        return None, _message(DATE_OUT_OF_RANGE)
    return parsed, None


def parse_month(value):
    if isinstance(value, datetime.date):
        return value.replace(day=1), None
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        return None, _message(REQUIRED)
    for pattern in ("%Y-%m", "%Y/%m", "%Y%m", "%Y-%m-%d"):
        try:
            parsed = datetime.datetime.strptime(text, pattern).date().replace(day=1)
        except ValueError:
            continue
        if not datetime.date(1900, 1, 1) <= parsed <= datetime.date(2100, 12, 1):
            return None, _message(DATE_OUT_OF_RANGE)
        return parsed, None
    return None, _message(BAD_MONTH)


def _chunks(values: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _split_refs(refs) -> tuple[set[int], set[str]]:
    """References as given: a JSON integer is an id, a text is a code."""
    ids, codes = set(), set()
    for ref in refs:
        if isinstance(ref, bool) or ref is None:
            continue
        if isinstance(ref, int):
            ids.add(ref)
        elif isinstance(ref, str) and ref.strip():
            codes.add(ref.strip())
    return ids, codes


def visible_customers_by_ref(actor, refs) -> dict:
    """``{id or code: customer id}`` for the customers ``actor`` may see (a query a chunk)."""
    ids, codes = _split_refs(refs)
    found: dict = {}
    visible = customer_list(user=actor)
    for chunk in _chunks(sorted(ids)):
        for pk, _code in visible.filter(pk__in=chunk).values_list("pk", "code"):
            found[pk] = pk
    for chunk in _chunks(sorted(codes)):
        for pk, code in visible.filter(code__in=chunk).values_list("pk", "code"):
            found[code] = pk
    return found


def products_by_ref(refs) -> dict:
    ids, codes = _split_refs(refs)
    found: dict = {}
    for chunk in _chunks(sorted(ids)):
        found.update(
            {pk: pk for pk in Product.objects.filter(pk__in=chunk).values_list("pk", flat=True)}
        )
    for chunk in _chunks(sorted(codes)):
        found.update(dict(Product.objects.filter(code__in=chunk).values_list("code", "pk")))
    return found


def _ref(value):
    return value.strip() if isinstance(value, str) else value


# --- products -----------------------------------------------------------------------------


@transaction.atomic
def product_create(
    *,
    actor,
    code: str,
    name: str,
    category: str = "",
    standard_cost: Decimal = Decimal("0"),
    audit: bool = True,
) -> Product:
    """Create a product (``analytics.add_product``); a used code is a field error.

    ``audit=False`` for an import job's row (the job records one event with the counts).
    """
    require_perm(actor, perms.ADD_PRODUCT, _("You are not allowed to create products."))
    code, name, category = (code or "").strip(), (name or "").strip(), (category or "").strip()
    errors: dict[str, list[str]] = {}
    if not code:
        errors["code"] = [_message(REQUIRED)]
    elif len(code) > 50:
        errors["code"] = [_message(TOO_LONG, limit=50)]
    elif Product.objects.filter(code=code).exists():
        errors["code"] = [_("A product with this code already exists.")]
    if not name:
        errors["name"] = [_message(REQUIRED)]
    elif len(name) > 200:
        errors["name"] = [_message(TOO_LONG, limit=200)]
    if len(category) > 100:
        errors["category"] = [_message(TOO_LONG, limit=100)]
    cost, problem = parse_decimal(standard_cost, places=2, negative=False)
    if problem:
        errors["standard_cost"] = [problem]
    if errors:
        raise ValidationError(errors)
    product = Product(code=code, name=name, category=category, standard_cost=cost)
    product._history_user = actor
    product.save()
    if audit:
        record_event(
            action=events.PRODUCT_CREATED,
            actor=actor,
            obj=product,
            data={"fields": ["code", "name"]},
        )
    return product


# --- sales lines --------------------------------------------------------------------------


def line_key(*, customer_id, product_id, date, quantity, amount, cost, reference, occurrence):
    """The idempotency key of a line: its reference if any, else its content and the how
    manyth identical line of its batch it is (so resending a batch matches line by line)."""
    if reference:
        text = f"ref|{reference}"
    else:
        text = f"{customer_id}|{product_id}|{date}|{quantity}|{amount}|{cost}|{occurrence}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class CheckedBatch:
    """The result of checking a batch: rows ready to write and errors by index."""

    rows: list[dict] = field(default_factory=list)
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, index: int, name: str, message: str) -> None:
        self.errors.setdefault(index, {}).setdefault(name, []).append(message)


def sales_lines_check(*, actor, lines: list[dict]) -> CheckedBatch:
    """Check a batch of sales lines in a fixed number of queries per 2,000 lines.

    Each line: ``customer`` (id or code), ``product`` (id or code), ``date``, ``quantity``,
    ``amount``, ``cost`` (negative for a return), optional ``reference``. A customer the
    actor may not see is reported exactly like a missing one.
    """
    batch = CheckedBatch()
    customers = visible_customers_by_ref(actor, [_ref(item.get("customer")) for item in lines])
    products = products_by_ref([_ref(item.get("product")) for item in lines])
    occurrences: dict[tuple, int] = {}
    for index, item in enumerate(lines):
        values = {}
        customer = customers.get(_ref(item.get("customer")))
        if customer is None:
            batch.add(
                index,
                "customer",
                _message(REQUIRED if item.get("customer") in (None, "") else UNKNOWN_CUSTOMER),
            )
        product = products.get(_ref(item.get("product")))
        if product is None:
            batch.add(
                index,
                "product",
                _message(REQUIRED if item.get("product") in (None, "") else UNKNOWN_PRODUCT),
            )
        date, problem = parse_date(item.get("date"))
        if problem:
            batch.add(index, "date", problem)
        for name, places in (("quantity", 3), ("amount", 2), ("cost", 2)):
            values[name], problem = parse_decimal(item.get(name), places=places)
            if problem:
                batch.add(index, name, problem)
        reference = (item.get("reference") or "").strip() if item.get("reference") else ""
        if len(reference) > 64:
            batch.add(index, "reference", _message(TOO_LONG, limit=64))
        if index in batch.errors:
            continue
        content = (customer, product, date, *(values[n] for n in ("quantity", "amount", "cost")))
        occurrence = occurrences[content] = occurrences.get(content, 0) + 1
        batch.rows.append(
            {
                "index": index,
                "customer_id": customer,
                "product_id": product,
                "date": date,
                "reference": reference,
                "line_key": line_key(
                    customer_id=customer,
                    product_id=product,
                    date=date,
                    reference=reference,
                    occurrence=occurrence,
                    **values,
                ),
                **values,
            }
        )
    return batch


def existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(
            SalesLine.objects.filter(line_key__in=chunk).values_list("line_key", flat=True)
        )
    return found


def sales_lines_insert(*, actor, rows: list[dict]) -> int:
    """Insert checked rows whose keys are new, in chunks, with no savepoint; returns how
    many. The caller holds the transaction and has looked the keys up (``existing_keys``):
    a key stored since then raises ``IntegrityError`` (the import job's bulk path then
    writes the batch again row by row)."""
    SalesLine.objects.bulk_create(
        [
            SalesLine(
                customer_id=row["customer_id"],
                product_id=row["product_id"],
                date=row["date"],
                quantity=row["quantity"],
                amount=row["amount"],
                cost=row["cost"],
                reference=row["reference"],
                line_key=row["line_key"],
                created_by=actor,
            )
            for row in rows
        ],
        batch_size=WRITE_CHUNK,
    )
    return len(rows)


def sales_lines_write(*, actor, rows: list[dict]) -> int:
    """Insert checked rows whose key is not stored yet, in chunks; returns how many.

    The caller holds the transaction. Rows whose keys another request stored meanwhile
    raise ``ValidationError`` (the unique key refuses them; the batch rolls back whole).
    """
    stored = existing_keys([row["line_key"] for row in rows])
    seen: set[str] = set()
    new = []
    for row in rows:
        if row["line_key"] in stored or row["line_key"] in seen:
            continue
        seen.add(row["line_key"])
        new.append(row)
    try:
        with transaction.atomic():
            sales_lines_insert(actor=actor, rows=new)
    except IntegrityError as exc:
        raise ValidationError({"lines": [_message(RACE)]}) from exc
    return len(new)


def batch_errors(batch: CheckedBatch) -> list[dict]:
    return [{"index": index, "errors": errors} for index, errors in sorted(batch.errors.items())]


class BatchInvalid(ValidationError):
    """Some lines of a batch are bad; ``items`` lists each by index with its field errors
    (the API answers them as they are: ``{"lines": [{"index": 3, "errors": {…}}]}``)."""

    def __init__(self, name: str, items: list[dict]):
        super().__init__(
            {name: [_("%(count)s lines are invalid; nothing was stored.") % {"count": len(items)}]}
        )
        self.name, self.items = name, items


@dataclass(frozen=True)
class BatchResult:
    created: int
    skipped: int


def sales_lines_create(*, actor, lines: list[dict]) -> BatchResult:
    """Load up to 10,000 sales lines, all or nothing (``analytics.add_salesline``).

    Raises ``ValidationError({"lines": [{"index", "errors"}…]})`` if any line is bad; lines
    already stored are skipped (the result counts them). One audit event with the counts.
    """
    require_perm(actor, perms.ADD_LINES, _("You are not allowed to load sales lines."))
    if len(lines) > MAX_BATCH:
        raise ValidationError(
            {"lines": [_("Send at most %(limit)s lines at a time.") % {"limit": MAX_BATCH}]}
        )
    batch = sales_lines_check(actor=actor, lines=lines)
    if batch.errors:
        raise BatchInvalid("lines", batch_errors(batch))
    with transaction.atomic():
        created = sales_lines_write(actor=actor, rows=batch.rows)
        record_event(
            action=events.SALES_LINES_LOADED,
            actor=actor,
            data={"lines": len(lines), "created": created, "skipped": len(lines) - created},
        )
    return BatchResult(created=created, skipped=len(lines) - created)


# --- stock snapshots ----------------------------------------------------------------------

SNAPSHOT_FIELDS = ("opening_quantity", "closing_quantity", "opening_value", "closing_value")


def stock_snapshots_check(*, actor, snapshots: list[dict]) -> CheckedBatch:
    batch = CheckedBatch()
    customers = visible_customers_by_ref(actor, [_ref(i.get("customer")) for i in snapshots])
    products = products_by_ref([_ref(i.get("product")) for i in snapshots])
    first_line: dict[tuple, int] = {}
    for index, item in enumerate(snapshots):
        values = {}
        customer = customers.get(_ref(item.get("customer")))
        if customer is None:
            batch.add(
                index,
                "customer",
                _message(REQUIRED if item.get("customer") in (None, "") else UNKNOWN_CUSTOMER),
            )
        product = products.get(_ref(item.get("product")))
        if product is None:
            batch.add(
                index,
                "product",
                _message(REQUIRED if item.get("product") in (None, "") else UNKNOWN_PRODUCT),
            )
        month, problem = parse_month(item.get("month"))
        if problem:
            batch.add(index, "month", problem)
        for name in SNAPSHOT_FIELDS:
            places = 3 if name.endswith("quantity") else 2
            values[name], problem = parse_decimal(item.get(name), places=places, negative=False)
            if problem:
                batch.add(index, name, problem)
        if index in batch.errors:
            continue
        key = (customer, product, month)
        first = first_line.setdefault(key, index)
        if first != index:
            batch.add(index, "month", _message(SNAPSHOT_TWICE, line=first))
            continue
        batch.rows.append(
            {"index": index, "customer_id": customer, "product_id": product, "month": month}
            | values
        )
    return batch


def _stored_snapshots(rows: list[dict]) -> dict[tuple, dict]:
    found: dict[tuple, dict] = {}
    customers = sorted({row["customer_id"] for row in rows})
    months = sorted({row["month"] for row in rows})
    for chunk in _chunks(customers):
        for stored in StockSnapshot.objects.filter(customer_id__in=chunk, month__in=months).values(
            "customer_id", "product_id", "month", *SNAPSHOT_FIELDS
        ):
            found[(stored["customer_id"], stored["product_id"], stored["month"])] = stored
    return found


def stock_snapshots_create(*, actor, snapshots: list[dict]) -> BatchResult:
    """Load up to 10,000 monthly stock snapshots (values at selling price), all or nothing.

    A snapshot already stored with the same values is skipped (idempotent); one stored
    with other values is a bad line.
    """
    require_perm(actor, perms.ADD_STOCK, _("You are not allowed to load stock snapshots."))
    if len(snapshots) > MAX_BATCH:
        raise ValidationError(
            {"snapshots": [_("Send at most %(limit)s lines at a time.") % {"limit": MAX_BATCH}]}
        )
    batch = stock_snapshots_check(actor=actor, snapshots=snapshots)
    new = []
    if batch.rows:
        stored = _stored_snapshots(batch.rows)
        for row in batch.rows:
            existing = stored.get((row["customer_id"], row["product_id"], row["month"]))
            if existing is None:
                new.append(row)
            elif any(Decimal(existing[n]) != row[n] for n in SNAPSHOT_FIELDS):
                batch.add(row["index"], "month", _message(SNAPSHOT_DIFFERS))
    if batch.errors:
        raise BatchInvalid("snapshots", batch_errors(batch))
    with transaction.atomic():
        try:
            with transaction.atomic():
                StockSnapshot.objects.bulk_create(
                    [
                        StockSnapshot(
                            created_by=actor, **{k: v for k, v in row.items() if k != "index"}
                        )
                        for row in new
                    ],
                    batch_size=WRITE_CHUNK,
                )
        except IntegrityError as exc:
            raise ValidationError({"snapshots": [_message(RACE)]}) from exc
        record_event(
            action=events.STOCK_LOADED,
            actor=actor,
            data={
                "snapshots": len(snapshots),
                "created": len(new),
                "skipped": len(snapshots) - len(new),
            },
        )
    return BatchResult(created=len(new), skipped=len(snapshots) - len(new))


# --- purchase estimates -------------------------------------------------------------------


SOURCE_LABELS = {
    PurchaseEstimate.Source.ASKED: ("asked the customer", "询问客户", "询问", "客户告知"),
    PurchaseEstimate.Source.PLAN: ("customer's plan", "plan of the customer", "客户计划", "计划"),
    PurchaseEstimate.Source.FINANCIALS: (
        "financial statements",
        "financial",
        "财务报表",
        "财报",
    ),
    PurchaseEstimate.Source.STOCK: ("inferred from stock", "库存推算", "库存"),
}


def estimate_source(text) -> str:
    """The source key for its key, English or Chinese label (``""`` if none fits)."""
    if not isinstance(text, str):
        return ""
    folded = text.strip().casefold()
    for key, labels in SOURCE_LABELS.items():
        if folded == key or folded in (label.casefold() for label in labels):
            return key
    return ""


def purchase_estimate_check(*, year, amount, source) -> tuple[dict, dict[str, list[str]]]:
    """``({year, amount, source}, errors by field)``: the values an estimate must hold."""
    errors: dict[str, list[str]] = {}
    value, problem = parse_decimal(amount, places=2, negative=False)
    if problem:
        errors["amount"] = [problem]
    elif value <= 0:
        errors["amount"] = [_("Enter an amount above zero.")]
    key = estimate_source(source)
    if not key:
        errors["source"] = [_("Choose where the estimate comes from.")]
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year.strip())
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
        errors["year"] = [_("Enter a year between 1900 and 2100.")]
    return {"year": year, "amount": value, "source": key}, errors


@transaction.atomic
def purchase_estimate_save(
    *, actor, customer, year: int, amount, source: str, audit: bool = True
) -> PurchaseEstimate:
    """Record (or replace) a customer's estimated purchases for a year, with its source.

    The caller fetched ``customer`` through ``access_customer`` (or ``customer_list``).
    Unchanged values write nothing. ``audit=False`` for an import job's row (the job
    records one event with the counts).
    """
    require_perm(actor, perms.ADD_ESTIMATE, _("You are not allowed to record estimates."))
    values, errors = purchase_estimate_check(year=year, amount=amount, source=source)
    if errors:
        raise ValidationError(errors)
    year, value, source = values["year"], values["amount"], values["source"]
    estimate = (
        PurchaseEstimate.objects.select_for_update().filter(customer=customer, year=year).first()
    )
    if estimate is not None and estimate.amount == value and estimate.source == source:
        return estimate
    if estimate is None:
        estimate = PurchaseEstimate(customer=customer, year=year)
    estimate.amount, estimate.source = value, source
    estimate._history_user = actor
    estimate.save()
    if audit:
        record_event(
            action=events.ESTIMATE_SAVED,
            actor=actor,
            obj=estimate,
            data={"customer": customer.pk, "year": year, "fields": ["amount", "source"]},
        )
    return estimate
