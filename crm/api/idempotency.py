"""``Idempotency-Key`` for creating endpoints.

A client that retries a create (a timeout, a lost response) sends the same key; the
retry gets the first response back, marked ``Idempotent-Replayed: true``, and nothing
new is created. The key is scoped to the user. Reusing a key for a different request
is refused (422). The record is written in the same transaction as the create, so two
concurrent requests with one key cannot both create: the second waits on the unique
constraint and then replays the first response. A failed create leaves no record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from crm.models import IdempotencyRecord

HEADER = "Idempotency-Key"


def _fingerprint(request) -> str:
    # Keyed: the body may hold personal data, and a plain hash of a short value (a phone
    # number) could be reversed by trying them all.
    body = json.dumps(request.data, sort_keys=True, default=str) if request.data else ""
    message = f"{request.method} {request.path}\n{body}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_fingerprint != fingerprint:
        return Response(
            {"detail": _("This Idempotency-Key was already used for a different request.")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(create):
    """Decorate a view's ``create``/``post`` method to honour the Idempotency-Key header."""

    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return create(view, request, *args, **kwargs)
        if len(key) > 255:
            return Response(
                {"detail": _("The Idempotency-Key header is longer than 255 characters.")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        fingerprint = _fingerprint(request)
        expired_before = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
        IdempotencyRecord.objects.filter(
            user=request.user, key=key, created_at__lt=expired_before
        ).delete()
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if existing is not None:
            return _replay(existing, fingerprint)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    request_fingerprint=fingerprint,
                )
                response = create(view, request, *args, **kwargs)
                if not status.is_success(response.status_code):
                    transaction.set_rollback(True)
                    return response
                record.response_status = response.status_code
                record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
                record.save(update_fields=["response_status", "response_body"])
                return response
        except IntegrityError:
            # A concurrent request with the same key won; replay what it answered.
            existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if existing is None:
                raise
            return _replay(existing, fingerprint)

    wrapper.__name__ = create.__name__
    wrapper.__doc__ = create.__doc__
    return wrapper


def idempotency_records_purge() -> int:
    """Delete records older than the TTL (run daily by a periodic task)."""
    expired_before = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=expired_before).delete()
    return deleted
