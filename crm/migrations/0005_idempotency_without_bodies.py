from django.db import migrations, models


class Migration(migrations.Migration):
    """Idempotency records keep the id of what was made, never the response body."""

    dependencies = [("crm", "0004_search_digest")]

    operations = [
        migrations.RemoveField(model_name="idempotencyrecord", name="response_body"),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="resource_id",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
