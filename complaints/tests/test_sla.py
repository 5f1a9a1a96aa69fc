"""Deadlines on the working calendar (DESIGN §6.4), with the clock fixed by explicit times.

The calendar of the reference migration: Monday to Friday, 09:00–12:00 and 13:00–18:00
(8 business hours a day), Asia/Shanghai.
"""

import datetime
from decimal import Decimal

import pytest

from complaints import services, sla
from complaints.models import CalendarDay
from complaints.tests.factories import aware, make_complaint, service_staff
from crm import roles
from crm.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def due(start: str, hours, **kwargs) -> datetime.datetime:
    return sla.WorkingCalendar().add(aware(start), Decimal(str(hours)), **kwargs)


@pytest.fixture
def national_day():
    """2026: 1–7 October off; Saturday 10 October a make-up working day (调休)."""
    admin = UserFactory(role=roles.ADMIN)
    for day in range(1, 8):
        services.calendar_day_set(
            actor=admin, date=datetime.date(2026, 10, day), kind="holiday", name="国庆节"
        )
    services.calendar_day_set(
        actor=admin, date=datetime.date(2026, 10, 10), kind="workday", name="国庆节调休"
    )


def test_within_one_working_day():
    assert due("2026-11-25 09:30", 2) == aware("2026-11-25 11:30")


def test_lunch_break_is_not_counted():
    assert due("2026-11-25 11:00", 2) == aware("2026-11-25 14:00")


def test_weekend_is_skipped():
    # Friday 16:00 + 4 h: two on Friday, two on Monday morning.
    assert due("2026-11-27 16:00", 4) == aware("2026-11-30 11:00")


def test_receipt_outside_working_hours_counts_from_the_next_working_moment():
    assert due("2026-11-28 10:00", 1) == aware("2026-11-30 10:00")  # a Saturday
    assert due("2026-11-25 20:30", 1) == aware("2026-11-26 10:00")  # evening
    assert due("2026-11-25 07:00", 1) == aware("2026-11-25 10:00")  # early
    assert due("2026-11-25 12:30", 1) == aware("2026-11-25 14:00")  # lunch


def test_a_holiday_spanning_the_deadline_is_not_counted(national_day):
    # Wednesday 30 September 17:00 + 4 h: one hour that day, none 1–7 October, three on
    # Thursday 8 October.
    assert due("2026-09-30 17:00", 4) == aware("2026-10-08 12:00")


def test_a_make_up_saturday_is_a_working_day(national_day):
    assert due("2026-10-09 17:00", 2) == aware("2026-10-10 10:00")
    CalendarDay.objects.filter(date="2026-10-10").delete()
    assert due("2026-10-09 17:00", 2) == aware("2026-10-12 10:00")


def test_calendar_hours_count_every_hour():
    assert due("2026-11-28 10:00", 2, calendar_hours=True) == aware("2026-11-28 12:00")


def test_business_hours_between_two_moments(national_day):
    calendar = sla.WorkingCalendar()
    assert calendar.between(aware("2026-11-27 16:00"), aware("2026-11-30 11:00")) == Decimal("4.00")
    # 1 (30 Sep) + 8 (8 Oct) + 8 (9 Oct) + 1 (make-up Saturday 10 Oct until 10:00)
    assert calendar.between(aware("2026-09-30 17:00"), aware("2026-10-10 10:00")) == Decimal(
        "18.00"
    )


def test_a_calendar_without_working_hours_refuses():
    calendar = sla.WorkingCalendar.fixed(periods=[], days={})
    with pytest.raises(sla.NoWorkingHours):
        calendar.add(aware("2026-11-25 09:00"), 1)


def test_complaint_deadlines_follow_its_severity(national_day):
    # medium: first response 8 business hours, resolution 40.
    complaint = make_complaint(severity="medium", received_at=aware("2026-09-30 17:00"))
    # 1 (30 Sep) + 7 (8 Oct: 09–12, 13–17)
    assert complaint.first_response_due == aware("2026-10-08 17:00")
    # 1 (30 Sep) + 8 (8 Oct) + 8 (9 Oct) + 8 (Sat 10 Oct) + 8 (12 Oct) + 7 (13 Oct until 17:00)
    assert complaint.resolution_due == aware("2026-10-13 17:00")


def test_critical_complaints_count_calendar_hours():
    complaint = make_complaint(severity="critical", received_at=aware("2026-11-28 10:00"))
    assert complaint.first_response_due == aware("2026-11-28 12:00")
    assert complaint.resolution_due == aware("2026-11-28 18:00")


def test_sla_policy_change_is_audited_and_applies_to_new_complaints():
    from audit.models import AuditEvent

    admin = UserFactory(role=roles.ADMIN)
    services.sla_policy_set(actor=admin, severity="low", first_response_hours=1, resolution_hours=2)
    assert AuditEvent.objects.filter(action="complaints.sla_policy_changed").count() == 1
    complaint = make_complaint(severity="low", received_at=aware("2026-11-25 09:00"))
    assert complaint.first_response_due == aware("2026-11-25 10:00")
    assert complaint.resolution_due == aware("2026-11-25 11:00")


def test_only_the_admin_edits_the_calendar():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.calendar_day_set(
            actor=service_staff(), date=datetime.date(2026, 5, 1), kind="holiday"
        )


def test_with_the_clock_frozen_in_a_holiday_the_deadline_waits_for_its_end(national_day):
    """The clock itself frozen (no received_at given): Saturday 3 October 2026, in the
    National Day holiday; 8 business hours (medium) end on Thursday 8 October at 18:00,
    and the complaint is not overdue during the holiday."""
    from unittest import mock

    from django.utils import timezone

    frozen = aware("2026-10-03 10:00")
    with mock.patch.object(timezone, "now", return_value=frozen):
        complaint = make_complaint(severity="medium")
        assert complaint.received_at == frozen
        assert complaint.first_response_due == aware("2026-10-08 18:00")
        assert not complaint.overdue()
    with mock.patch.object(timezone, "now", return_value=aware("2026-10-07 23:00")):
        assert not complaint.overdue()
        assert services.complaints_escalate_overdue() == 0
    with mock.patch.object(timezone, "now", return_value=aware("2026-10-08 18:01")):
        assert complaint.overdue()
