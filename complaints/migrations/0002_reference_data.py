"""Seed the reference lists (categories, root causes), the SLA per severity and the
weekly working hours (Monday to Friday, 09:00–12:00 and 13:00–18:00)."""

import datetime
from decimal import Decimal

from django.db import migrations

CATEGORIES = [
    ("product-quality", "Product quality", "产品质量"),
    ("delivery", "Delivery", "配送"),
    ("billing", "Billing", "账单"),
    ("service-attitude", "Service attitude", "服务态度"),
    ("after-sales", "After-sales service", "售后服务"),
    ("other", "Other", "其他"),
]
ROOT_CAUSES = [
    ("manufacturing-defect", "Manufacturing defect", "生产缺陷"),
    ("transport-damage", "Damaged in transport", "运输损坏"),
    ("wrong-order", "Wrong order picked", "错发货"),
    ("staff-error", "Staff error", "员工差错"),
    ("misunderstanding", "Misunderstanding", "误解"),
    ("other", "Other", "其他"),
]
# severity, first response (hours), resolution (hours), calendar hours
SLA = [
    ("critical", Decimal("2"), Decimal("8"), True),
    ("high", Decimal("4"), Decimal("16"), False),
    ("medium", Decimal("8"), Decimal("40"), False),
    ("low", Decimal("16"), Decimal("80"), False),
]
PERIODS = [(datetime.time(9), datetime.time(12)), (datetime.time(13), datetime.time(18))]


def seed(apps, schema_editor):
    Category = apps.get_model("complaints", "Category")
    RootCause = apps.get_model("complaints", "RootCause")
    SlaPolicy = apps.get_model("complaints", "SlaPolicy")
    WorkingPeriod = apps.get_model("complaints", "WorkingPeriod")
    for code, name, name_zh in CATEGORIES:
        Category.objects.get_or_create(code=code, defaults={"name": name, "name_zh": name_zh})
    for code, name, name_zh in ROOT_CAUSES:
        RootCause.objects.get_or_create(code=code, defaults={"name": name, "name_zh": name_zh})
    for severity, first, resolution, calendar in SLA:
        SlaPolicy.objects.get_or_create(
            severity=severity,
            defaults={
                "first_response_hours": first,
                "resolution_hours": resolution,
                "calendar_hours": calendar,
            },
        )
    if not WorkingPeriod.objects.exists():
        for weekday in range(5):
            for start, end in PERIODS:
                WorkingPeriod.objects.create(weekday=weekday, start=start, end=end)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
