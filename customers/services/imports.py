"""Importing customers and contacts from CSV and XLSX files (DESIGN §7 "Import/export").

An upload is stored encrypted (``crm.encrypted_files``) and read back as a stream, so a file
of any length is handled one row at a time. A background job then makes two passes:

1. *Check*: every row is validated with the service-layer validators; duplicates inside the
   file are found through a dict of blind indexes, duplicates against the database through
   batched blind-index look-ups. Each problem is reported by line and column, never with the
   cell's value (that is personal data).
2. *Import* (unless a dry run, or the file has errors and the mode is all-or-nothing): the
   valid rows are created through ``customer_create`` / ``contact_save`` in batches, each batch
   in a transaction; a row that fails at that point is reported like a checking error.

Line numbers are those a spreadsheet shows: the header is line 1 and blank lines count.
Errors are stored with English message templates (and their parameters) so that pages and
the API can show them in the reader's language (``import_error_rows``).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime
import io
import itertools
import logging
import os
import re
import shutil
import tempfile
import traceback
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import record_event
from crm import search_index
from crm.blind_index import blind_index
from crm.encrypted_files import delete_encrypted, open_decrypted, store_encrypted
from crm.ids import is_object_id
from crm.models import User
from customers import events, search
from customers import permissions as perms
from customers.models import (
    BusinessType,
    Contact,
    Customer,
    IdentityDocument,
    ImportJob,
    Tier,
)
from customers.selectors import customer_list
from customers.services.cards import (
    DocumentInput,
    clean_document_number,
    clean_phone,
    customer_create,
    document_index,
    owner_check,
)
from customers.services.records import contact_save

logger = logging.getLogger(__name__)

CSV_EXTENSIONS = (".csv", ".txt")
XLSX_EXTENSIONS = (".xlsx",)
LOOKUP_BATCH = 500  # rows per database look-up of duplicates and customer codes
WRITE_BATCH = 200  # rows per transaction when importing
PROGRESS_EVERY = 200  # rows between two progress updates
XLSX_IN_MEMORY = 64 * 1024 * 1024  # a decrypted workbook above this spills to an unnamed file
RUNNING = (ImportJob.Status.PENDING, ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING)
FINISHED = (
    ImportJob.Status.CHECKED,
    ImportJob.Status.REJECTED,
    ImportJob.Status.DONE,
    ImportJob.Status.FAILED,
)

# --- messages (English templates, translated when shown) ----------------------------------

REQUIRED = gettext_noop("This field is required.")
TOO_LONG = gettext_noop("This value is too long (at most %(limit)s characters).")
BAD_KIND = gettext_noop("Enter organisation (机构) or individual (个人).")
BAD_EMAIL = gettext_noop("Enter a valid e-mail address.")
BAD_DATE = gettext_noop("Enter a date as YYYY-MM-DD.")
FUTURE_BIRTH_DATE = gettext_noop("The birth date is in the future.")
MINOR = gettext_noop(
    "A minor's card needs a guardian and the guardian's consent: create it on the customer "
    "card instead of importing it."
)
BAD_ID_TYPE = gettext_noop(
    "Unknown document type; use resident_id (居民身份证), passport (护照), social_credit_code "
    "(统一社会信用代码), business_licence (营业执照) or other (其他)."
)
ID_NUMBER_MISSING = gettext_noop("A document type is given without a document number.")
UNKNOWN_BUSINESS_TYPE = gettext_noop(
    "Unknown business type; use a code or a name from the list of business types."
)
UNKNOWN_TIER = gettext_noop("Unknown tier; use a code or a name from the list of tiers.")
UNKNOWN_OWNER = gettext_noop("There is no active user with this user name.")
NO_IDENTIFIER = gettext_noop(
    "Give a phone, an e-mail or an ID number, so that the customer is recognised when the "
    "file is imported again."
)
NO_CONTACT_IDENTIFIER = gettext_noop(
    "Give a phone or an e-mail, so that the contact is recognised when the file is imported again."
)
SAME_IN_FILE = gettext_noop("The same value is already on line %(line)s of this file.")
EXISTS_VISIBLE = gettext_noop("This customer already exists: %(code)s.")
EXISTS_HIDDEN = gettext_noop("This customer already exists and is held by another team.")
CONTACT_EXISTS = gettext_noop("This customer already has a contact with this value.")
UNKNOWN_CUSTOMER = gettext_noop("There is no customer with this code that you may change.")
BAD_BOOLEAN = gettext_noop("Enter yes or no (是/否).")
SECOND_PRIMARY = gettext_noop(
    "Line %(line)s already makes another contact the primary contact of this customer."
)
UNKNOWN_COLUMN = gettext_noop("Unknown column; rename its header or delete the column.")
REPEATED_COLUMN = gettext_noop("This column appears more than once.")
MISSING_COLUMN = gettext_noop("The file has no such column, and it is required.")
NO_ROWS = gettext_noop("The file has no rows to import.")
NOT_TEXT = gettext_noop(
    "The file is neither UTF-8 nor GB18030 text; save it from Excel as CSV (UTF-8) or XLSX."
)
BAD_CSV = gettext_noop("The file cannot be read as CSV from this line on.")
BAD_XLSX = gettext_noop("The file is not a valid XLSX workbook.")
NOT_SAVED = gettext_noop("The row could not be saved.")
CRASHED = gettext_noop(
    "The import stopped because of an internal error; nothing more was written. Please try "
    "again or tell an administrator."
)
STALLED = gettext_noop(
    "The import stopped answering (its worker may have been restarted) and was closed. "
    "Nothing more will be written; import the file again."
)
INTERRUPTED = gettext_noop(
    "The import was interrupted while writing; the rows already written stay. Import the "
    "file again: those rows will be reported as duplicates."
)


class ImportFileError(Exception):
    """The file as a whole cannot be read; the job is rejected with this message."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line


