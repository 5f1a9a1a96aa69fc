"""The project's own 404 page in development too, and 403/404 logged without tracebacks.

With ``DEBUG`` on, Django answers a missing page with its technical page (the URL list,
settings): a newcomer trying the demo should see what a user sees. The middleware renders
the project's error handler instead (``handler404`` in ``crm.urls``: JSON under ``/api/``,
the page elsewhere). ``DEBUG_TECHNICAL_404=true`` brings Django's page back for debugging.

``QuietClientErrors`` keeps the expected refusals (403, 404) in the log as one line: the
exception's traceback tells nothing for a refusal that the application raised on purpose.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404
from django.urls import get_resolver


def _own_404(request, exception):
    handler = get_resolver().resolve_error_handler(404)
    return handler(request, exception=exception)


class OwnErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def _active(self) -> bool:
        return settings.DEBUG and not getattr(settings, "DEBUG_TECHNICAL_404", False)

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and self._active()
            and getattr(request, "resolver_match", None) is None
            and not request.path.startswith(settings.STATIC_URL or "/static/")
            and "text/html" in response.get("Content-Type", "")
        ):
            # No URL matched: Django's technical 404 page; show the project's page instead.
            return _own_404(request, Http404())
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, Http404) and self._active():
            return _own_404(request, exception)
        return None


class QuietClientErrors(logging.Filter):
    """``django.request`` records of 403 and 404 answers lose their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in (403, 404):
            record.exc_info = None
            record.exc_text = None
        return True
