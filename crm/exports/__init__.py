"""The export framework (DESIGN §3 "Masking", §7): one writer for every app's exports.

An app builds its rows (masked unless the user may reveal them, and audited); this package
writes them as CSV or XLSX with formulas neutralised (``writers``), and runs exports above
``CRM_EXPORT_SYNC_MAX_ROWS`` rows as background jobs whose encrypted file its owner alone
downloads for 24 hours (``jobs``). Apps register what a job builds (``registry``).
"""

from crm.exports.registry import ExportTarget, get_target, register
from crm.exports.writers import CONTENT_TYPES, FORMATS, ExportResult, neutralise

__all__ = [
    "CONTENT_TYPES",
    "FORMATS",
    "ExportResult",
    "ExportTarget",
    "get_target",
    "neutralise",
    "register",
]
