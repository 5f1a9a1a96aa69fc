"""Grants that expire and say who gave them; the clear-export permission for the roles.

Written by hand (only these operations): the grant tables get ``granted_by``,
``granted_at`` and ``expires_at`` (and so do their history tables); ``Customer`` gets the
``export_clear_customer`` permission, which the roles of ``crm.roles`` receive here.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def grant_roles(apps, schema_editor):
    from crm.roles import sync_roles

    # Create the new permission now so the roles get it in this migration.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    sync_roles(
        apps.get_model("auth", "Group"),
        apps.get_model("auth", "Permission"),
        only_apps={"customers"},
    )


def _terms(model_name: str, *, history: bool):
    granted_by = (
        models.ForeignKey(
            blank=True,
            db_constraint=False,
            null=True,
            on_delete=django.db.models.deletion.DO_NOTHING,
            related_name="+",
            to=settings.AUTH_USER_MODEL,
            verbose_name="granted by",
        )
        if history
        else models.ForeignKey(
            blank=True,
            null=True,
            on_delete=django.db.models.deletion.SET_NULL,
            related_name="+",
            to=settings.AUTH_USER_MODEL,
            verbose_name="granted by",
        )
    )
    return [
        migrations.AddField(model_name=model_name, name="granted_by", field=granted_by),
        migrations.AddField(
            model_name=model_name,
            name="granted_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="granted at"
            ),
        ),
        migrations.AddField(
            model_name=model_name,
            name="expires_at",
            field=models.DateTimeField(
                blank=True, db_index=True, null=True, verbose_name="expires at"
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0002_roles"),
        ("customers", "0004_row_uids"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *_terms("customeruserobjectpermission", history=False),
        *_terms("historicalcustomeruserobjectpermission", history=True),
        *_terms("customergroupobjectpermission", history=False),
        *_terms("historicalcustomergroupobjectpermission", history=True),
        migrations.AlterModelOptions(
            name="customer",
            options={
                "ordering": ["code"],
                "permissions": [
                    (
                        "reveal_customer",
                        "Can see a customer's personal data in clear (with a reason)",
                    ),
                    ("view_all_customers", "Can see every customer"),
                    ("merge_customer", "Can merge duplicate customer cards"),
                    ("export_customer", "Can export customer lists"),
                    (
                        "export_clear_customer",
                        "Can export customers' personal data in clear (with a reason)",
                    ),
                    ("import_customer", "Can import customers from files"),
                ],
                "verbose_name": "customer",
                "verbose_name_plural": "customers",
            },
        ),
        migrations.RunPython(grant_roles, migrations.RunPython.noop),
    ]
