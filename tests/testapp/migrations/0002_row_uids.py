import uuid

from django.db import migrations, models


def _uid_fields(name):
    return [
        migrations.AddField(
            model_name=name,
            name="uid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="row id"
            ),
        ),
    ]


class Migration(migrations.Migration):
    # Test-only models: their tables are empty when this runs.
    dependencies = [("testapp", "0001_initial")]

    operations = [
        *_uid_fields("person"),
        *_uid_fields("note"),
        *_uid_fields("setting"),
        migrations.AddField(
            model_name="historicalperson",
            name="uid",
            field=models.UUIDField(
                db_index=True, default=uuid.uuid4, editable=False, verbose_name="row id"
            ),
        ),
        migrations.AddField(
            model_name="historicalnote",
            name="uid",
            field=models.UUIDField(
                db_index=True, default=uuid.uuid4, editable=False, verbose_name="row id"
            ),
        ),
    ]
