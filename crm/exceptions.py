"""Errors that services raise and every adapter (API, views) turns into a response."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _


class ConflictError(Exception):
    """The object changed since the caller read it (a stale version): HTTP 409."""

    default_message = _("This record was changed by someone else since you opened it.")

    def __init__(self, message=None):
        super().__init__(str(message or self.default_message))


class AuditedDenial:
    """A refused access that must be audited (DESIGN §3: failed permission checks).

    Raised inside a service's transaction, an audit row written there would be rolled
    back with it, so the middleware and the API's exception handler record the attempt
    once the transaction has ended (unless ``recorded`` says it is done already).
    """

    def setup_denial(self, *, user, content_type, object_id, action: str) -> None:
        self.user, self.content_type = user, content_type
        self.object_id, self.action = object_id, action
        self.recorded = False

    def record(self) -> None:
        if self.recorded or not getattr(self.user, "is_authenticated", False):
            return
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
