"""Historical complaints from CSV/XLSX: an import target of ``crm.imports``.

The framework reads the file, maps the columns (Chinese headers too) and runs the job: dry
run, all-or-nothing (or valid rows only), capped line/column errors, progress. This module
says what a row holds and writes each batch of valid rows in bulk (``batch_writer``): the
numbers from the complaint counter reserved at once, the caller's own data keys in one
INSERT, the rows and their history records in a few statements. The description and the
other texts are encrypted by the fields themselves under the customer's data key (or the
caller's own key), exactly as ``complaint_create`` writes them.

Every row carries the number the complaint had in the old system (``reference``, kept as
``Complaint.external_reference``, unique): a row whose reference is already stored is
reported on its line, so importing the same file again writes nothing twice. A customer is
named by his exact customer code, as the caller look-up finds one; the job records one
audit event with the counts, never a value.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from complaints import events, sla
from complaints import permissions as perms
from complaints.models import Category, Channel, Complaint, RootCause, Severity, SlaPolicy
from crm import encryption, imports
from crm.imports import bulk, checks
from crm.imports import messages as common
from crm.imports.checks import Checker, Row
from crm.imports.columns import Column
from customers.models import Customer

ALREADY_IMPORTED = gettext_noop("A complaint with this reference is already stored.")
UNKNOWN_CUSTOMER = gettext_noop("There is no customer with this code.")
NO_CUSTOMER = gettext_noop("Give the customer code, or the caller's name or phone.")
BAD_CHOICE = gettext_noop("Unknown value; use one of: %(choices)s.")
UNKNOWN_CATEGORY = gettext_noop("Unknown category; use a code or a name from the list.")
UNKNOWN_ROOT_CAUSE = gettext_noop("Unknown root cause; use a code or a name from the list.")
BAD_MOMENT = gettext_noop("Enter a date and time as YYYY-MM-DD HH:MM.")
IN_THE_FUTURE = gettext_noop("This moment is in the future.")
BEFORE_RECEIPT = gettext_noop("This moment is before the complaint was received.")
BAD_SCORE = gettext_noop("Enter a score from 1 to 5.")
RESOLUTION_NEEDED = gettext_noop("A resolved complaint needs its resolution text.")

COLUMNS = (
    Column("reference", ("external_reference", "外部编号", "原编号", "投诉单号"), required=True),
    Column("customer", ("customer_code", "客户编码", "客户代码", "客户编号")),
    Column("caller_name", ("来电人", "来电人姓名")),
    Column("caller_phone", ("来电电话", "来电人电话")),
    Column("kind", ("类型",)),
    Column("channel", ("渠道", "受理渠道"), required=True),
    Column("category", ("类别", "投诉类别"), required=True),
    Column("severity", ("严重程度", "级别"), required=True),
    Column("description", ("描述", "投诉内容"), required=True),
    Column("received_at", ("受理时间",), required=True),
    Column("status", ("状态",)),
    Column("resolved_at", ("解决时间",)),
    Column("closed_at", ("结案时间",)),
    Column("root_cause", ("根本原因",)),
    Column("resolution", ("处理结果",)),
    Column("satisfaction", ("满意度",)),
)

Status = Complaint.Status
RESOLVED_OR_LATER = (Status.RESOLVED, Status.CUSTOMER_INFORMED, Status.CLOSED)
MOMENT_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
)


def _choices(choices) -> dict[str, str]:
    """Codes, English labels and Chinese labels of a set of choices → the code."""
    from django.utils import translation

    table: dict[str, tuple[str, ...]] = {}
    for value, label in choices:
        names = [str(label)]
        with translation.override("zh-hans"):
            names.append(str(label))
        table[value] = tuple(names)
    return checks.aliases(table)


def parse_moment(value: str) -> datetime.datetime | None:
    """A cell as an aware moment in the project's time zone (a date alone: its midnight)."""
    value = value.strip()
    for pattern in MOMENT_FORMATS:
        try:
            moment = datetime.datetime.strptime(value, pattern)
        except ValueError:
            continue
        return timezone.make_aware(moment)
    day = checks.parse_date(value) if "T" not in value else None
    if day is not None:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))
    return None


