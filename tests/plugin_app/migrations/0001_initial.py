# The plug-in test app's ticket (tests only).

import crm.fields
import django.db.models.deletion
import django.utils.timezone
import simple_history.models
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('customers', '0008_import_file_names_encrypted'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalTicket',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(blank=True, editable=False, verbose_name='updated at')),
                ('uid', models.UUIDField(db_index=True, default=uuid.uuid4, editable=False, verbose_name='row id')),
                ('title', models.CharField(max_length=100)),
                ('confidential', models.BooleanField(default=False)),
                ('opened_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('note', crm.fields.EncryptedTextField(blank=True, null=True, subject_key_field='customer.data_key_id')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.TextField(null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('customer', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='customers.customer')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical ticket',
                'verbose_name_plural': 'historical tickets',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='Ticket',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('uid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='row id')),
                ('title', models.CharField(max_length=100)),
                ('confidential', models.BooleanField(default=False)),
                ('opened_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('note', crm.fields.EncryptedTextField(blank=True, null=True, subject_key_field='customer.data_key_id')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='plugin_tickets', to='customers.customer')),
            ],
            options={
                'ordering': ['-opened_at', '-id'],
                'permissions': [('view_confidential_ticket', 'Can see confidential tickets')],
            },
        ),
    ]
