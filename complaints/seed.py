"""Demo complaints for ``manage.py seed_demo``: the current year's public holidays and
make-up working days entered as calendar data, and complaints in every status (one overdue,
one escalated), logged by the service desk through the services."""

from __future__ import annotations

import datetime

from crm import seeding

# China's public holidays and make-up working days (调休) of 2026, as the State Council
# published them: data entered into the calendar, never used by the deadline logic itself.
HOLIDAYS_2026 = {
    "元旦": ["2026-01-01", "2026-01-02", "2026-01-03"],
    "春节": [f"2026-02-{day:02d}" for day in range(15, 24)],
    "清明节": ["2026-04-04", "2026-04-05", "2026-04-06"],
    "劳动节": [f"2026-05-{day:02d}" for day in range(1, 6)],
    "端午节": ["2026-06-19", "2026-06-20", "2026-06-21"],
    "中秋节": ["2026-09-25", "2026-09-26", "2026-09-27"],
    "国庆节": [f"2026-10-{day:02d}" for day in range(1, 8)],
}
WORKDAYS_2026 = {
    "元旦调休": ["2026-01-04"],
    "春节调休": ["2026-02-14", "2026-02-28"],
    "劳动节调休": ["2026-05-09"],
    "国庆节调休": ["2026-09-20", "2026-10-10"],
}


def calendar_fill(*, actor, holidays: dict, workdays: dict) -> int:
    """Enter holidays and make-up days (``{name: [ISO dates]}``) through the service."""
    from complaints import services

    count = 0
    for kind, table in (("holiday", holidays), ("workday", workdays)):
        for name, dates in table.items():
            for text in dates:
                services.calendar_day_set(
                    actor=actor, date=datetime.date.fromisoformat(text), kind=kind, name=name
                )
                count += 1
    return count


@seeding.register("complaints", order=40)
def seed_complaints(*, stdout, password):
    from django.utils import timezone

    from complaints import services
    from complaints.models import CalendarDay, Complaint
    from crm.models import User
    from customers.models import Customer

    if Complaint.objects.exists():
        stdout.write("  complaints: already present, left as they are")
        return
    admin = User.objects.filter(username="admin").first()
    if admin and not CalendarDay.objects.exists():
        days = calendar_fill(actor=admin, holidays=HOLIDAYS_2026, workdays=WORKDAYS_2026)
        stdout.write(f"  calendar: {days} holidays and make-up days of 2026")
    staff = User.objects.filter(username="service1").first()
    manager = User.objects.filter(username="servicemgr").first()
    customers = list(Customer.objects.order_by("code")[:6])
    if not (staff and manager and customers):
        stdout.write("  complaints: no service desk or customers, none made")
        return
    now = timezone.now()

    def log(customer, category, severity, days_ago, text):
        services.caller_lookup(actor=staff, by="code", value=customer.code, purpose="log_complaint")
        return services.complaint_create(
            actor=staff,
            customer_id=customer.pk,
            channel="phone",
            category=category,
            severity=severity,
            description=text,
            received_at=now - datetime.timedelta(days=days_ago),
        )

    def move(complaint, *steps, **kwargs):
        for step in steps:
            complaint = services.complaint_transition(
                actor=staff, complaint_id=complaint.pk, to=step, **kwargs.get(step, {})
            )
        return complaint

    received = log(customers[0], "delivery", "low", 0, "送货延迟两天。")
    log(customers[1], "product-quality", "medium", 20, "产品外壳开裂，要求更换。")  # overdue
    investigating = log(customers[2], "billing", "high", 0, "发票金额与订单不符。")
    services.complaint_assign(actor=manager, complaint_id=investigating.pk, assignee=staff)
    move(investigating, "investigating")
    resolved = log(customers[3], "delivery", "medium", 5, "货物包装破损。")
    move(
        resolved,
        "investigating",
        "resolved",
        resolved={"resolution": "已补发新货。", "root_cause": "transport-damage"},
    )
    informed = log(customers[4], "service-attitude", "low", 8, "送货员态度不佳。")
    move(
        informed,
        "investigating",
        "resolved",
        "customer_informed",
        resolved={"resolution": "已致歉并培训员工。", "root_cause": "staff-error"},
    )
    closed = log(customers[5], "product-quality", "medium", 30, "商品与描述不符。")
    move(
        closed,
        "investigating",
        "resolved",
        "customer_informed",
        resolved={"resolution": "已退款。", "root_cause": "misunderstanding"},
    )
    services.return_visit_record(
        actor=staff, complaint_id=closed.pk, outcome="satisfied", note="客户满意。"
    )
    move(closed, "closed", closed={"satisfaction_score": 4})
    escalated = services.complaints_escalate_overdue()
    stdout.write(
        f"  complaints: {Complaint.objects.count()} in every status "
        f"({received.code} new), {escalated} breaches escalated"
    )
