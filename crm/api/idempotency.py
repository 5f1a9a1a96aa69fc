"""``Idempotency-Key`` for creating endpoints.

A client that retries a create (a timeout, a lost response) sends the same key; the
retry gets the first response back, marked ``Idempotent-Replayed: true``, and nothing
new is created. The key is scoped to the user. Reusing a key for a different request
is refused (422). The record is written in the same transaction as the create, so two
concurrent requests with one key cannot both create: the second waits on the unique
constraint and then replays the first response. A failed create leaves no record.

The record keeps the status, the id of the resource made and a keyed hash of the request
(uploaded files by their content), never the response body: that may hold personal data.
A replay renders the resource anew through the view's ``idempotent_replay(request, id)``,
with today's permissions and masking.
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
from rest_framework.response import Response

from crm.models import IdempotencyRecord

HEADER = "Idempotency-Key"


def _fingerprint(request) -> str:
    # Keyed: the body may hold personal data, and a plain hash of a short value (a phone
    # number) could be reversed by trying them all. Files count by their content, so the
    # same key with another file of the same name is a different request.
    mac = hmac.new(settings.SECRET_KEY.encode(), digestmod=hashlib.sha256)
    mac.update(f"{request.method} {request.path}\n".encode())
    files = getattr(request, "FILES", {}) or {}
    plain = {k: v for k, v in request.data.items() if k not in files} if request.data else {}
    mac.update(json.dumps(plain, sort_keys=True, default=str).encode())
    for name in sorted(files):
        upload = files[name]
        mac.update(f"\nfile {name} {upload.size}\n".encode())
        for chunk in upload.chunks():
            mac.update(chunk)
        upload.seek(0)
    return mac.hexdigest()


def _replay(view, request, record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_fingerprint != fingerprint:
        return Response(
            {"detail": _("This Idempotency-Key was already used for a different request.")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if not record.resource_id:
        return Response(
            {"detail": _("This request was already carried out; its answer cannot be replayed.")},
            status=status.HTTP_409_CONFLICT,
        )
    response = view.idempotent_replay(request, record.resource_id)
    if status.is_success(response.status_code):
        response.status_code = record.response_status
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(create):
    """Decorate a view's ``create``/``post`` method to honour the Idempotency-Key header.

    The view answers a replay with ``idempotent_replay(request, resource_id)``: the
    resource as it is now (a 404 if the user may no longer see it).
    """

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
            return _replay(view, request, existing, fingerprint)
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
                record.resource_id = str((response.data or {}).get("id", ""))[:64]
                record.save(update_fields=["response_status", "resource_id"])
                return response
        except IntegrityError:
            # A concurrent request with the same key won; replay what it answered.
            existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if existing is None:
                raise
            return _replay(view, request, existing, fingerprint)

    wrapper.__name__ = create.__name__
    wrapper.__doc__ = create.__doc__
    return wrapper


def idempotency_records_purge() -> int:
    """Delete records older than the TTL (run daily by a periodic task)."""
    expired_before = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=expired_before).delete()
    return deleted
