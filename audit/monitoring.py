"""Access monitoring (DESIGN §3 "Access monitoring", issue 12 item 2).

Reveals, exports and card views are audit events. Each one a user makes is counted, once
its transaction commits, against the thresholds the DPO keeps as data
(``AlertThreshold``: per hour and per day). Reaching a threshold raises one
``AccessAlert`` per user, kind and window (a unique constraint makes it once even when two
requests race), an in-app notification and e-mail to every data protection officer, and
an audit event. Events are classed by their action: ``*.revealed``, ``*.exported`` and
``*.viewed`` (apps name their events so; ``watch`` adds another action).

The console also flags, per event, an access *after hours* (outside
``PRIVACY_WORK_HOURS_START``–``END``, local time) and an access to a customer *outside the
user's team* (not the owner, not a member of the owner's team, not an overseeing role:
e.g. through a grant).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

REVEAL, EXPORT, CARD_VIEW = "reveal", "export", "card_view"
_SUFFIXES = {REVEAL: ".revealed", EXPORT: ".exported", CARD_VIEW: ".viewed"}
_EXTRA: dict[str, set[str]] = {REVEAL: set(), EXPORT: set(), CARD_VIEW: set()}


def watch(kind: str, action: str) -> None:
    """Count ``action`` as a ``kind`` access (an app whose event names differ)."""
    _EXTRA[kind].add(action)


def kind_of(action: str) -> str | None:
    for kind, suffix in _SUFFIXES.items():
        if action.endswith(suffix) or action in _EXTRA[kind]:
            return kind
    return None


def _action_filter(kind: str) -> Q:
    query = Q(action__endswith=_SUFFIXES[kind])
    if _EXTRA[kind]:
        query |= Q(action__in=sorted(_EXTRA[kind]))
    return query


action_filter = _action_filter  # the evidence report counts accesses the same way


def window_start(window: str, now: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(now)
    if window == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _observe(event) -> None:
    """Called by ``record_event`` for every event: count watched ones after commit."""
    kind = kind_of(event.action)
    if kind is None or event.actor_id is None:
        return

    def check():
        access_thresholds_check(user_id=event.actor_id, kind=kind)

    transaction.on_commit(check, robust=True)


def connect() -> None:
    from audit import services

    services.after_record(_observe)


def access_thresholds_check(*, user_id: int, kind: str, now=None) -> list:
    """Raise an alert for every threshold of ``kind`` the user has reached in its window."""
    from audit.models import AccessAlert, AlertThreshold, AuditEvent

    now = now or timezone.now()
    thresholds = list(AlertThreshold.objects.filter(kind=kind, is_active=True))
    if not thresholds:
        return []
    starts = {t.window: window_start(t.window, now) for t in thresholds}
    earliest = min(starts.values())
    counts = AuditEvent.objects.filter(
        _action_filter(kind), actor_id=user_id, occurred_at__gte=earliest
    ).aggregate(
        **{
            window: Count("id", filter=Q(occurred_at__gte=start))
            for window, start in starts.items()
        }
    )
    raised = []
    for threshold in thresholds:
        count = counts[threshold.window]
        if count < threshold.limit:
            continue
        start = starts[threshold.window]
        if AccessAlert.objects.filter(
            user_id=user_id, kind=kind, window=threshold.window, window_start=start
        ).exists():
            continue
        alert = _alert_raise(threshold=threshold, user_id=user_id, start=start, count=count)
        if alert is not None:
            raised.append(alert)
    return raised


def _alert_raise(*, threshold, user_id: int, start, count: int):
    from audit import events
    from audit.models import AccessAlert
    from audit.services import record_event
    from crm import notifications, roles
    from crm.models import User

    try:
        with transaction.atomic():
            alert = AccessAlert.objects.create(
                user_id=user_id,
                kind=threshold.kind,
                window=threshold.window,
                window_start=start,
                limit=threshold.limit,
                count=count,
            )
            user = User(pk=user_id)
            record_event(
                action=events.ACCESS_ALERT_RAISED,
                obj=alert,
                data={
                    "user": user_id,
                    "kind": threshold.kind,
                    "window": threshold.window,
                    "limit": threshold.limit,
                    "count": count,
                },
            )
            dpos = User.objects.filter(groups__name=roles.DPO, is_active=True)
            notifications.notify(
                code="audit.access_alert",
                recipients=list(dpos),
                params={
                    "user": user.pk,
                    "count": count,
                    "limit": threshold.limit,
                },
                link="/audit/monitoring/",
            )
    except IntegrityError:
        return None  # raised by a concurrent request in the same window: once is enough
    logger.info("access alert %s user=%s", alert.pk, user_id)
    return alert


# --- flags in the console ---------------------------------------------------------------------


def after_hours(moment: datetime.datetime) -> bool:
    hour = timezone.localtime(moment).hour
    start = settings.PRIVACY.get("WORK_HOURS_START", 8)
    end = settings.PRIVACY.get("WORK_HOURS_END", 20)
    weekend = timezone.localtime(moment).weekday() >= 5
    return weekend or hour < start or hour >= end


def flag_events(events) -> None:
    """Set ``after_hours`` and ``outside_team`` on a page of events (two queries at most)."""
    from crm import privacy, roles
    from crm.models import User

    events = list(events)
    try:
        customer_model = privacy.subject_model()
    except LookupError:
        customer_model = None
    customer_ids = set()
    for event in events:
        event.after_hours = after_hours(event.occurred_at)
        event.outside_team = False
        if (
            customer_model is not None
            and event.content_type_id
            and event.content_type.model_class() is customer_model
            and event.object_id.isdigit()
            and event.actor_id
        ):
            customer_ids.add(int(event.object_id))
    if not customer_ids:
        return
    customers = {
        pk: (owner_id, team_id)
        for pk, owner_id, team_id in customer_model.objects.filter(pk__in=customer_ids).values_list(
            "pk", "owner_id", "team_id"
        )
    }
    actor_ids = {e.actor_id for e in events if e.actor_id}
    overseer_roles = (roles.GENERAL_MANAGER, roles.DPO, roles.AUDITOR, roles.ADMIN)
    actors = {
        pk: (team_id, is_overseer)
        for pk, team_id, is_overseer in User.objects.filter(pk__in=actor_ids)
        .annotate(overseer=Count("groups", filter=Q(groups__name__in=overseer_roles)))
        .values_list("pk", "team_id", "overseer")
    }
    for event in events:
        if not (event.object_id.isdigit() and int(event.object_id) in customers):
            continue
        owner_id, team_id = customers[int(event.object_id)]
        actor_team, overseer = actors.get(event.actor_id, (None, 0))
        if event.actor_id == owner_id or overseer:
            continue
        event.outside_team = actor_team is None or actor_team != team_id


# --- the DPO's edits ------------------------------------------------------------------------


def alert_threshold_update(*, actor, threshold_id: int, limit: int, is_active: bool):
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.utils.translation import gettext as _

    from audit import events
    from audit.models import AlertThreshold
    from audit.services import record_event

    if not actor.has_perm("audit.change_alertthreshold"):
        raise PermissionDenied
    if limit is None or limit < 1:
        raise ValidationError({"limit": _("Give a limit between 1 and 100000.")})
    with transaction.atomic():
        threshold = AlertThreshold.objects.select_for_update().get(pk=threshold_id)
        if threshold.limit == limit and threshold.is_active == is_active:
            return threshold
        before = {"limit": threshold.limit, "is_active": threshold.is_active}
        threshold.limit, threshold.is_active = limit, is_active
        threshold.save(update_fields=["limit", "is_active", "updated_at"])
        record_event(
            action=events.ALERT_THRESHOLD_CHANGED,
            actor=actor,
            obj=threshold,
            data={
                "kind": threshold.kind,
                "window": threshold.window,
                "before": before,
                "after": {"limit": limit, "is_active": is_active},
            },
        )
    return threshold


def access_alert_acknowledge(*, actor, alert_id: int):
    from django.core.exceptions import PermissionDenied

    from audit.models import AccessAlert

    if not actor.has_perm("audit.change_accessalert"):
        raise PermissionDenied
    with transaction.atomic():
        alert = AccessAlert.objects.select_for_update().get(pk=alert_id)
        if alert.acknowledged_at is None:
            alert.acknowledged_at = timezone.now()
            alert.save(update_fields=["acknowledged_at", "updated_at"])
    return alert
