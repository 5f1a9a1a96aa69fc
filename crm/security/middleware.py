"""Session expiry, two-factor enforcement and rate limits, for every request.

Runs after Django's authentication and django-otp's middleware. Nothing here queries the
database on an ordinary request: the session already carries the timestamps it checks
(written at sign-in and at most once a minute after), and the role check for two-factor
runs only where two-factor is required.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from crm.auditing import record as record_event
from crm.security import context, events, ratelimit, twofactor

SIGNED_IN_AT = "_security_signed_in_at"
SEEN_AT = "_security_seen_at"
SEEN_GRANULARITY = 60  # seconds: the session is written at most once a minute


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


class SecurityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = context.bind(request)
        try:
            expired = self._expire_session(request)
            if expired is not None:
                return expired
            needs_second_factor = self._second_factor_missing(request)
            if needs_second_factor is not None:
                return needs_second_factor
            return self.get_response(request)
        finally:
            context.unbind(token)

    # --- Sessions --------------------------------------------------------------------------
    def _expire_session(self, request):
        session = getattr(request, "session", None)
        if session is None or not session.get("_auth_user_id"):
            return None
        now = int(time.time())
        signed_in_at = session.get(SIGNED_IN_AT)
        seen_at = session.get(SEEN_AT)
        if signed_in_at is None or seen_at is None:
            # A session from before these checks: start counting now.
            session[SIGNED_IN_AT] = signed_in_at or now
            session[SEEN_AT] = now
            return None
        idle = now - seen_at > settings.CRM_SESSION_IDLE_SECONDS
        too_old = now - signed_in_at > settings.CRM_SESSION_MAX_AGE_SECONDS
        if not (idle or too_old):
            if now - seen_at >= SEEN_GRANULARITY:
                session[SEEN_AT] = now
            return None
        user = request.user
        record_event(
            action=events.SESSION_EXPIRED,
            actor=user,
            obj=user,
            data={"why": "idle" if idle else "lifetime"},
        )
        logout(request)
        if _is_api(request):
            return None  # carries on unauthenticated: the API answers 401
        messages.info(request, _("Your session has expired. Please sign in again."))
        if request.method == "GET" and not request.headers.get("HX-Request"):
            return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
        return redirect(reverse("login"))

    # --- Two-factor ------------------------------------------------------------------------
    def _second_factor_missing(self, request):
        if not settings.CRM_REQUIRE_2FA:
            return None
        session = getattr(request, "session", None)
        if session is None or not session.get("_auth_user_id"):
            return None
        if twofactor.is_exempt_path(request.path):
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified() or not twofactor.required_for(user):
            return None
        if _is_api(request):
            return JsonResponse(
                {
                    "detail": _("Two-factor sign-in is required for your role."),
                    "code": "two_factor_required",
                },
                status=403,
            )
        target = (
            "security:two-factor-verify"
            if twofactor.has_device(user)
            else ("security:two-factor-setup")
        )
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return redirect(reverse(target) + (f"?{query}" if query else ""))

    # --- Rate limits -----------------------------------------------------------------------
    def process_view(self, request, view_func, view_args, view_kwargs):
        scope = ratelimit.scope_of(request)
        if scope is None:
            return None
        identity = ratelimit.identity_of(request, scope)
        retry_after = ratelimit.hit(scope, identity)
        if retry_after is None:
            return None
        if ratelimit.first_refusal(scope, identity, retry_after):
            user = getattr(request, "user", None)
            record_event(
                action=events.RATE_LIMITED,
                actor=user if user is not None and user.is_authenticated else None,
                data={"scope": scope, "view": request.resolver_match.view_name},
            )
        message = _("Too many requests. Try again in %(seconds)d seconds.") % {
            "seconds": retry_after
        }
        if _is_api(request):
            response = JsonResponse({"detail": message, "code": "rate_limited"}, status=429)
        else:
            response = render(
                request, "security/rate_limited.html", {"message": message}, status=429
            )
        response["Retry-After"] = str(retry_after)
        return response