def _error(line: int, column: str, message: str, /, **params) -> dict:
    entry = {"line": line, "column": column, "message": message}
    if params:
        entry["params"] = params
    return entry


def import_error_rows(errors: list[dict]) -> list[dict]:
    """The stored errors as ``{"line", "column", "message"}`` in the active language."""
    rows = []
    for entry in errors:
        message = entry.get("message") or ""
        message = _(message) if message else ""
        params = entry.get("params")
        if params:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                message = message % params
        rows.append({"line": entry.get("line"), "column": entry.get("column"), "message": message})
    return rows


# --- columns ------------------------------------------------------------------------------


def normalise_header(text: object) -> str:
    """``"手机 *"`` → ``"手机"``, ``"E-mail"`` → ``"e_mail"``, full-width forms folded."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text))
    value = value.replace("\ufeff", "").strip().rstrip("*").strip().lower()
    return re.sub(r"[\s\-]+", "_", value)


@dataclass(frozen=True)
class Column:
    key: str
    aliases: tuple[str, ...] = ()
    required: bool = False


_PHONE_ALIASES = ("手机", "手机号", "手机号码", "电话", "联系电话", "mobile")
_EMAIL_ALIASES = ("邮箱", "电子邮箱", "电子邮件", "e_mail", "mail")
CUSTOMER_COLUMNS = (
    Column("name", ("名称", "客户名称", "姓名"), required=True),
    Column("kind", ("类型", "客户类型"), required=True),
    Column("phone", _PHONE_ALIASES),
    Column("email", _EMAIL_ALIASES),
    Column("address", ("地址",)),
    Column("id_type", ("证件类型",)),
    Column("id_number", ("证件号码", "证件号", "身份证号")),
    Column("business_type", ("业种", "行业"), required=True),
    Column("tier", ("等级", "客户等级")),
    Column("owner", ("负责人",)),
    Column("birth_date", ("出生日期",)),
)
CONTACT_COLUMNS = (
    Column("customer_code", ("客户编号", "客户代码"), required=True),
    Column("name", ("姓名", "名称"), required=True),
    Column("phone", _PHONE_ALIASES),
    Column("email", _EMAIL_ALIASES),
    Column("role", ("角色", "职务")),
    Column("is_primary", ("主要联系人",)),
)
COLUMNS = {ImportJob.Target.CUSTOMERS: CUSTOMER_COLUMNS, ImportJob.Target.CONTACTS: CONTACT_COLUMNS}


@dataclass
class Header:
    """Which cell of a row holds which column."""

    positions: dict[str, int]
    errors: list[dict]
    fatal: bool


def column_letter(index: int) -> str:
    """The spreadsheet name of the column at ``index`` (0 → "A", 26 → "AA")."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def read_header(target: str, line: int, cells: list) -> Header:
    columns = COLUMNS[target]
    lookup = {}
    for column in columns:
        for alias in (column.key, *column.aliases):
            lookup[normalise_header(alias)] = column.key
    positions: dict[str, int] = {}
    errors: list[dict] = []
    for index, cell in enumerate(cells):
        title = "" if cell is None else str(cell).strip()
        if not title:
            continue
        key = lookup.get(normalise_header(title))
        if key is None:
            # Named by its letter, not its text: in a file without a header row the "title"
            # is a customer's data.
            errors.append(_error(line, column_letter(index), UNKNOWN_COLUMN))
        elif key in positions:
            errors.append(_error(line, key, REPEATED_COLUMN))
        else:
            positions[key] = index
    missing = [c.key for c in columns if c.required and c.key not in positions]
    errors.extend(_error(line, key, MISSING_COLUMN) for key in missing)
    return Header(
        positions,
        errors,
        fatal=bool(missing) or any(e["message"] == REPEATED_COLUMN for e in errors),
    )


