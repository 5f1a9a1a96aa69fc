"""The notification block: the bell in the header and e-mails, for every app (DESIGN §2).

An app declares each kind of message once, from its ``AppConfig.ready()``::

    notifications.register(notifications.Kind(
        code="credit.urgent_report",
        text=gettext_lazy("Urgent credit report on customer %(customer)s"),
        email=True,
    ))

and a service sends one inside its transaction::

    notifications.notify(code="credit.urgent_report", recipients=[manager],
                         params={"customer": customer.code}, link=card_url, actor=user)

The rows roll back with the transaction; e-mails are queued when it commits. A message
holds codes, numbers and dates only (``params`` is checked): its text is rendered from the
kind's template in the reader's language, so neither the row, the e-mail nor a log line
carries a name, a phone or any other personal value.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import Notification, User
from crm.queueing import enqueue_on_commit


@dataclass(frozen=True)
class Kind:
    code: str  # "<app>.<event>"
    text: Any  # a lazy translation with %(name)s placeholders for the params
    email: bool = False


_kinds: dict[str, Kind] = {}

_CODE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")
# A text parameter is a short code (a customer code, a complaint number, a grade); these
# shapes are what a personal value looks like, refused even when short enough to pass.
_PARAM_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/#+-]{0,39}$")
_PERSONAL_SHAPES = (
    re.compile(r"^\+?\d{7,}$"),  # a phone number
    re.compile(r"^\d{14,17}[\dXx]$"),  # a resident ID number
)
_LINK = re.compile(r"^/[A-Za-z0-9/_.=?&#%-]{0,299}$")


def register(kind: Kind) -> Kind:
    if not _CODE.match(kind.code):
        raise ValueError(f"A notification code is '<app>.<event>' in lower case: {kind.code!r}.")
    _kinds[kind.code] = kind
    return kind


def unregister(code: str) -> None:
    _kinds.pop(code, None)


def kind_of(code: str) -> Kind | None:
    return _kinds.get(code)


def kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda kind: kind.code)


def _param(name: str, value) -> str | int:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"Notification parameter {name!r}: give a code, a number or a date.")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    personal = isinstance(value, str) and any(shape.match(value) for shape in _PERSONAL_SHAPES)
    if isinstance(value, str) and _PARAM_TEXT.match(value) and not personal:
        return value
    raise ValueError(
        f"Notification parameter {name!r} must be a short code, a number or a date, "
        "never a personal value."
    )


def notify(
    *,
    code: str,
    recipients: Iterable,
    params: dict | None = None,
    link: str = "",
    actor=None,
) -> list[Notification]:
    """Write one notification per recipient (inside the caller's transaction) and, for a
    kind sent by e-mail, queue the e-mails on commit. The actor is not notified of his
    own action; inactive users and duplicates are skipped. Returns the rows written."""
    kind = _kinds.get(code)
    if kind is None:
        raise ValueError(f"Unknown notification kind {code!r}: register it first.")
    checked = {name: _param(name, value) for name, value in (params or {}).items()}
    str(kind.text) % checked  # every placeholder has its parameter (KeyError otherwise)
    if link and not _LINK.match(link):
        raise ValueError("A notification link is a path inside the product.")
    ids = []
    for recipient in recipients:
        user_id = recipient if isinstance(recipient, int) else recipient.pk
        if user_id is not None and user_id not in ids:
            ids.append(user_id)
    actor_id = getattr(actor, "pk", None)
    active = set(
        User.objects.filter(pk__in=[i for i in ids if i != actor_id], is_active=True).values_list(
            "pk", flat=True
        )
    )
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id, actor_id=actor_id, code=code, params=checked, link=link
            )
            for user_id in ids
            if user_id in active
        ]
    )
    if kind.email and rows:
        enqueue_on_commit("crm.notifications_email", [row.pk for row in rows])
    return rows


def text_of(notification: Notification) -> str:
    """The message in the active language (the code itself for a kind no app declares)."""
    kind = _kinds.get(notification.code)
    if kind is None:
        return notification.code
    try:
        return str(kind.text) % notification.params
    except (KeyError, TypeError, ValueError):
        return str(kind.text)


# --- reads ---------------------------------------------------------------------------------


def notification_list(*, user, unread_only: bool = False) -> QuerySet:
    rows = Notification.objects.filter(recipient=user)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# --- writes --------------------------------------------------------------------------------


def notifications_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when ``ids`` is None);
    another user's ids are ignored. Returns how many changed."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    with transaction.atomic():
        return rows.update(read_at=timezone.now())


def notification_open(*, user, notification_id: int) -> Notification | None:
    """The user's notification, marked read; ``None`` when it is not his."""
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update()
            .filter(recipient=user, pk=notification_id)
            .first()
        )
        if row is not None and row.read_at is None:
            row.read_at = timezone.now()
            row.save(update_fields=["read_at"])
    return row


def notifications_email(*, notification_ids: list[int]) -> int:
    """Send the e-mails of these notifications (once each; rows already e-mailed, of a
    recipient without an address, or of a kind not sent by e-mail are skipped). The
    message is the rendered text and a link: codes only, like the bell."""
    sent = 0
    rows = Notification.objects.filter(
        pk__in=notification_ids, emailed_at__isnull=True
    ).select_related("recipient")
    with translation.override(settings.LANGUAGE_CODE):
        for row in rows:
            kind = _kinds.get(row.code)
            if kind is None or not kind.email or not row.recipient.email:
                continue
            text = text_of(row)
            body = text
            if row.link:
                body += "\n\n" + settings.CRM_BASE_URL.rstrip("/") + row.link
            body += "\n\n" + _("You receive this because of your role in the customer system.")
            send_mail(
                subject=f"[{settings.CRM['COMPANY_NAME']}] {text}",
                message=body,
                from_email=None,
                recipient_list=[row.recipient.email],
            )
            Notification.objects.filter(pk=row.pk).update(emailed_at=timezone.now())
            sent += 1
    return sent
