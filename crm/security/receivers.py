"""Sign-in bookkeeping: session timestamps and the session index; lockouts audited.

Django and django-axes announce these only through signals (as ``audit.receivers``).
"""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from crm.auditing import record as record_event
from crm.request_context import client_ip
from crm.security import events
from crm.security.middleware import SEEN_AT, SIGNED_IN_AT
from crm.security.models import UserSession


@receiver(user_logged_in, dispatch_uid="security.user_logged_in")
def _signed_in(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now
    if session.session_key is None:
        session.save()
    UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={"user": user, "ip_address": client_ip(request)},
    )


@receiver(user_locked_out, dispatch_uid="security.user_locked_out")
def _locked_out(sender, request, username=None, ip_address=None, **kwargs):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first() if username else None
    record_event(
        action=events.LOCKED_OUT,
        obj=user,
        data={"user_id": user.pk if user else None, "known_user": user is not None},
        ip_address=ip_address,
    )


@receiver(user_logged_out, dispatch_uid="security.user_logged_out")
def _signed_out(sender, request, user, **kwargs):
    """Signing out ends the user's API tokens too: nothing he opened outlives it."""
    from crm.security.tokens import tokens_revoke_for_user

    if user is None:
        return
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        UserSession.objects.filter(session_key=session.session_key).delete()
    tokens_revoke_for_user(user=user, why="signed_out")
