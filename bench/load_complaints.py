"""Bench data of the complaints app: 30,000 complaints on the bench's customers, over the
last year, in every status, worked by a service desk of five staff and one service manager.

Rows are made in Python (the description is encrypted under each customer's data key, as
the service does; the keys are preloaded a batch at a time) and written with
``bulk_create_with_history``, so each complaint has its history row. Deadlines come from
the working calendar (``complaints.sla``), one calendar for the whole load. Resumable:
complaints already loaded (code prefix ``CB``) are counted and not made again.

Entry points (the lead hooks them into ``bench.loader``):

* ``service_users_create(password: str) -> dict`` — ``service01``…``service05`` (service
  staff) and ``servicemgr`` (service manager), one known password;
* ``load_complaints(count: int = 30_000, *, batch: int = 1_000) -> dict`` — counts and
  seconds.
"""

from __future__ import annotations

import datetime
import random
import time

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

COMPLAINTS = 30_000
PREFIX = "CB"
STAFF = 5
DESCRIPTIONS = (
    "货物包装破损，客户要求换货。",
    "送货比约定晚了三天。",
    "发票金额与订单不符。",
    "门店员工态度不佳。",
    "产品使用一周后出现故障。",
)


def service_users_create(password: str) -> dict:
    """The bench's service desk: five staff and their manager (idempotent)."""
    from crm import roles
    from crm.models import User
    from crm.services import user_create

    def user(username, role):
        existing = User.objects.filter(username=username).first()
        return existing or user_create(username=username, role=role, password=None, validate=False)

    staff = [user(f"service{k + 1:02d}", roles.SERVICE_STAFF) for k in range(STAFF)]
    manager = user("servicemgr", roles.SERVICE_MANAGER)
    User.objects.filter(pk__in=[manager.pk, *[u.pk for u in staff]]).update(
        password=make_password(password)
    )
    return {"staff": staff, "manager": manager}


def _rows(customers, categories, causes, people, calendar, policies, start: int, now):
    from complaints.models import Complaint

    rng = random.Random(start)
    staff, manager = people["staff"], people["manager"]
    statuses = Complaint.Status.values
    rows = []
    for offset, (customer_id, key_id) in enumerate(customers):
        number = start + offset + 1
        received = now - datetime.timedelta(minutes=rng.randrange(365 * 24 * 60))
        severity = rng.choice(("low", "medium", "medium", "high", "critical"))
        policy = policies[severity]
        status = statuses[number % len(statuses)]
        first_due = calendar.add(
            received, policy.first_response_hours, calendar_hours=policy.calendar_hours
        )
        resolution_due = calendar.add(
            received, policy.resolution_hours, calendar_hours=policy.calendar_hours
        )
        complaint = Complaint(
            code=f"{PREFIX}{number:08d}",
            customer_id=customer_id,
            data_key_id=key_id,
            channel=rng.choice(("phone", "visit", "letter", "online", "in_store")),
            category_id=rng.choice(categories),
            severity=severity,
            description=DESCRIPTIONS[number % len(DESCRIPTIONS)],
            received_at=received,
            received_by=manager,
            status=status,
            first_response_due=first_due,
            resolution_due=resolution_due,
            assignee=None if number % 4 == 0 else staff[number % len(staff)],
        )
        if status != "received":
            complaint.first_responded_at = received + datetime.timedelta(hours=rng.randrange(1, 12))
            complaint.first_response_hours = calendar.between(
                received, complaint.first_responded_at
            )
        if status in ("resolved", "customer_informed", "closed"):
            complaint.resolved_at = received + datetime.timedelta(hours=rng.randrange(12, 120))
            complaint.resolution_hours = calendar.between(received, complaint.resolved_at)
            complaint.root_cause_id = rng.choice(causes)
            complaint.resolution = "已处理。"
        if status == "closed":
            complaint.closed_at = complaint.resolved_at + datetime.timedelta(days=3)
            complaint.satisfaction_score = rng.randint(1, 5)
            complaint.return_visit_skip_reason = "批量导入"
        rows.append(complaint)
    return rows


def load_complaints(count: int = COMPLAINTS, *, batch: int = 1_000, password: str = "") -> dict:
    """Load ``count`` complaints (minus those already loaded) on the bench's customers."""
    from complaints import sla
    from complaints.models import Category, Complaint, RootCause, SlaPolicy
    from crm import encryption
    from customers.models import Customer

    started = time.perf_counter()
    people = service_users_create(password or "bench-Passw0rd!")
    done = Complaint.objects.filter(code__startswith=PREFIX).count()
    categories = list(Category.objects.values_list("pk", flat=True))
    causes = list(RootCause.objects.values_list("pk", flat=True))
    policies = {p.severity: p for p in SlaPolicy.objects.all()}
    calendar = sla.WorkingCalendar()
    now = timezone.now()
    customers = Customer.objects.exclude(status=Customer.Status.MERGED).order_by("pk")
    total_customers = customers.count()
    if not total_customers:
        return {"complaints": 0, "complaints_total": done, "seconds": 0.0}
    made = 0
    while done + made < count:
        size = min(batch, count - done - made)
        first = done + made
        # Customers spread over the whole table, some with several complaints (repeats).
        offset = (first * 7) % total_customers
        chosen = list(customers.values_list("pk", "data_key_id")[offset : offset + size])
        if len(chosen) < size:
            chosen += list(customers.values_list("pk", "data_key_id")[: size - len(chosen)])
        encryption.data_keys_preload({key for _pk, key in chosen})
        rows = _rows(chosen, categories, causes, people, calendar, policies, first, now)
        with transaction.atomic():
            bulk_create_with_history(rows, Complaint, batch_size=batch)
        encryption.clear_key_cache()
        made += len(rows)
    return {
        "complaints": made,
        "complaints_total": done + made,
        "seconds": round(time.perf_counter() - started, 1),
    }
