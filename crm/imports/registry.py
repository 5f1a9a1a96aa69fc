"""The import targets: what a file may hold, filled by the apps from ``AppConfig.ready()``.

``crm`` names no business model: each app registers its targets (customers registers
"customers" and "contacts"; sales lines, stock, invoices, payments and complaints come
later) with their columns, the permission a user needs to import them, and the checker that
checks and writes their rows. The import endpoints and pages offer the registered targets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crm.imports.checks import Checker
from crm.imports.columns import Column


@dataclass(frozen=True)
class ImportTarget:
    key: str  # stored on the job: at most 20 characters
    label: str  # shown in the form and on the job (lazy translation)
    permission: str  # "app.add_model": needed on top of the import permission
    columns: tuple[Column, ...]
    checker: Callable[..., Checker]  # checker(actor) → a Checker for one job
    # writer(checker, row) writes one valid row; by default ``checker.write(row)``.
    writer: Callable[[Checker, object], None] | None = None
    audit_action: str = ""  # the event recorded when a job of this target ends
    order: int = 100
    # Optional bulk path: batch_writer(checker, rows) writes a batch of valid rows at once
    # (bulk inserts, see ``crm.imports.bulk``), inside the batch's transaction opened by
    # the job (business and keys databases). It refuses a row by adding errors to it
    # (``row.add``) and not writing it. A database error rolls the whole batch back; the
    # job then writes that batch row by row through ``write`` (a raced duplicate is
    # reported on its own line). Without it every row goes through ``write``.
    batch_writer: Callable[[Checker, list], None] | None = None

    def write(self, checker: Checker, row) -> None:
        if self.writer is not None:
            self.writer(checker, row)
        else:
            checker.write(row)

    def write_batch(self, checker: Checker, rows: list) -> None:
        if self.batch_writer is None:
            raise NotImplementedError(f"The import target {self.key!r} has no batch writer.")
        self.batch_writer(checker, rows)


_targets: dict[str, ImportTarget] = {}


def register(target: ImportTarget) -> ImportTarget:
    if len(target.key) > 20:
        raise ValueError(f"An import target key is at most 20 characters: {target.key!r}.")
    existing = _targets.get(target.key)
    if existing is not None and existing != target:
        raise ValueError(f"The import target {target.key!r} is already registered.")
    _targets[target.key] = target
    return target


def unregister(key: str) -> None:
    _targets.pop(key, None)


def get_target(key: str) -> ImportTarget | None:
    return _targets.get(key)


def targets() -> list[ImportTarget]:
    return sorted(_targets.values(), key=lambda t: (t.order, t.key))


def choices() -> list[tuple[str, str]]:
    return [(t.key, t.label) for t in targets()]
