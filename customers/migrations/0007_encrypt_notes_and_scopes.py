"""Stage-move notes and consent scopes are free text that may hold personal details:
encrypt them under the customer's key, in the live and the history tables."""

import crm.fields
from django.db import migrations

from crm import encryption

COLUMNS = (("stagemove", "note"), ("consent", "scope"))


def encrypt_existing(apps, schema_editor):
    for model_name, column in COLUMNS:
        for name in (model_name, f"historical{model_name}"):
            model = apps.get_model("customers", name)
            rows = model.objects.exclude(**{column: ""}).exclude(**{f"{column}__isnull": True})
            pk_name = model._meta.pk.attname
            for pk, row_uid, key_id, value in rows.values_list(
                pk_name, "uid", "data_key_id", column
            ).iterator(chunk_size=1000):
                text = str(value)
                if encryption.is_encrypted(text):
                    continue
                token = encryption.encrypt(
                    text, key_id, context=f"customers.{model_name}|{column}|{row_uid}"
                )
                model.objects.filter(**{pk_name: pk}).update(**{column: token})


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_search_digests_to_keys")]

    operations = [
        migrations.AlterField(
            model_name="consent",
            name="scope",
            field=crm.fields.EncryptedCharField(
                blank=True, max_length=300, null=True, subject_key_field="data_key_id",
                verbose_name="scope",
            ),
        ),
        migrations.AlterField(
            model_name="historicalconsent",
            name="scope",
            field=crm.fields.EncryptedCharField(
                blank=True, max_length=300, null=True, subject_key_field="data_key_id",
                verbose_name="scope",
            ),
        ),
        migrations.AlterField(
            model_name="stagemove",
            name="note",
            field=crm.fields.EncryptedCharField(
                blank=True, max_length=300, null=True, subject_key_field="data_key_id",
                verbose_name="note",
            ),
        ),
        migrations.AlterField(
            model_name="historicalstagemove",
            name="note",
            field=crm.fields.EncryptedCharField(
                blank=True, max_length=300, null=True, subject_key_field="data_key_id",
                verbose_name="note",
            ),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop, elidable=False),
    ]
