"""Errors that services raise and every adapter (API, views) turns into a response."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _


class ConflictError(Exception):
    """The object changed since the caller read it (a stale version): HTTP 409."""

    default_message = _("This record was changed by someone else since you opened it.")

    def __init__(self, message=None):
        super().__init__(str(message or self.default_message))


# Denials raised during the current request or task that are not recorded yet.
_pending: ContextVar[list | None] = ContextVar("crm_pending_denials", default=None)


def _in_transaction() -> bool:
    """Inside a transaction the code opened (a test case's own wrapping one does not count)."""
    blocks = transaction.get_connection().atomic_blocks
    return any(not getattr(block, "_from_testcase", False) for block in blocks)


@contextmanager
def denials_recorded():
    """Record, when the block ends, every denial raised in it that is not recorded yet.

    A denial raised inside a transaction cannot be written there (the row would roll back
    with the transaction), and the caller may catch it and answer without re-raising (a
    form error, an import row's error). The middleware wraps each request and the Celery
    signals each task in this block, so every refusal leaves exactly one audit event.
    """
    token = _pending.set([])
    try:
        yield
    finally:
        pending = _pending.get() or []
        _pending.reset(token)
        for denial in pending:
            denial.record()


class AuditedDenial:
    """A refused access that must be audited (DESIGN §3: failed permission checks).

    ``record()`` writes the audit event at once outside a transaction; inside one it waits
    for the end of the request or task (``denials_recorded``), when the transaction has
    ended whether it committed or rolled back. ``recorded`` keeps it to one event.
    """

    def setup_denial(self, *, user, content_type, object_id, action: str) -> None:
        self.user, self.content_type = user, content_type
        self.object_id, self.action = object_id, action
        self.recorded = False
        pending = _pending.get()
        if pending is not None:
            pending.append(self)

    def record(self) -> None:
        if self.recorded or not getattr(self.user, "is_authenticated", False):
            return
        pending = _pending.get()
        if pending is not None and _in_transaction():
            if self not in pending:
                pending.append(self)
            return  # written when the request or task ends
        from crm import auditing

        auditing.record(
            action=auditing.ACCESS_DENIED,
            actor=self.user,
            content_type=self.content_type,
            object_id=self.object_id,
            data={"action": self.action, "answer": self.answer},
        )
        self.recorded = True


class HiddenObject(AuditedDenial, Http404):
    """A record the user may not see, answered as "not found" (DESIGN §4)."""

    answer = 404

    def __init__(self, **denial):
        super().__init__(_("Not found."))
        self.setup_denial(**denial)


class ForbiddenAction(AuditedDenial, PermissionDenied):
    """A record the user sees but may not act on this way: 403."""

    answer = 403

    def __init__(self, message=None, **denial):
        super().__init__(message or _("You are not allowed to do this."))
        self.setup_denial(**denial)
