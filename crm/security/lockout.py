"""What a locked-out client is told (``AXES_LOCKOUT_CALLABLE``): a clear page, or JSON."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def cool_off_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds()) if settings.AXES_COOLOFF_TIME else 0


def message() -> str:
    minutes = math.ceil(cool_off_seconds() / 60)
    return _(
        "Too many failed sign-ins. Sign-in is locked for %(minutes)d minutes; "
        "an administrator can lift the lock sooner."
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    retry_after = str(cool_off_seconds())
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": message(), "code": "locked_out"}, status=settings.AXES_HTTP_RESPONSE_CODE
        )
    else:
        response = render(
            request,
            "security/locked_out.html",
            {"message": message()},
            status=settings.AXES_HTTP_RESPONSE_CODE,
        )
    response["Retry-After"] = retry_after
    return response
