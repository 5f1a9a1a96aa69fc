"""Building blocks of a target's row checker: the row, the checker's life cycle, and the
cell rules every target shares (text length, NUL characters, e-mail, dates, yes/no)."""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from crm import validation
from crm.imports import messages
from crm.imports.errors import error


@dataclass
class Row:
    """One data row of the file: the checked values, its errors, and its duplicate keys."""

    line: int
    values: dict = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (column, blind index)

    def add(self, column: str, message: str, /, **params) -> None:
        self.errors.append(error(self.line, column, message, **params))


class Checker:
    """Checks and writes the rows of one target for one user.

    The framework calls ``check`` for each row (twice: while checking the file, then again
    before writing; ``first_pass`` says which), ``check_database`` for each batch of checked
    rows (duplicates against the database, in a few queries), ``prepare`` before a batch is
    written and ``write`` for each valid row, inside a transaction. ``write`` raises
    ``ValidationError``, ``PermissionDenied``, ``Http404`` or a database error to refuse a
    row; the row is then reported like a checking error.
    """

    # Field names of a service's ValidationError that name another column of the file.
    field_columns: dict[str, str] = {}

    def __init__(self, actor):
        self.actor = actor
        self.seen: dict[tuple, int] = {}  # in-file keys → first line

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        raise NotImplementedError

    def check_database(self, rows: list[Row]) -> None:
        """Find what only the database knows (duplicates) for a batch of rows."""

    def prepare(self, rows: list[Row]) -> None:
        """Fetch what writing these rows needs, in one go (before the batch is written)."""

    def write(self, row: Row) -> None:
        raise NotImplementedError

    def column_of(self, field_name: str) -> str:
        """The file's column for a field named in a service's ``ValidationError``."""
        if field_name == "__all__":
            return ""
        return self.field_columns.get(field_name, field_name)

    def remember(self, row: Row, key: tuple, column: str) -> None:
        """Report a value already seen on an earlier line of the file."""
        first = self.seen.setdefault(key, row.line)
        if first != row.line:
            row.add(column, messages.SAME_IN_FILE, line=first)


# --- cell rules ---------------------------------------------------------------------------


def text(row: Row, cells: dict, column: str, *, max_length: int | None = None) -> str:
    """The cell as text; an error for a NUL character or a text over ``max_length``."""
    value = cells.get(column, "")
    if "\x00" in value:
        row.add(column, messages.NUL_CHARACTER)
        return ""
    if max_length and len(value) > max_length:
        row.add(column, messages.TOO_LONG, limit=max_length)
    return value


def model_max_length(model, name: str) -> int | None:
    return model._meta.get_field(name).max_length


def email(row: Row, value: str, column: str = "email") -> str:
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        row.add(column, messages.BAD_EMAIL)
    return value


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def parse_date(value: str) -> datetime.date | None:
    value = value.strip()
    if "T" in value:  # an XLSX date-time
        value = value.split("T", 1)[0]
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def date(row: Row, cells: dict, column: str) -> datetime.date | None:
    """The cell as a date between 1900 and 2100, else an error and ``None``."""
    value = cells.get(column, "")
    if not value:
        return None
    parsed = parse_date(value)
    if parsed is None:
        row.add(column, messages.BAD_DATE)
        return None
    try:
        validation.validate_date_in_range(parsed)
    except ValidationError:
        row.add(column, messages.DATE_OUT_OF_RANGE)
        return None
    return parsed


TRUE = {"1", "true", "yes", "y", "是", "√", "✓", "t"}
FALSE = {"", "0", "false", "no", "n", "否", "f"}


def boolean(row: Row, cells: dict, column: str) -> bool:
    value = folded(cells.get(column, ""))
    if value not in TRUE | FALSE:
        row.add(column, messages.BAD_BOOLEAN)
    return value in TRUE


def folded(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


def coded(row: Row, cells: dict, column: str, table: dict[str, str], message: str, **params):
    """A cell naming one of ``table``'s values (``aliases``) by its code or an alias, in any
    case or width: that value; a blank cell: ""; anything else: ``message`` on the column
    and ""."""
    value = folded(text(row, cells, column))
    if not value:
        return ""
    code = table.get(value, "")
    if not code:
        row.add(column, message, **params)
    return code


def aliases(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """``{value: (alias, …)}`` → ``{folded alias or value: value}``."""
    return {folded(alias): value for value, names in table.items() for alias in (value, *names)}
