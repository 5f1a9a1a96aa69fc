"""Access monitoring (issue 12 item 2): thresholds as data, one alert per window."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from audit import events, monitoring
from audit.models import AccessAlert, AlertThreshold, AuditEvent
from audit.services import record_event
from crm import roles
from crm.models import Notification
from crm.tests.factories import TeamFactory, UserFactory
from customers import services
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo():
    return UserFactory(role=roles.DPO)


def _reveal(user, customer, n):
    for _ in range(n):
        record_event(
            action="customers.revealed", actor=user, obj=customer, data={"fields": ["phone"]}
        )


def test_the_alert_fires_once_at_the_threshold_and_not_below(
    dpo, django_capture_on_commit_callbacks
):
    AlertThreshold.objects.filter(kind="reveal", window="hour").update(limit=3)
    AlertThreshold.objects.filter(kind="reveal", window="day").update(limit=1000)
    user = rep(team=TeamFactory(name="North"))
    customer = make_customer(user)

    with django_capture_on_commit_callbacks(execute=True):
        _reveal(user, customer, 2)
    assert AccessAlert.objects.count() == 0  # below the threshold

    with django_capture_on_commit_callbacks(execute=True):
        _reveal(user, customer, 1)  # the third: at the threshold
    alert = AccessAlert.objects.get()
    assert (alert.kind, alert.window, alert.count, alert.limit) == ("reveal", "hour", 3, 3)
    note = Notification.objects.get(code="audit.access_alert")
    assert note.recipient == dpo and note.params == {"user": user.pk, "count": 3, "limit": 3}
    assert AuditEvent.objects.filter(action=events.ACCESS_ALERT_RAISED).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        _reveal(user, customer, 3)
    assert AccessAlert.objects.count() == 1  # once per window
    assert Notification.objects.filter(code="audit.access_alert").count() == 1


def test_a_new_window_can_alert_again_and_inactive_thresholds_do_not(dpo):
    AlertThreshold.objects.update(is_active=False)
    AlertThreshold.objects.filter(kind="export", window="day").update(limit=2, is_active=True)
    user = rep()
    for _ in range(2):
        record_event(action="customers.exported", actor=user, data={"rows": 10})
    assert len(monitoring.access_thresholds_check(user_id=user.pk, kind="export")) == 1
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    # Nothing yet in tomorrow's window.
    assert monitoring.access_thresholds_check(user_id=user.pk, kind="export", now=tomorrow) == []
    assert monitoring.access_thresholds_check(user_id=user.pk, kind="reveal") == []


def test_events_are_classed_by_their_action():
    assert monitoring.kind_of("customers.revealed") == "reveal"
    assert monitoring.kind_of("credit.exported") == "export"
    assert monitoring.kind_of("customers.viewed") == "card_view"
    assert monitoring.kind_of("customers.updated") is None


def test_after_hours_and_outside_the_team_are_flagged(dpo, settings):
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    owner, manager, stranger = rep(team=north), manager_of(north), rep(team=south)
    customer = make_customer(owner)
    services.customer_view_record(actor=owner, customer=customer)
    services.customer_view_record(actor=manager, customer=customer)
    services.customer_view_record(actor=stranger, customer=customer)
    services.customer_view_record(actor=dpo, customer=customer)
    page = list(AuditEvent.objects.filter(action="customers.viewed").select_related("content_type"))
    monitoring.flag_events(page)
    flagged = {event.actor_id: event.outside_team for event in page}
    assert flagged == {owner.pk: False, manager.pk: False, stranger.pk: True, dpo.pk: False}

    settings.PRIVACY = {**settings.PRIVACY, "WORK_HOURS_START": 8, "WORK_HOURS_END": 20}
    monday = timezone.make_aware(datetime.datetime(2026, 11, 30, 23, 30))
    assert monitoring.after_hours(monday)
    assert not monitoring.after_hours(monday.replace(hour=10))
    assert monitoring.after_hours(monday.replace(day=29, hour=10))  # a Sunday


def test_the_dpo_changes_a_threshold_audited(dpo):
    threshold = AlertThreshold.objects.get(kind="reveal", window="hour")
    monitoring.alert_threshold_update(actor=dpo, threshold_id=threshold.pk, limit=7, is_active=True)
    threshold.refresh_from_db()
    assert threshold.limit == 7
    event = AuditEvent.objects.get(action=events.ALERT_THRESHOLD_CHANGED)
    assert event.data["after"] == {"limit": 7, "is_active": True}
