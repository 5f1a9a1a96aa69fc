"""Input rules every channel shares: the API, the pages' forms and the file import.

A value that reaches a service went through one of three doors: a DRF serializer, a Django
form or an import row checker. Each door uses the validators below, so a NUL character, a
date outside 1900-2100, an unbounded text or a list where one value is expected is refused
with the same field error wherever it comes from (issue 7, "Uploads that cannot hurt the
server"). Services may call ``check_values`` as the last guard before writing.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)
# Free texts kept on a card or an interaction: long enough for any real note, short enough
# that no request can store megabytes in one field.
MANAGERS_MAX_LENGTH = 2000
SUMMARY_MAX_LENGTH = 5000
LONG_TEXT_MAX_LENGTH = 5000

NUL_MESSAGE = _("Null characters are not allowed.")
NOT_SCALAR_MESSAGE = _("Enter a single value, not a list or a mapping.")
DATE_RANGE_MESSAGE = _("Enter a date between 1900-01-01 and 2100-12-31.")
TOO_LONG_MESSAGE = _(
    "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d)."
)


def validate_no_nul(value) -> None:
    """Refuse a text holding a NUL character (PostgreSQL cannot store it; it hides text)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")


def validate_scalar(value) -> None:
    """Refuse a list, tuple, set or mapping where a single value is expected."""
    if isinstance(value, list | tuple | set | frozenset | dict):
        raise ValidationError(NOT_SCALAR_MESSAGE, code="not_scalar")


def validate_date_in_range(value) -> None:
    """Refuse a date (or date-time) before 1900-01-01 or after 2100-12-31."""
    if value in (None, ""):
        return
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date) and not (EARLIEST_DATE <= value <= LATEST_DATE):
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_out_of_range")


def validate_max_length(value, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        raise ValidationError(
            TOO_LONG_MESSAGE,
            code="max_length",
            params={"limit_value": limit, "show_value": len(value)},
        )


def clean_text(value, *, max_length: int | None = None) -> str:
    """A single text value: not a list or mapping, no NUL, at most ``max_length`` long.

    ``None`` becomes ``""``; numbers become their text. Raises ``ValidationError``.
    """
    validate_scalar(value)
    text = "" if value is None else str(value)
    validate_no_nul(text)
    if max_length is not None:
        validate_max_length(text, max_length)
    return text


def check_values(values: dict, *, max_lengths: dict[str, int] | None = None) -> dict:
    """Field errors (``{name: [messages]}``) for the values of a form-like mapping.

    Every value must be a scalar without NUL characters; dates within 1900-2100; texts named
    in ``max_lengths`` at most that long. Returns an empty dict when all is well.
    """
    limits = max_lengths or {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        try:
            validate_scalar(value)
            validate_no_nul(value)
            validate_date_in_range(value)
            if name in limits:
                validate_max_length(value, limits[name])
        except ValidationError as exc:
            errors[name] = exc.messages
    return errors


def form_add_errors(form, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` on a page's form: each field's messages under
    that field, those keyed by a name the form has no field for (or by no name) above the
    form. Every view that shows a service's refusal on its form calls this."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def messages_add_errors(request, error: ValidationError) -> None:
    """Show a service's ``ValidationError`` as messages on the next page, one per message,
    for the views that answer with a redirect rather than their form."""
    from django.contrib import messages

    for message in error.messages:
        messages.error(request, message)
