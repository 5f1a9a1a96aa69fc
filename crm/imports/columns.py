"""Column mapping: header aliases (Chinese headers included) to a target's column keys."""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from crm.imports import messages
from crm.imports.errors import error


def normalise_header(text: object) -> str:
    """``"手机 *"`` → ``"手机"``, ``"E-mail"`` → ``"e_mail"``, full-width forms folded."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text))
    value = value.replace("\ufeff", "").strip().rstrip("*").strip().lower()
    return re.sub(r"[\s\-]+", "_", value)


@dataclass(frozen=True)
class Column:
    """One column a target reads: its key, the headers that name it, whether required."""

    key: str
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass
class Header:
    """Which cell of a row holds which column."""

    positions: dict[str, int]
    errors: list[dict]
    fatal: bool
    # The header the file gave a column when it is not the key ({"phone": "手机"}): errors
    # name the column as the file named it.
    titles: dict[str, str] = field(default_factory=dict)


def column_letter(index: int) -> str:
    """The spreadsheet name of the column at ``index`` (0 → "A", 26 → "AA")."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def read_header(columns: tuple[Column, ...], line: int, cells: list) -> Header:
    lookup = {}
    for column in columns:
        for alias in (column.key, *column.aliases):
            lookup[normalise_header(alias)] = column.key
    positions: dict[str, int] = {}
    titles: dict[str, str] = {}
    errors: list[dict] = []
    for index, cell in enumerate(cells):
        title = "" if cell is None else str(cell).strip()
        if not title:
            continue
        key = lookup.get(normalise_header(title))
        if key is None:
            # Named by its letter, not its text: in a file without a header row the "title"
            # is a customer's data.
            errors.append(error(line, column_letter(index), messages.UNKNOWN_COLUMN))
        elif key in positions:
            errors.append(error(line, key, messages.REPEATED_COLUMN))
        else:
            positions[key] = index
            if normalise_header(title) != normalise_header(key):
                titles[key] = title
    missing = [c.key for c in columns if c.required and c.key not in positions]
    errors.extend(error(line, key, messages.MISSING_COLUMN) for key in missing)
    return Header(
        positions,
        errors,
        fatal=bool(missing) or any(e["message"] == messages.REPEATED_COLUMN for e in errors),
        titles=titles,
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


def is_blank(cells: list) -> bool:
    return all(cell_text(cell) == "" for cell in cells)
