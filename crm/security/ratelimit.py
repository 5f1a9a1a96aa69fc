"""Rate limits on sign-in, token, reveal, export and import: 429 with Retry-After, audited.

Counters are windows in the cache, each opened by its first request (``CACHES``; in
production a shared cache, e.g. Redis, so every web process counts together). Limits are
settings
(``CRM_RATE_LIMIT_<SCOPE>`` = ``"<count>/<seconds>"``), see ``docs/security.md``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from crm.request_context import client_ip


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def parse(value: str) -> Limit | None:
    """``"10/60"`` → 10 per 60 s; ``"10/min"``, ``"100/hour"``, ``"off"`` also read."""
    value = (value or "").strip().lower()
    if value in ("", "off", "0", "none"):
        return None
    count, _sep, period = value.partition("/")
    units = {
        "s": 1,
        "sec": 1,
        "second": 1,
        "m": 60,
        "min": 60,
        "minute": 60,
        "h": 3600,
        "hour": 3600,
        "d": 86400,
        "day": 86400,
    }
    seconds = units[period] if period in units else int(period or 60)
    return Limit(count=int(count), seconds=seconds)


def scope_of(request) -> str | None:
    """Which limited action this request is (POSTs only), by its URL's name."""
    if request.method != "POST" or request.resolver_match is None:
        return None
    name = request.resolver_match.url_name or ""
    view_name = request.resolver_match.view_name or ""
    if view_name in ("login", "admin:login"):
        return "login"
    if view_name == "api-token":
        return "token"
    if name.endswith("reveal"):
        return "reveal"
    if "export" in name:
        return "export"
    if "import" in name:
        return "import"
    return None


def identity_of(request, scope: str) -> str:
    """Sign-in is counted per client address; the rest per user (per token for API keys)."""
    if scope in ("login", "token"):
        return f"ip:{client_ip(request)}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Token "):
        from crm.security.tokens import digest_of

        return f"token:{digest_of(header[6:].strip())[:24]}"
    return f"ip:{client_ip(request)}"


def hit(scope: str, identity: str) -> int | None:
    """Count one request; the seconds to wait when over the limit, else None."""
    limit = parse(settings.CRM_RATE_LIMITS.get(scope, ""))
    if limit is None:
        return None
    # A window opens at the first request and lasts ``seconds`` (both keys expire then).
    now = time.time()
    count_key = f"ratelimit:{scope}:{identity}"
    start_key = f"{count_key}:start"
    cache.add(start_key, now, timeout=limit.seconds)
    cache.add(count_key, 0, timeout=limit.seconds)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(start_key, now, timeout=limit.seconds)
        cache.set(count_key, 1, timeout=limit.seconds)
        count = 1
    if count <= limit.count:
        return None
    started = cache.get(start_key, now)
    return max(1, math.ceil(started + limit.seconds - now))


def first_refusal(scope: str, identity: str, retry_after: int) -> bool:
    """True once per window: only the first refusal is audited, not a flood of them."""
    return cache.add(f"ratelimit-audited:{scope}:{identity}", 1, timeout=retry_after)
