"""The import framework (DESIGN §2, §7): readers, column mapping, row checkers, jobs.

Apps register their targets (``registry.register``) from ``AppConfig.ready()``; ``crm``
imports no app. See ``readers`` (CSV/XLSX within bounds), ``columns`` (header aliases),
``checks`` (the checker a target implements), ``errors`` (capped line/column errors) and
``jobs`` (running a job: dry run, all-or-nothing or valid rows only, progress).
"""

from crm.imports.checks import Checker, Row
from crm.imports.columns import Column
from crm.imports.errors import ErrorReport, ImportFileError, error, error_rows
from crm.imports.registry import ImportTarget, choices, get_target, register, targets

__all__ = [
    "Checker",
    "Column",
    "ErrorReport",
    "ImportFileError",
    "ImportTarget",
    "Row",
    "choices",
    "error",
    "error_rows",
    "get_target",
    "register",
    "targets",
]
