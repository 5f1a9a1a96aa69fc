"""Import jobs keep their file name encrypted (a file name can name a person)."""

import uuid

import crm.fields
from django.db import migrations, models

from crm import encryption


def encrypt_file_names(apps, schema_editor):
    live = apps.get_model("customers", "importjob")
    history = apps.get_model("customers", "historicalimportjob")
    uids = {}
    for job in live.objects.order_by("pk").only("pk"):
        uids[job.pk] = uuid.uuid4()
        live.objects.filter(pk=job.pk).update(uid=uids[job.pk])
    for record in history.objects.order_by("history_id").only("history_id", "id"):
        row_uid = uids.setdefault(record.id, uuid.uuid4())
        history.objects.filter(history_id=record.history_id).update(uid=row_uid)
    for model, pk_name in ((live, "pk"), (history, "history_id")):
        rows = model.objects.exclude(file_name="").values_list(pk_name, "uid", "file_name")
        for pk, row_uid, name in rows.iterator(chunk_size=1000):
            text = str(name)
            if encryption.is_encrypted(text):
                continue
            token = encryption.encrypt(
                text, None, context=f"customers.importjob|file_name|{row_uid}"
            )
            model.objects.filter(**{pk_name: pk}).update(file_name=token)


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_encrypt_notes_and_scopes")]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="uid",
            field=models.UUIDField(editable=False, null=True, verbose_name="row id"),
        ),
        migrations.AddField(
            model_name="historicalimportjob",
            name="uid",
            field=models.UUIDField(editable=False, null=True, verbose_name="row id"),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="file_name",
            field=crm.fields.EncryptedCharField(
                blank=True, max_length=255, null=True, verbose_name="file"
            ),
        ),
        migrations.AlterField(
            model_name="historicalimportjob",
            name="file_name",
            field=crm.fields.EncryptedCharField(
                blank=True, max_length=255, null=True, verbose_name="file"
            ),
        ),
        migrations.RunPython(encrypt_file_names, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="importjob",
            name="uid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="row id"
            ),
        ),
        migrations.AlterField(
            model_name="historicalimportjob",
            name="uid",
            field=models.UUIDField(
                db_index=True, default=uuid.uuid4, editable=False, verbose_name="row id"
            ),
        ),
    ]
