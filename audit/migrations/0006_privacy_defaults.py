"""Default retention policies and access-monitoring thresholds (data the DPO edits)."""

from django.db import migrations

POLICIES = [("customer", 5), ("interaction", 3), ("complaint", 3), ("audit_event", 10)]
THRESHOLDS = [
    ("reveal", "hour", 20),
    ("reveal", "day", 100),
    ("export", "hour", 5),
    ("export", "day", 20),
    ("card_view", "hour", 100),
    ("card_view", "day", 400),
]


def forwards(apps, schema_editor):
    RetentionPolicy = apps.get_model("audit", "RetentionPolicy")
    AlertThreshold = apps.get_model("audit", "AlertThreshold")
    for category, years in POLICIES:
        RetentionPolicy.objects.get_or_create(category=category, defaults={"years": years})
    for kind, window, limit in THRESHOLDS:
        AlertThreshold.objects.get_or_create(kind=kind, window=window, defaults={"limit": limit})


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_privacy_operations")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
