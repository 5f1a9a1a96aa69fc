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


def client_ip(request) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or X-Forwarded-For only behind trusted proxies.

    Behind proxies REMOTE_ADDR is the nearest proxy; X-Forwarded-For is believed only when
    the operator says so (``TRUST_X_FORWARDED_FOR``) and only as far as the proxies he
    runs (``TRUSTED_PROXY_COUNT``): each appends the address it saw, so the client is the
    entry that many places from the right. Anything further left was sent by the client.
    Sign-in lockout, rate limits and the audit trail all use this one answer.
    """
    from django.conf import settings

    ip = request.META.get("REMOTE_ADDR")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 1)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.TRUST_X_FORWARDED_FOR and forwarded and proxies > 0:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            ip = hops[-proxies]
    return ip or None


def from_request(request) -> RequestContext:
    return RequestContext(
        ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:500]
    )