class ComplaintChecker(Checker):
    """Checks a row of historical complaints and writes batches of them in bulk."""

    def __init__(self, actor):
        super().__init__(actor)
        self.channels = _choices(Channel.choices)
        self.severities = _choices(Severity.choices)
        self.kinds = _choices(Complaint.Kind.choices)
        self.statuses = _choices(Status.choices)
        self.categories = self._reference(Category.objects.filter(is_active=True))
        self.root_causes = self._reference(RootCause.objects.filter(is_active=True))
        self.customers: dict[str, Customer] = {}
        self.calendar = sla.WorkingCalendar()
        self.policies = {policy.severity: policy for policy in SlaPolicy.objects.all()}

    @staticmethod
    def _reference(queryset) -> dict:
        found = {}
        for item in queryset:
            for label in (item.name_zh, item.name, item.code):
                if label:
                    found[checks.folded(label)] = item
        return found

    def _choice(self, row: Row, cells: dict, column: str, table: dict, default: str = ""):
        if not checks.text(row, cells, column).strip():
            if not default:
                row.add(column, common.REQUIRED)
            return default
        choices = ", ".join(sorted(set(table.values())))
        return checks.coded(row, cells, column, table, BAD_CHOICE, choices=choices) or default

    def _moment(self, row: Row, cells: dict, column: str, now) -> datetime.datetime | None:
        text = checks.text(row, cells, column)
        if not text:
            return None
        moment = parse_moment(text)
        if moment is None:
            row.add(column, BAD_MOMENT)
        elif moment > now:
            row.add(column, IN_THE_FUTURE)
            return None
        return moment

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        from customers.services.cards import clean_phone

        row = Row(line)
        values = row.values
        now = timezone.now()
        values["reference"] = reference = checks.text(row, cells, "reference", max_length=50)
        if not cells.get("reference"):
            row.add("reference", common.REQUIRED)
        elif first_pass and reference:
            self.remember(row, ("reference", reference), "reference")
        values["customer"] = checks.text(row, cells, "customer", max_length=20).upper()
        values["caller_name"] = checks.text(row, cells, "caller_name", max_length=100)
        phone = checks.text(row, cells, "caller_phone", max_length=30)
        values["caller_phone"] = ""
        if phone:
            try:
                values["caller_phone"] = clean_phone(phone, "caller_phone")
            except Exception as exc:  # noqa: BLE001 - its messages, never the value
                for message in getattr(exc, "messages", [common.NOT_SAVED]):
                    row.add("caller_phone", message)
        if not (values["customer"] or values["caller_name"] or phone):
            row.add("customer", NO_CUSTOMER)
        values["kind"] = self._choice(row, cells, "kind", self.kinds, Complaint.Kind.COMPLAINT)
        values["channel"] = self._choice(row, cells, "channel", self.channels)
        values["severity"] = self._choice(row, cells, "severity", self.severities)
        values["status"] = self._choice(row, cells, "status", self.statuses, Status.CLOSED)
        category = checks.text(row, cells, "category")
        values["category"] = self.categories.get(checks.folded(category)) if category else None
        if not category:
            row.add("category", common.REQUIRED)
        elif values["category"] is None:
            row.add("category", UNKNOWN_CATEGORY)
        cause = checks.text(row, cells, "root_cause")
        values["root_cause"] = self.root_causes.get(checks.folded(cause)) if cause else None
        if cause and values["root_cause"] is None:
            row.add("root_cause", UNKNOWN_ROOT_CAUSE)
        values["description"] = checks.text(row, cells, "description", max_length=4000)
        if not cells.get("description"):
            row.add("description", common.REQUIRED)
        values["resolution"] = checks.text(row, cells, "resolution", max_length=4000)
        values["received_at"] = received = self._moment(row, cells, "received_at", now)
        if not cells.get("received_at"):
            row.add("received_at", common.REQUIRED)
        for column in ("resolved_at", "closed_at"):
            values[column] = moment = self._moment(row, cells, column, now)
            if moment is not None and received is not None and moment < received:
                row.add(column, BEFORE_RECEIPT)
        if values["status"] in RESOLVED_OR_LATER and not values["resolution"]:
            row.add("resolution", RESOLUTION_NEEDED)
        score = checks.text(row, cells, "satisfaction")
        values["satisfaction"] = None
        if score:
            if score.isdigit() and 1 <= int(score) <= 5:
                values["satisfaction"] = int(score)
            else:
                row.add("satisfaction", BAD_SCORE)
        return row

    def check_database(self, rows: list[Row]) -> None:
        """References already stored and customer codes unknown: two queries a batch."""
        references = {r.values["reference"] for r in rows if r.values.get("reference")}
        stored = set(
            Complaint.objects.filter(external_reference__in=references).values_list(
                "external_reference", flat=True
            )
        )
        self._customers({r.values["customer"] for r in rows if r.values.get("customer")})
        for row in rows:
            if row.values.get("reference") in stored:
                row.add("reference", ALREADY_IMPORTED)
            code = row.values.get("customer")
            if code and code not in self.customers:
                row.add("customer", UNKNOWN_CUSTOMER)

    def _customers(self, codes: set[str]) -> None:
        wanted = codes - set(self.customers)
        if wanted:
            for customer in Customer.objects.filter(code__in=wanted).exclude(
                status=Customer.Status.MERGED
            ):
                self.customers[customer.code] = customer

    def prepare(self, rows: list[Row]) -> None:
        self._customers({r.values["customer"] for r in rows if r.values.get("customer")})

    def write(self, row: Row) -> None:
        """One row (the job's fallback after a database error in a batch)."""
        self.write_batch([row])  # a refused row keeps its errors; the job reports them

    # --- the bulk path ----------------------------------------------------------------

    def _complaint(self, row: Row) -> Complaint:
        values = row.values
        customer = self.customers.get(values["customer"]) if values["customer"] else None
        status = values["status"]
        received = values["received_at"]
        policy = self.policies.get(values["severity"])
        calendar_hours = bool(policy and policy.calendar_hours)
        first_due = resolution_due = None
        if policy is not None:
            first_due, resolution_due = (
                self.calendar.add(received, hours, calendar_hours=calendar_hours)
                for hours in (policy.first_response_hours, policy.resolution_hours)
            )
        resolved = values["resolved_at"]
        closed = values["closed_at"]
        if status in RESOLVED_OR_LATER:
            resolved = resolved or closed or received
        if status == Status.CLOSED:
            closed = closed or resolved
        complaint = Complaint(
            external_reference=values["reference"],
            kind=values["kind"],
            customer=customer,
            caller_name="" if customer else values["caller_name"],
            caller_phone="" if customer else values["caller_phone"],
            channel=values["channel"],
            category=values["category"],
            severity=values["severity"],
            description=values["description"],
            received_at=received,
            received_by=self.actor,
            status=status,
            first_response_due=first_due,
            resolution_due=resolution_due,
            root_cause=values["root_cause"],
            resolution=values["resolution"],
            satisfaction_score=values["satisfaction"],
        )
        if status != Status.RECEIVED:
            complaint.first_responded_at = received
            complaint.first_response_hours = Decimal("0.00")
        if status in RESOLVED_OR_LATER:
            complaint.resolved_at = resolved
            complaint.resolution_hours = sla.hours_between(
                received, resolved, calendar_hours=calendar_hours, calendar=self.calendar
            )
        if status in (Status.CUSTOMER_INFORMED, Status.CLOSED):
            complaint.customer_informed_at = resolved
        if status == Status.CLOSED:
            complaint.closed_at = closed
        return complaint

    def write_batch(self, rows: list[Row]) -> None:
        """Write a batch of checked rows: a few statements, whatever its size.

        Runs inside the batch's transaction (``crm.imports.jobs``). References are looked
        up again (one query): a complaint imported since the check refuses its row here; one
        being imported elsewhere meets the unique reference, and the job then writes the
        batch row by row.
        """
        if not (self.actor.has_perm(perms.IMPORT) and self.actor.has_perm(perms.ADD)):
            for row in rows:
                row.add("", common.NOT_SAVED)
            return
        self.check_database([row for row in rows if not row.errors])
        ready = [(row, self._complaint(row)) for row in rows if not row.errors]
        if not ready:
            return
        first = bulk.counter_reserve("complaint", len(ready))
        callers = [complaint for _row, complaint in ready if complaint.customer is None]
        caller_keys = iter(encryption.data_keys_create(len(callers)))
        complaints = []
        for offset, (_row, complaint) in enumerate(ready):
            complaint.code = f"CP{first + offset:07d}"
            complaint.data_key_id = (
                complaint.customer.data_key_id if complaint.customer else next(caller_keys)
            )
            complaints.append(complaint)
        self._mark_repeats(complaints)
        bulk.create_with_history(complaints, Complaint, user=self.actor)
        for complaint in complaints:  # a repeat of another row of the batch (rare)
            earlier = getattr(complaint, "_repeat_of_in_batch", None)
            if earlier is not None:
                complaint.repeat_of_id = earlier.pk
                complaint._history_user = self.actor
                complaint.save(update_fields=["repeat_of", "updated_at"])

    def _mark_repeats(self, complaints: list[Complaint]) -> None:
        """Repeat detection as at receipt: another complaint of the customer in the same
        category within the window before it, stored or earlier in this batch (one query).
        A repeat of a complaint of this batch is marked, linked once both are stored."""
        from django.conf import settings

        window = datetime.timedelta(days=settings.COMPLAINTS["REPEAT_DAYS"])
        mine = [c for c in complaints if c.customer_id and c.kind == Complaint.Kind.COMPLAINT]
        if not mine:
            return
        earliest = min(c.received_at for c in mine) - window
        latest = max(c.received_at for c in mine)
        stored = list(
            Complaint.objects.filter(
                customer_id__in={c.customer_id for c in mine},
                category_id__in={c.category_id for c in mine},
                kind=Complaint.Kind.COMPLAINT,
                received_at__gte=earliest,
                received_at__lte=latest,
            ).only("pk", "customer_id", "category_id", "received_at", "code")
        )
        for complaint in mine:
            since = complaint.received_at - window
            earlier = [
                other
                for other in (*stored, *mine)
                if other is not complaint
                and other.customer_id == complaint.customer_id
                and other.category_id == complaint.category_id
                and since <= other.received_at <= complaint.received_at
                and (other.received_at, other.code) < (complaint.received_at, complaint.code)
            ]
            if earlier:
                latest_earlier = max(earlier, key=lambda c: (c.received_at, c.code or ""))
                complaint.is_repeat = True
                if latest_earlier.pk is not None:
                    complaint.repeat_of_id = latest_earlier.pk
                else:  # in this batch: linked once it has its id
                    complaint._repeat_of_in_batch = latest_earlier


def _write_complaints(checker: ComplaintChecker, rows: list[Row]) -> None:
    checker.write_batch(rows)


def register_import_targets() -> None:
    """Historical complaints as an import target (``ComplaintsConfig.ready``)."""
    imports.register(
        imports.ImportTarget(
            key="complaints",
            label=gettext_lazy("Historical complaints"),
            permission=perms.IMPORT,
            columns=COLUMNS,
            checker=ComplaintChecker,
            batch_writer=_write_complaints,
            audit_action=events.COMPLAINTS_IMPORTED,
            order=60,
        )
    )
