"""Every row with encrypted values gets its stable identity (``uid``).

New ciphertexts are bound to it (``crm.fields``). Existing rows get a fresh uid; their
history rows get the uid of the row they record, so that history values re-encrypted by
``manage.py reencrypt`` open as the row's own do. Rows recorded only in history (deleted
since) get one uid per deleted row.
"""

import uuid

from django.db import migrations, models

MODELS = (
    "customer",
    "contact",
    "identitydocument",
    "consent",
    "interaction",
    "stagemove",
    "visitplanentry",
    "customattributevalue",
)
BATCH = 2000


def assign_uids(apps, schema_editor):
    for name in MODELS:
        live = apps.get_model("customers", name)
        history = apps.get_model("customers", f"historical{name}")
        uids = {}
        pks = list(live.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), BATCH):
            rows = [live(pk=pk, uid=uuid.uuid4()) for pk in pks[start : start + BATCH]]
            live.objects.bulk_update(rows, ["uid"])
            uids.update({row.pk: row.uid for row in rows})
        records = history.objects.order_by("history_id").values_list("history_id", "id")
        pending = []
        for history_id, row_id in records.iterator(chunk_size=BATCH):
            row_uid = uids.setdefault(row_id, uuid.uuid4())
            pending.append(history(history_id=history_id, uid=row_uid))
            if len(pending) >= BATCH:
                history.objects.bulk_update(pending, ["uid"])
                pending = []
        if pending:
            history.objects.bulk_update(pending, ["uid"])


def _add_nullable(name):
    return [
        migrations.AddField(
            model_name=name,
            name="uid",
            field=models.UUIDField(editable=False, null=True, verbose_name="row id"),
        ),
        migrations.AddField(
            model_name=f"historical{name}",
            name="uid",
            field=models.UUIDField(editable=False, null=True, verbose_name="row id"),
        ),
    ]


def _make_required(name):
    return [
        migrations.AlterField(
            model_name=name,
            name="uid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="row id"
            ),
        ),
        migrations.AlterField(
            model_name=f"historical{name}",
            name="uid",
            field=models.UUIDField(
                db_index=True, default=uuid.uuid4, editable=False, verbose_name="row id"
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_duplicate_constraints"),
    ]

    operations = [
        *[op for name in MODELS for op in _add_nullable(name)],
        migrations.RunPython(assign_uids, migrations.RunPython.noop, elidable=False),
        *[op for name in MODELS for op in _make_required(name)],
    ]
