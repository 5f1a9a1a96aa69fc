"""Errors that services raise and every adapter (API, views) turns into a response."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _


class ConflictError(Exception):
    """The object changed since the caller read it (a stale version): HTTP 409."""

    default_message = _("This record was changed by someone else since you opened it.")

    def __init__(self, message=None):
        super().__init__(str(message or self.default_message))


class HiddenObject(Http404):
    """A record the user may not see, answered as "not found" (DESIGN §4).

    The attempt is audited. Raised inside a service's transaction, an audit row written
    there would be rolled back with it, so the middleware and the API's exception handler
    record the attempt after the transaction ended (unless ``recorded`` says it is done).
    """

    def __init__(self, *, user, content_type, object_id, action: str):
        super().__init__(_("Not found."))
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
            data={"action": self.action},
        )
        self.recorded = True