def cell_text(value: object) -> str:
    """A cell as trimmed text; XLSX numbers and dates as a person would type them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


# --- reading the stored file --------------------------------------------------------------


def _is_blank(cells: list) -> bool:
    return all(cell_text(cell) == "" for cell in cells)


class CsvSource:
    """Rows of a stored CSV file; each ``rows()`` call streams the file again."""

    def __init__(self, stored_file: str):
        self.stored_file = stored_file
        self.encoding, self.delimiter, self.data_rows = self._scan()

    def _text(self, encoding: str) -> io.TextIOWrapper:
        raw = io.BufferedReader(open_decrypted(self.stored_file))
        return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")

    def _scan(self) -> tuple[str, str, int]:
        """Detect the encoding (BOM, else strict UTF-8, else GB18030) and count data rows."""
        with open_decrypted(self.stored_file) as raw:
            head = raw.read(4) or b""
        if head.startswith(codecs.BOM_UTF8):
            candidates = ["utf-8-sig"]
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            candidates = ["utf-16"]
        else:
            candidates = ["utf-8", "gb18030"]
        for encoding in candidates:
            try:
                with self._text(encoding) as text:
                    first = text.readline()
                    delimiter = max(",\t;", key=first.count) if first.strip() else ","
                    reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
                    count = sum(1 for cells in reader if not _is_blank(cells))
            except UnicodeDecodeError:
                continue
            except csv.Error:
                break  # the pass that checks rows reports the line
            return encoding, delimiter, max(count - 1, 0)
        else:
            raise ImportFileError(NOT_TEXT)
        return encoding, delimiter, 0

    def rows(self) -> Iterator[tuple[int, list]]:
        with self._text(self.encoding) as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            line = 0
            try:
                for line, cells in enumerate(reader, start=1):  # noqa: B007 (used below)
                    yield line, cells
            except csv.Error as exc:
                raise ImportFileError(BAD_CSV, line + 1) from exc

    def close(self) -> None:
        pass


class XlsxSource:
    """Rows of the first sheet of a stored workbook (read-only mode).

    openpyxl needs a seekable file: the workbook is decrypted into memory, or into an unnamed
    temporary file (gone when closed) when it is very large; never into a named file in clear.
    """

    encoding = ""

    def __init__(self, stored_file: str):
        self._file = tempfile.SpooledTemporaryFile(max_size=XLSX_IN_MEMORY)  # noqa: SIM115
        try:
            with open_decrypted(stored_file) as raw:
                shutil.copyfileobj(raw, self._file, 1024 * 1024)
            self.data_rows = max(self._dimension_rows() - 1, 0)  # an estimate, for progress
        except BaseException:
            self._file.close()
            raise

    def _workbook(self):
        from openpyxl import load_workbook

        self._file.seek(0)
        try:
            return load_workbook(self._file, read_only=True, data_only=True)
        except Exception as exc:  # zipfile, XML and openpyxl errors alike: not a workbook
            raise ImportFileError(BAD_XLSX) from exc

    def _dimension_rows(self) -> int:
        workbook = self._workbook()
        try:
            return workbook.worksheets[0].max_row or 0 if workbook.worksheets else 0
        finally:
            workbook.close()

    def rows(self) -> Iterator[tuple[int, list]]:
        workbook = self._workbook()
        try:
            if not workbook.worksheets:
                return
            sheet = workbook.worksheets[0]
            for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield line, list(cells)
        finally:
            workbook.close()

    def close(self) -> None:
        self._file.close()


def open_source(job: ImportJob) -> CsvSource | XlsxSource:
    if job.file_name.lower().endswith(XLSX_EXTENSIONS):
        return XlsxSource(job.stored_file)
    return CsvSource(job.stored_file)


def _records(source, target: str) -> Iterator[tuple[int, dict | Header]]:
    """The header (first non-blank row) as a ``Header``, then each non-blank row as a dict."""
    header = None
    rows = source.rows()
    try:
        for line, cells in rows:
            if _is_blank(cells):
                continue
            if header is None:
                header = read_header(target, line, cells)
                yield line, header
                if header.fatal:
                    return
                continue
            yield (
                line,
                {
                    key: cell_text(cells[index]) if index < len(cells) else ""
                    for key, index in header.positions.items()
                },
            )
    finally:
        rows.close()


# --- checking rows ------------------------------------------------------------------------


@dataclass
class Row:
    line: int
    values: dict = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (column, blind index)

    def add(self, column: str, message: str, /, **params) -> None:
        self.errors.append(_error(self.line, column, message, **params))


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def _text_field(row: Row, cells: dict, column: str, model, model_field: str = "") -> str:
    value = cells.get(column, "")
    limit = _max_length(model, model_field or column)
    if limit and len(value) > limit:
        row.add(column, TOO_LONG, limit=limit)
    return value


def _email(row: Row, value: str) -> str:
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        row.add("email", BAD_EMAIL)
    return value


def _phone(row: Row, value: str) -> str:
    try:
        return clean_phone(value, "phone")
    except ValidationError as exc:
        for message in exc.message_dict.get("phone", exc.messages):
            row.add("phone", message)
        return ""


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def parse_date(text: str) -> datetime.date | None:
    text = text.strip()
    if "T" in text:  # an XLSX date-time
        text = text.split("T", 1)[0]
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


_TRUE = {"1", "true", "yes", "y", "是", "√", "✓", "t"}
_FALSE = {"", "0", "false", "no", "n", "否", "f"}


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _aliases(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """``{value: (alias, …)}`` → ``{folded alias or value: value}``."""
    return {_folded(alias): value for value, names in table.items() for alias in (value, *names)}


class Checker:
    """Checks rows of one target: the per-row rules, then duplicates by batch."""

    def __init__(self, actor: User):
        self.actor = actor
        self.seen: dict[tuple, int] = {}  # in-file keys → first line

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        raise NotImplementedError

    def check_database(self, rows: list[Row]) -> None:
        raise NotImplementedError

    def prepare(self, rows: list[Row]) -> None:
        """Fetch what writing these rows needs, in one go (before the batch is written)."""

    def write(self, row: Row) -> None:
        raise NotImplementedError

    def _remember(self, row: Row, key: tuple, column: str) -> None:
        first = self.seen.setdefault(key, row.line)
        if first != row.line:
            row.add(column, SAME_IN_FILE, line=first)


class CustomerChecker(Checker):
    KINDS = _aliases(
        {
            Customer.Kind.ORGANISATION: (
                "organization",
                "org",
                "company",
                "机构",
                "企业",
                "单位",
                "公司",
                "组织",
            ),
            Customer.Kind.INDIVIDUAL: ("person", "personal", "个人", "自然人"),
        }
    )
    ID_TYPES = _aliases(
        {
            IdentityDocument.Type.RESIDENT_ID: ("居民身份证", "身份证"),
            IdentityDocument.Type.PASSPORT: ("护照",),
            IdentityDocument.Type.SOCIAL_CREDIT_CODE: ("统一社会信用代码", "信用代码"),
            IdentityDocument.Type.BUSINESS_LICENCE: ("business_license", "营业执照"),
            IdentityDocument.Type.OTHER: ("其他",),
        }
    )

    def __init__(self, actor: User):
        super().__init__(actor)
        self.business_types = self._reference(BusinessType.objects.filter(is_active=True))
        self.tiers = self._reference(Tier.objects.filter(is_active=True))
        self.owners: dict[str, tuple[User | None, str]] = {}

    @staticmethod
    def _reference(queryset: QuerySet) -> dict:
        found = {}
        for item in queryset:
            for label in (item.name_zh, item.name, item.code):
                if label:
                    found[_folded(label)] = item
        return found

    def _owner(self, username: str) -> tuple[User | None, str]:
        """The owner named in the file and the error message, if any (cached per name)."""
        if username not in self.owners:
            owner = (
                User.objects.select_related("team")
                .filter(username=username, is_active=True)
                .first()
            )
            message = UNKNOWN_OWNER if owner is None else ""
            if owner is not None:
                try:
                    owner_check(self.actor, owner, owner.team)
                except PermissionDenied as exc:
                    message = str(exc)
            self.owners[username] = (owner, message)
        return self.owners[username]

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        row = Row(line)
        values = row.values
        values["name"] = _text_field(row, cells, "name", Customer)
        if not values["name"]:
            row.add("name", REQUIRED)
        kind_text = cells.get("kind", "")
        values["kind"] = self.KINDS.get(_folded(kind_text), "")
        if not kind_text:
            row.add("kind", REQUIRED)
        elif not values["kind"]:
            row.add("kind", BAD_KIND)
        values["phone"] = _phone(row, cells.get("phone", ""))
        values["email"] = _email(row, _text_field(row, cells, "email", Customer))
        values["address"] = _text_field(row, cells, "address", Customer)

        number = cells.get("id_number", "")
        type_text = cells.get("id_type", "")
        doc_type = self.ID_TYPES.get(_folded(type_text), "") if type_text else ""
        if type_text and not doc_type:
            row.add("id_type", BAD_ID_TYPE)
        elif not type_text and number:
            doc_type = (
                IdentityDocument.Type.SOCIAL_CREDIT_CODE
                if values["kind"] == Customer.Kind.ORGANISATION
                else IdentityDocument.Type.RESIDENT_ID
            )
        if type_text and not number:
            row.add("id_number", ID_NUMBER_MISSING)
        values["id_type"], values["id_number"] = doc_type, ""
        if number and doc_type:
            try:
                values["id_number"] = clean_document_number(doc_type, number, "id_number")
            except ValidationError as exc:
                for message in exc.message_dict.get("id_number", exc.messages):
                    row.add("id_number", message)

        business_text = cells.get("business_type", "")
        values["business_type"] = self.business_types.get(_folded(business_text))
        if not business_text:
            row.add("business_type", REQUIRED)
        elif values["business_type"] is None:
            row.add("business_type", UNKNOWN_BUSINESS_TYPE)
        tier_text = cells.get("tier", "")
        values["tier"] = self.tiers.get(_folded(tier_text)) if tier_text else None
        if tier_text and values["tier"] is None:
            row.add("tier", UNKNOWN_TIER)
        values["owner"] = None
        if cells.get("owner"):
            values["owner"], message = self._owner(cells["owner"])
            if message:
                row.add("owner", message)

        values["birth_date"] = None
        if cells.get("birth_date"):
            born = parse_date(cells["birth_date"])
            if born is None:
                row.add("birth_date", BAD_DATE)
            elif born > timezone.localdate():
                row.add("birth_date", FUTURE_BIRTH_DATE)
            else:
                values["birth_date"] = born
                probe = Customer(kind=values["kind"] or Customer.Kind.INDIVIDUAL, birth_date=born)
                if probe.is_minor:
                    row.add("birth_date", MINOR)

        if not (cells.get("phone") or cells.get("email") or number):
            row.add("phone", NO_IDENTIFIER)
        for column, index in (
            ("phone", blind_index("phone", values["phone"])),
            ("email", blind_index("email", values["email"])),
            ("id_number", document_index(values["id_number"]) if values["id_number"] else ""),
        ):
            if index:
                row.keys.append((column, index))
                if first_pass:
                    self._remember(row, (column, index), column)
        return row

    def check_database(self, rows: list[Row]) -> None:
        wanted: dict[str, set[str]] = {"phone": set(), "email": set(), "id_number": set()}
        for row in rows:
            for column, index in row.keys:
                wanted[column].add(index)
        live = Customer.objects.exclude(status=Customer.Status.MERGED)
        holders: dict[tuple[str, str], int] = {}
        # The digests are looked up in the keys database, then the rows by id.
        for column, kind in (("phone", search.CUSTOMER_PHONE), ("email", search.CUSTOMER_EMAIL)):
            found = search_index.ids_by_digest(kind, wanted[column])
            alive = set(live.filter(pk__in={pk for pk, _d in found}).values_list("pk", flat=True))
            for pk, index in sorted(found):
                if pk in alive:
                    holders.setdefault((column, index), pk)
        found = search_index.ids_by_digest(search.DOCUMENT_NUMBER, wanted["id_number"])
        if found:
            documents = dict(
                IdentityDocument.objects.filter(pk__in={pk for pk, _d in found})
                .exclude(customer__status=Customer.Status.MERGED)
                .values_list("pk", "customer_id")
            )
            for pk, index in sorted(found):
                if pk in documents:
                    holders.setdefault(("id_number", index), documents[pk])
        if not holders:
            return
        visible = dict(
            perms.visible_customers(
                self.actor, Customer.objects.filter(pk__in=set(holders.values()))
            ).values_list("pk", "code")
        )
        for row in rows:
            for column, index in row.keys:
                pk = holders.get((column, index))
                if pk is None:
                    continue
                if pk in visible:
                    row.add(column, EXISTS_VISIBLE, code=visible[pk])
                else:
                    row.add(column, EXISTS_HIDDEN)

    def write(self, row: Row) -> None:
        values = row.values
        documents = (
            [DocumentInput(values["id_type"], values["id_number"])] if values["id_number"] else []
        )
        card = {
            key: values[key]
            for key in ("phone", "email", "address", "birth_date")
            if values[key] not in ("", None)
        }
        customer_create(
            actor=self.actor,
            kind=values["kind"],
            name=values["name"],
            business_type=values["business_type"],
            owner=values["owner"],
            tier=values["tier"],
            documents=documents,
            audit=False,
            **card,
        )


class ContactChecker(Checker):
    def __init__(self, actor: User):
        super().__init__(actor)
        self.primary_lines: dict[str, int] = {}

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        row = Row(line)
        values = row.values
        values["customer_code"] = cells.get("customer_code", "")
        if not values["customer_code"]:
            row.add("customer_code", REQUIRED)
        values["name"] = _text_field(row, cells, "name", Contact)
        if not values["name"]:
            row.add("name", REQUIRED)
        values["phone"] = _phone(row, cells.get("phone", ""))
        values["email"] = _email(row, _text_field(row, cells, "email", Contact))
        values["role"] = _text_field(row, cells, "role", Contact)
        primary = _folded(cells.get("is_primary", ""))
        values["is_primary"] = primary in _TRUE
        if primary not in _TRUE | _FALSE:
            row.add("is_primary", BAD_BOOLEAN)
        if not (cells.get("phone") or cells.get("email")):
            row.add("phone", NO_CONTACT_IDENTIFIER)
        code = values["customer_code"]
        for column, value in (("phone", values["phone"]), ("email", values["email"])):
            index = blind_index(column, value) if value else ""
            if index and code:
                row.keys.append((column, index))
                if first_pass:
                    self._remember(row, (code, column, index), column)
        if first_pass and values["is_primary"] and code:
            first = self.primary_lines.setdefault(code, line)
            if first != line:
                row.add("is_primary", SECOND_PRIMARY, line=first)
        return row

    def customers_by_code(self, codes: set[str]) -> dict[str, Customer]:
        """The customers with these codes that the importer may change (one query)."""
        found = customer_list(user=self.actor).filter(code__in=codes)
        return {c.code: c for c in found if perms.can_change(self.actor, c)}

    def check_database(self, rows: list[Row]) -> None:
        codes = {row.values["customer_code"] for row in rows if row.values["customer_code"]}
        if not codes:
            return
        customers = self.customers_by_code(codes)
        phones = {index for row in rows for column, index in row.keys if column == "phone"}
        emails = {index for row in rows for column, index in row.keys if column == "email"}
        existing: set[tuple[str, str, str]] = set()
        if customers and (phones or emails):
            found = [
                (column, pk, index)
                for column, kind, digests in (
                    ("phone", search.CONTACT_PHONE, phones),
                    ("email", search.CONTACT_EMAIL, emails),
                )
                for pk, index in search_index.ids_by_digest(kind, digests)
            ]
            codes = dict(
                Contact.objects.filter(
                    pk__in={pk for _c, pk, _i in found}, customer__code__in=set(customers)
                ).values_list("pk", "customer__code")
            )
            for column, pk, index in found:
                if pk in codes:
                    existing.add((codes[pk], column, index))
        for row in rows:
            code = row.values["customer_code"]
            if not code:
                continue
            if code not in customers:
                row.add("customer_code", UNKNOWN_CUSTOMER)
                continue
            for column, index in row.keys:
                if (code, column, index) in existing:
                    row.add(column, CONTACT_EXISTS)

    def prepare(self, rows: list[Row]) -> None:
        self.batch_customers = self.customers_by_code({r.values["customer_code"] for r in rows})

    def write(self, row: Row) -> None:
        values = row.values
        customer = self.batch_customers.get(values["customer_code"])
        if customer is None:  # it left the importer's reach since the check
            raise Http404
        contact_save(
            actor=self.actor,
            customer=customer,
            name=values["name"],
            phone=values["phone"],
            email=values["email"],
            role=values["role"],
            is_primary=values["is_primary"],
            audit=False,  # the job records one event with the counts
        )


# --- the job ------------------------------------------------------------------------------


def _extension(name: str) -> str:
    return os.path.splitext(name)[1].lower()


@transaction.atomic
def import_job_create(
    *,
    actor: User,
    upload,
    target: str,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    dry_run: bool = False,
) -> ImportJob:
    """Store the upload encrypted, create the job and queue it once the job is committed."""
    from customers.tasks import import_job_run_task

    if not actor.has_perm(perms.IMPORT):
        raise PermissionDenied(_("You are not allowed to import customers."))
    errors: dict[str, list[str]] = {}
    if target not in ImportJob.Target.values:
        errors["target"] = [_("Choose customers or contacts.")]
    if mode not in ImportJob.Mode.values:
        errors["mode"] = [_("Choose how to treat rows with errors.")]
    name = os.path.basename(getattr(upload, "name", "") or "").strip()
    if upload is None or not name:
        errors["file"] = [_("Choose a file.")]
    elif _extension(name) not in CSV_EXTENSIONS + XLSX_EXTENSIONS:
        errors["file"] = [_("Upload a CSV or XLSX file.")]
    elif not getattr(upload, "size", 0):
        errors["file"] = [_("The file is empty.")]
    if errors:
        raise ValidationError(errors)
    creates = "customer" if target == ImportJob.Target.CUSTOMERS else "contact"
    if not actor.has_perm(f"customers.add_{creates}"):
        raise PermissionDenied(_("You are not allowed to create these records."))
    if _extension(name) in XLSX_EXTENSIONS:
        upload.seek(0)
        if upload.read(4) != b"PK\x03\x04":
            raise ValidationError({"file": [_(BAD_XLSX)]})
    upload.seek(0)
    stored = store_encrypted(upload)
    try:
        job = ImportJob(
            target=target,
            mode=mode,
            dry_run=bool(dry_run),
            file_name=name[:255],
            stored_file=stored,
            created_by=actor,
        )
        job._history_user = actor
        job.save()
    except BaseException:
        delete_encrypted(stored)
        raise
    job_id = job.pk
    transaction.on_commit(lambda: import_job_run_task.delay(job_id))
    return job


def _progress(job: ImportJob, **counters) -> None:
    # Counters only, many times per job: a plain UPDATE, so history keeps the status changes
    # and not every tick; pages polling the job read it from the row.
    for name, value in counters.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now(), **counters)


def _save_job(job: ImportJob, *fields: str) -> None:
    job._history_user = job.created_by
    job.save(update_fields=[*fields, "updated_at"])


def _finish(job: ImportJob, status: str, errors: list[dict]) -> None:
    job.status = status
    order = {column.key: i for i, column in enumerate(COLUMNS.get(job.target, ()))}
    job.errors = sorted(errors, key=lambda e: (e["line"], order.get(e["column"], len(order))))
    job.finished_at = timezone.now()
    _save_job(
        job,
        "status",
        "errors",
        "finished_at",
        "encoding",
        "rows_total",
        "rows_processed",
        "rows_valid",
        "rows_invalid",
        "rows_imported",
    )
    record_event(
        action=events.CUSTOMERS_IMPORTED,
        actor=job.created_by,
        obj=job,
        data={
            "target": job.target,
            "mode": job.mode,
            "dry_run": job.dry_run,
            "status": job.status,
            "rows": job.rows_total,
            "valid": job.rows_valid,
            "invalid": job.rows_invalid,
            "imported": job.rows_imported,
            "errors": len(job.errors),
        },
    )


def _check_pass(job: ImportJob, source, checker: Checker) -> tuple[list[dict], set[int], bool]:
    """Pass 1. Returns the errors, the lines with errors, and whether the header is unusable."""
    errors: list[dict] = []
    invalid_lines: set[int] = set()
    pending: list[Row] = []
    processed = valid = invalid = 0

    def flush():
        nonlocal valid, invalid
        checker.check_database(pending)
        for row in pending:
            if row.errors:
                errors.extend(row.errors)
                invalid_lines.add(row.line)
                invalid += 1
            else:
                valid += 1
        pending.clear()

    header_seen = False
    for line, record in _records(source, job.target):
        if isinstance(record, Header):
            header_seen = True
            errors.extend(record.errors)
            if record.fatal:
                return errors, invalid_lines, True
            continue
        pending.append(checker.check(line, record))
        processed += 1
        if len(pending) >= LOOKUP_BATCH:
            flush()
        if processed % PROGRESS_EVERY == 0:
            _progress(job, rows_processed=processed, rows_total=max(job.rows_total, processed))
    flush()
    job.rows_total = job.rows_processed = processed
    job.rows_valid, job.rows_invalid = valid, invalid
    if not processed:
        errors.append(_error(1 if header_seen else 0, "", NO_ROWS))
        return errors, invalid_lines, True
    return errors, invalid_lines, False


def _import_pass(job: ImportJob, source, checker: Checker, invalid_lines: set[int]) -> list:
    """Pass 2: create the valid rows in batches. Returns the errors of rows that failed."""
    errors: list[dict] = []
    batch: list[Row] = []
    imported = 0

    def write_batch():
        nonlocal imported
        checker.prepare(batch)
        # The rows' search digests (keys database) commit after the batch, or not at all.
        with search_index.atomic():
            for row in batch:
                try:
                    with transaction.atomic():
                        checker.write(row)
                except ValidationError as exc:
                    details = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
                    for column, messages in details.items():
                        for message in messages:
                            row.add(_column_of(column), message)
                except Http404:
                    row.add("customer_code", UNKNOWN_CUSTOMER)
                except PermissionDenied as exc:
                    row.add("", str(exc) or NOT_SAVED)
                except DatabaseError:
                    logger.warning("import job %s: line %s could not be saved", job.pk, row.line)
                    row.add("", NOT_SAVED)
                if row.errors:
                    errors.extend(row.errors)
                else:
                    imported += 1
        batch.clear()
        _progress(job, rows_imported=imported)

    for line, record in _records(source, job.target):
        if isinstance(record, Header) or line in invalid_lines:
            continue
        row = checker.check(line, record, first_pass=False)
        if row.errors:  # cannot happen unless the file changed under us; never write it
            errors.extend(row.errors)
            continue
        batch.append(row)
        if len(batch) >= WRITE_BATCH:
            write_batch()
    if batch:
        write_batch()
    failed_lines = {e["line"] for e in errors}
    job.rows_imported = imported
    job.rows_valid -= len(failed_lines)
    job.rows_invalid += len(failed_lines)
    return errors


_COLUMN_OF = {"identity_documents": "id_number", "documents": "id_number"}


def _column_of(field_name: str) -> str:
    if field_name.startswith("documents["):
        return "id_number"
    if field_name == "__all__":
        return ""
    return _COLUMN_OF.get(field_name, field_name)


def _run(job: ImportJob) -> None:
    job.status = ImportJob.Status.CHECKING
    _save_job(job, "status")
    actor = job.created_by
    checker = (
        CustomerChecker(actor)
        if job.target == ImportJob.Target.CUSTOMERS
        else ContactChecker(actor)
    )
    try:
        source = open_source(job)
    except ImportFileError as exc:
        _finish(job, _refused(job), [_error(exc.line, "", exc.message)])
        return
    try:
        job.encoding = source.encoding
        _progress(job, encoding=source.encoding, rows_total=source.data_rows)
        try:
            errors, invalid_lines, unusable = _check_pass(job, source, checker)
        except ImportFileError as exc:
            _finish(job, _refused(job), [_error(exc.line, "", exc.message)])
            return
        if unusable or job.dry_run:
            _finish(job, _refused(job) if unusable else ImportJob.Status.CHECKED, errors)
            return
        if (errors and job.mode == ImportJob.Mode.ALL_OR_NOTHING) or not job.rows_valid:
            _finish(job, ImportJob.Status.REJECTED, errors)
            return
        job.status = ImportJob.Status.IMPORTING
        _save_job(job, "status", "rows_total", "rows_processed", "rows_valid", "rows_invalid")
        errors += _import_pass(job, source, checker, invalid_lines)
        _finish(job, ImportJob.Status.DONE, errors)
    finally:
        source.close()


def _refused(job: ImportJob) -> str:
    return ImportJob.Status.CHECKED if job.dry_run else ImportJob.Status.REJECTED


def import_job_run(*, job_id: int) -> str:
    """Check, then import, the job's file (the Celery task body). Returns the final status.

    Never leaves the job running: an unexpected error ends it FAILED with a message, and a
    job found half-imported (its worker died) is closed as FAILED too. The encrypted upload
    is deleted at the end in every case.
    """
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        return "missing"
    if job.status in FINISHED:
        return job.status
    with translation.override("en"):  # messages are stored in English, shown translated
        if job.status == ImportJob.Status.IMPORTING:
            _finish(job, ImportJob.Status.FAILED, [*job.errors, _error(0, "", INTERRUPTED)])
            _discard_upload(job)
            return job.status
        try:
            _run(job)
        except Exception as exc:
            # Only the type and the frames: an exception's text may quote a cell's value.
            logger.error(
                "import job %s failed: %s\n%s",
                job.pk,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            job.refresh_from_db(fields=["rows_processed", "rows_imported", "rows_total"])
            _finish(job, ImportJob.Status.FAILED, [_error(0, "", CRASHED)])
        finally:
            _discard_upload(job)
    return job.status


def _discard_upload(job: ImportJob) -> None:
    if job.stored_file:
        delete_encrypted(job.stored_file)
        job.stored_file = ""
        ImportJob.objects.filter(pk=job.pk).update(stored_file="")


def import_jobs_clean_up(*, stale_after: datetime.timedelta = datetime.timedelta(hours=6)) -> dict:
    """Close jobs that stopped moving and delete uploads no job will read (daily job).

    A job whose worker died, or whose task never reached a worker, would otherwise stay
    "running" for ever with its encrypted upload on disk.
    """
    from django.conf import settings

    from crm.encrypted_files import stale_encrypted

    cutoff = timezone.now() - stale_after
    closed = 0
    for job in ImportJob.objects.filter(status__in=RUNNING, updated_at__lt=cutoff).select_related(
        "created_by"
    ):
        with translation.override("en"):
            _finish(job, ImportJob.Status.FAILED, [*job.errors, _error(0, "", STALLED)])
        _discard_upload(job)
        closed += 1
    seconds = stale_after.total_seconds()
    referenced = set(
        ImportJob.objects.exclude(stored_file="").values_list("stored_file", flat=True)
    )
    deleted = 0
    for name in stale_encrypted(older_than_seconds=seconds):
        if name not in referenced and delete_encrypted(name):
            deleted += 1
    spool = settings.FILE_UPLOAD_TEMP_DIR or Path(settings.CRM_UPLOAD_DIR) / "incoming"
    for name in stale_encrypted(older_than_seconds=seconds, directory=spool):
        deleted += delete_encrypted(name, directory=spool)
    return {"jobs_closed": closed, "files_deleted": deleted}


# --- reads for the pages and the API ------------------------------------------------------


def import_job_list(*, user) -> QuerySet:
    """The jobs a user may see: their own, or every job with ``view_all_customers``."""
    jobs = ImportJob.objects.select_related("created_by")
    if not user.is_authenticated or not user.has_perm("customers.view_importjob"):
        return jobs.none()
    if user.has_perm(perms.VIEW_ALL):
        return jobs
    return jobs.filter(created_by=user)


def import_job_get(*, user, job_id) -> ImportJob:
    """One job the user may see, else 404 (missing and forbidden alike)."""
    job = import_job_list(user=user).filter(pk=job_id).first() if is_object_id(job_id) else None
    if job is None:
        raise Http404("No such import.")
    return job


def import_job_progress(job: ImportJob) -> int:
    """Percent done: checking counts for the first half of a real import, writing the rest."""
    if job.status in FINISHED:
        return 100
    checked = job.rows_processed / job.rows_total if job.rows_total else 0.0
    if job.status == ImportJob.Status.IMPORTING:
        written = job.rows_imported / job.rows_valid if job.rows_valid else 1.0
        return int(50 + 50 * min(written, 1.0))
    share = 100 if job.dry_run else 50
    return int(share * min(checked, 1.0))
