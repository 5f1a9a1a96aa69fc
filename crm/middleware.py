"""Middleware of the project."""

from crm import request_context
from crm.encryption import clear_key_cache
from crm.exceptions import AuditedDenial, denials_recorded


class RequestContextMiddleware:
    """Binds the client's IP and user agent for the audit trail; forgets unwrapped keys.

    Refusals raised while the request ran are recorded when it ends, even those raised
    inside a transaction that rolled back or caught by the view (``denials_recorded``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_context.bind(request_context.from_request(request)), denials_recorded():
            try:
                return self.get_response(request)
            finally:
                clear_key_cache()

    def process_exception(self, request, exception):
        if isinstance(exception, AuditedDenial):
            exception.record()
        return None
