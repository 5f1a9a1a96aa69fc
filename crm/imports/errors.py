"""Line and column errors of an import, capped so that no file can flood memory or a row.

A file of 200,000 bad rows would otherwise keep a million error dicts in memory and write
them into one JSON column. ``ErrorReport`` keeps the first ``CRM_IMPORT_MAX_ERRORS``
(default 1,000) in full and, for all of them, the count per column.
"""

from __future__ import annotations

import contextlib
from collections import Counter

from django.conf import settings
from django.utils.translation import gettext as _


class ImportFileError(Exception):
    """The file as a whole cannot be read; the job is rejected with this message."""

    def __init__(self, message: str, line: int = 0, **params):
        super().__init__(message)
        self.message = message
        self.line = line
        self.params = params

    def as_error(self) -> dict:
        return error(self.line, "", self.message, **self.params)


def error(line: int, column: str, message: str, /, **params) -> dict:
    entry = {"line": line, "column": column, "message": message}
    if params:
        entry["params"] = params
    return entry


def max_errors() -> int:
    return int(getattr(settings, "CRM_IMPORT_MAX_ERRORS", 1000))


class ErrorReport:
    """The errors of one job: the first ``limit`` kept, every one counted per column."""

    def __init__(self, initial: list[dict] = (), *, limit: int | None = None):
        self.limit = max_errors() if limit is None else limit
        self.kept: list[dict] = []
        self.by_column: Counter[str] = Counter()
        self.total = 0
        self.titles: dict[str, str] = {}  # the file's headers, set when it is read
        self.extend(initial)

    @classmethod
    def of_job(cls, job) -> ErrorReport:
        """The report a finished job stored, to add to it (its counts included)."""
        report = cls(job.errors)
        report.total = max(report.total, getattr(job, "errors_total", 0) or 0)
        report.by_column.update(dict(getattr(job, "errors_by_column", None) or {}))
        for entry in job.errors:  # counted twice above when the job kept its counts
            if getattr(job, "errors_by_column", None):
                report.by_column[entry.get("column") or ""] -= 1
        return report

    def add(self, entry: dict) -> None:
        title = self.titles.get(entry.get("column") or "")
        if title and "named" not in entry:
            entry = {**entry, "named": title}
        self.total += 1
        self.by_column[entry.get("column") or ""] += 1
        if len(self.kept) < self.limit:
            self.kept.append(entry)

    def extend(self, entries) -> None:
        for entry in entries:
            self.add(entry)

    def __bool__(self) -> bool:
        return self.total > 0

    def sorted(self, column_order: dict[str, int] | None = None) -> list[dict]:
        order = column_order or {}
        return sorted(self.kept, key=lambda e: (e["line"], order.get(e["column"], len(order))))


def error_rows(errors: list[dict]) -> list[dict]:
    """Stored errors as ``{"line", "column", "message"}`` in the active language, with
    ``named``, the file's header, when the file named the column otherwise than its key."""
    rows = []
    for entry in errors:
        message = entry.get("message") or ""
        message = _(message) if message else ""
        params = entry.get("params")
        if params:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                message = message % params
        row = {"line": entry.get("line"), "column": entry.get("column"), "message": message}
        if entry.get("named"):
            row["named"] = entry["named"]  # the column as the file named it (手机 for phone)
        rows.append(row)
    return rows
