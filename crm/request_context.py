"""Who is acting, from where: set per request by ``RequestContextMiddleware``.

The audit service reads the client IP and user agent from here when its caller does not
pass them, so services need not take the request as an argument.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    user_agent: str = ""


_NO_REQUEST = RequestContext()
_current: ContextVar[RequestContext | None] = ContextVar("crm_request_context", default=None)


def current() -> RequestContext:
    return _current.get() or _NO_REQUEST


@contextmanager
def bind(context: RequestContext):
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def from_request(request) -> RequestContext:
    from django.conf import settings

    ip = request.META.get("REMOTE_ADDR")
    # Behind a proxy REMOTE_ADDR is the proxy; X-Forwarded-For is believed only when the
    # operator says a proxy that overwrites it stands in front (TRUST_X_FORWARDED_FOR).
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.TRUST_X_FORWARDED_FOR and forwarded:
        ip = forwarded.split(",")[-1].strip()
    return RequestContext(ip=ip or None, user_agent=request.META.get("HTTP_USER_AGENT", "")[:500])
