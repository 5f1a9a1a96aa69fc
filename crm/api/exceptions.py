"""Turn the errors services raise into DRF responses: 400 with field errors, 403, 409.

Every API error has a JSON body, never a 500 for what the client sent: a body over the
size limit (413), JSON nested too deeply (400), a write that lost a race on SQLite
("database is locked", 409 like PostgreSQL's row locks). ``api_error_response`` answers the
same way for errors raised outside a DRF view (``handler400`` … for ``/api/`` paths).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.exceptions import AuditedDenial, ConflictError


def _is_lock_timeout(exc) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text


def exception_handler(exc, context):
    if isinstance(exc, AuditedDenial):
        exc.record()
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, ConflictError):
        return Response({"detail": str(exc), "code": "conflict"}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        return Response(
            {"detail": _("The request body is too large."), "code": "too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, RecursionError):
        return Response(
            {"detail": _("JSON nested too deeply."), "code": "parse_error"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    elif isinstance(exc, OperationalError) and _is_lock_timeout(exc):
        return Response(
            {"detail": str(ConflictError.default_message), "code": "conflict"},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


_DEFAULT_DETAIL = {
    400: (gettext_lazy("Bad request."), "bad_request"),
    403: (gettext_lazy("You are not allowed to do this."), "permission_denied"),
    404: (gettext_lazy("Not found."), "not_found"),
    413: (gettext_lazy("The request body is too large."), "too_large"),
    500: (gettext_lazy("Server error."), "server_error"),
}


def api_error_response(status_code: int, exception=None) -> JsonResponse:
    message, code = _DEFAULT_DETAIL.get(status_code, _DEFAULT_DETAIL[400])
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent):
        status_code, (message, code) = 413, _DEFAULT_DETAIL[413]
    return JsonResponse({"detail": str(message), "code": code}, status=status_code)
