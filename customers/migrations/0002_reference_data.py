"""Seed the reference lists: business types (业种), tiers and service stages."""

from django.db import migrations

BUSINESS_TYPES = [
    ("national-parts-distributor", "National parts distributor", "全国性零部件经销商"),
    ("national-supplies-dealer", "National supplies dealer", "全国性用品经销商"),
    ("regional-electrical-store", "Regional electrical store", "地区性电器店"),
    ("regional-specialty-store", "Regional specialty store", "地区性专卖店"),
    ("regional-mass-merchandiser", "Regional mass merchandiser", "地区性量贩店"),
    ("regional-diy-store", "Regional DIY store", "地区性家居建材店"),
    ("other", "Other", "其他"),
]
TIERS = [
    ("a", "Key account", "重点客户", 180, 1),
    ("b", "Regular", "普通客户", 365, 2),
    ("c", "Occasional", "一般客户", 730, 3),
]
STAGES = [
    ("inquiry", "Inquiry", "咨询", 1),
    ("signed", "Signed / enrolled", "签约/报名", 2),
    ("in-service", "In service", "服务中", 3),
    ("feedback", "Feedback", "反馈", 4),
    ("after-sales", "After-sales", "售后", 5),
]


def seed(apps, schema_editor):
    BusinessType = apps.get_model("customers", "BusinessType")
    Tier = apps.get_model("customers", "Tier")
    ServiceStage = apps.get_model("customers", "ServiceStage")
    for code, name, name_zh in BUSINESS_TYPES:
        BusinessType.objects.get_or_create(code=code, defaults={"name": name, "name_zh": name_zh})
    for code, name, name_zh, days, rank in TIERS:
        Tier.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_zh": name_zh, "reverification_days": days, "rank": rank},
        )
    for code, name, name_zh, order in STAGES:
        ServiceStage.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
