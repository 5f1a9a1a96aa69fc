"""Middleware of the project."""

from crm import request_context
from crm.encryption import clear_key_cache
from crm.exceptions import AuditedDenial


class RequestContextMiddleware:
    """Binds the client's IP and user agent for the audit trail; forgets unwrapped keys."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_context.bind(request_context.from_request(request)):
            try:
                return self.get_response(request)
            finally:
                clear_key_cache()

    def process_exception(self, request, exception):
        if isinstance(exception, AuditedDenial):
            exception.record()
        return None
