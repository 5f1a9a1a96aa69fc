"""Errors that services raise and every adapter (API, views) turns into a response."""

from django.utils.translation import gettext_lazy as _


class ConflictError(Exception):
    """The object changed since the caller read it (a stale version): HTTP 409."""

    default_message = _("This record was changed by someone else since you opened it.")

    def __init__(self, message=None):
        super().__init__(str(message or self.default_message))
