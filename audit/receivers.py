"""Sign-in, sign-out and failed sign-in become audit events.

Django announces these only through its auth signals, so this is the one place the
project listens to signals.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit import events
from audit.services import record_event
from crm import request_context


def _context(request):
    return (
        request_context.from_request(request) if request is not None else request_context.current()
    )


@receiver(user_logged_in, dispatch_uid="audit.user_logged_in")
def _logged_in(sender, request, user, **kwargs):
    context = _context(request)
    record_event(
        action=events.AUTH_LOGIN,
        actor=user,
        obj=user,
        ip_address=context.ip,
        user_agent=context.user_agent,
    )


@receiver(user_logged_out, dispatch_uid="audit.user_logged_out")
def _logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    context = _context(request)
    record_event(
        action=events.AUTH_LOGOUT,
        actor=user,
        obj=user,
        ip_address=context.ip,
        user_agent=context.user_agent,
    )


@receiver(user_login_failed, dispatch_uid="audit.user_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    context = _context(request)
    record_event(
        action=events.AUTH_LOGIN_FAILED,
        data={"username": str(credentials.get("username", ""))[:150]},
        ip_address=context.ip,
        user_agent=context.user_agent,
    )
