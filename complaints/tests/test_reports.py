"""The service report against a small hand-computed data set."""

import datetime
from decimal import Decimal

import pytest

from complaints import selectors
from complaints.models import Complaint, RootCause
from complaints.tests.factories import aware, make_complaint, service_manager

pytestmark = pytest.mark.django_db


def test_report_against_a_hand_computed_set(assert_queries):
    manager = service_manager()
    day = aware("2026-01-05 09:00")
    hour = datetime.timedelta(hours=1)
    rows = [
        # category, channel, first h, responded late, resolution h, resolved late, score, cause
        ("delivery", "phone", "1", False, "10", False, 5, "transport-damage"),
        ("delivery", "phone", "3", True, "20", True, 3, "transport-damage"),
        ("delivery", "phone", "2", False, None, None, None, None),
        ("billing", "online", "5", False, "30", False, 4, "staff-error"),
    ]
    for category, channel, first, first_late, resolution, late, score, cause in rows:
        complaint = make_complaint(
            actor=manager, category=category, channel=channel, received_at=day
        )
        due = complaint.first_response_due
        fields = {
            "first_responded_at": due + hour if first_late else due - hour,
            "first_response_hours": Decimal(first),
            "satisfaction_score": score,
            "root_cause": RootCause.objects.get(code=cause) if cause else None,
        }
        if resolution is not None:
            fields |= {
                "resolved_at": complaint.resolution_due + (hour if late else -hour),
                "resolution_hours": Decimal(resolution),
                "status": "resolved",
            }
        Complaint.objects.filter(pk=complaint.pk).update(**fields)
    Complaint.objects.filter(category__code="billing").update(is_repeat=True)

    # 13 for the complaints, 2 for the surveys' CSAT (test_surveys checks its figures).
    with assert_queries(default=15, keys=0):
        report = selectors.service_report(user=manager, start=datetime.date(2026, 1, 1))
    assert report["total"] == 4
    assert report["first_response_compliance"] == Decimal("75.0")
    assert report["resolution_compliance"] == Decimal("66.7")
    assert report["first_response_median"] == Decimal("2.00")
    assert report["first_response_p90"] == Decimal("5.00")
    assert report["resolution_median"] == Decimal("20.00")
    assert report["resolution_p90"] == Decimal("30.00")
    assert report["csat_average"] == Decimal("4.00")
    assert report["csat_distribution"] == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert report["repeat_rate"] == Decimal("25.0")
    assert [(r["root_cause__code"], r["count"]) for r in report["top_root_causes"]] == [
        ("transport-damage", 2),
        ("staff-error", 1),
    ]
    assert [(r["category__code"], r["count"]) for r in report["by_category"]] == [
        ("billing", 1),
        ("delivery", 3),
    ]
    assert [(r["channel"], r["count"]) for r in report["by_channel"]] == [
        ("online", 1),
        ("phone", 3),
    ]
    assert report["by_category"][0]["period"].date() == datetime.date(2026, 1, 1)
    assert report["surveys"]["invited"] == 0 and report["surveys"]["csat_average"] is None
