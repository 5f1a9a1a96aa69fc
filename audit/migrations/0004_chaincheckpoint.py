"""The audit chain's checkpoints: created in the ``keys`` database only (crm.db_routers)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_keyed_chain")]

    operations = [
        migrations.CreateModel(
            name="ChainCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sequence", models.PositiveBigIntegerField(verbose_name="sequence")),
                ("head_hash", models.CharField(max_length=64, verbose_name="head hash")),
                ("taken_at", models.DateTimeField(verbose_name="taken at")),
                ("mac", models.CharField(max_length=64)),
            ],
            options={
                "verbose_name": "audit chain checkpoint",
                "verbose_name_plural": "audit chain checkpoints",
                "ordering": ["-id"],
            },
        ),
    ]
