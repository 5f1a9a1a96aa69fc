"""A keyed chain linked at commit (issue 6, item 3).

* ``sequence``, ``previous_hash`` and ``hash`` may be empty: ``record_event`` inserts an
  event unchained, and the chainer links it right after the caller's transaction commits.
* ``hash_scheme``: the events already written keep their plain SHA-256 (``1``, legacy);
  new ones are HMACs under ``AUDIT_CHAIN_KEY`` (``2``). ``content_mac`` is stamped at
  insert so that only rows the application wrote are ever chained.
* The append-only triggers are replaced (0002 is left as it was): still no DELETE and no
  UPDATE, except the one-time chaining of an unchained row, which may set its sequence and
  hashes and nothing else. SQLite rebuilds the table to alter it, which drops its
  triggers, so they are dropped first and created again at the end.
"""

import uuid

from django.db import migrations, models

import crm.fields

OLD_POSTGRES_CREATE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""
OLD_SQLITE_CREATE = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (DELETE refused)'); END;""",
]
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_update;",
    "DROP TRIGGER IF EXISTS audit_event_no_delete;",
]

# Every column but the three the chainer sets; to_jsonb covers columns added later too.
POSTGRES_CREATE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.sequence IS NULL AND NEW.sequence IS NOT NULL AND NEW.hash IS NOT NULL
       AND (to_jsonb(NEW) - 'sequence' - 'previous_hash' - 'hash')
           = (to_jsonb(OLD) - 'sequence' - 'previous_hash' - 'hash') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""
_UNCHANGED = " AND ".join(
    f"NEW.{column} IS OLD.{column}"
    for column in (
        "id",
        "occurred_at",
        "actor_id",
        "actor_username",
        "action",
        "content_type_id",
        "object_id",
        "reason",
        "ip_address",
        "user_agent",
        "data",
        "hash_scheme",
        "content_mac",
        "uid",
        "subject_key_id",
    )
)
SQLITE_CREATE = [
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
       WHEN NOT (OLD.sequence IS NULL AND NEW.sequence IS NOT NULL AND NEW.hash IS NOT NULL
                 AND {_UNCHANGED})
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (DELETE refused)'); END;""",
]


def _run(schema_editor, statements_by_vendor):
    statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
    for statement in [statements] if isinstance(statements, str) else statements:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP})


def create_old_triggers(apps, schema_editor):
    _run(schema_editor, {"postgresql": OLD_POSTGRES_CREATE, "sqlite": OLD_SQLITE_CREATE})


def assign_uids(apps, schema_editor):
    event_model = apps.get_model("audit", "auditevent")
    for pk in event_model.objects.order_by("pk").values_list("pk", flat=True).iterator():
        event_model.objects.filter(pk=pk).update(uid=uuid.uuid4())


def create_triggers(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE})


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.RunPython(drop_triggers, create_old_triggers),
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": [
                    models.OrderBy(models.F("sequence"), descending=True, nulls_first=True),
                    "-id",
                ],
                "permissions": [("verify_audit_chain", "Can verify the audit chain")],
                "verbose_name": "audit event",
                "verbose_name_plural": "audit events",
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="content_mac",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        # Events already written are legacy (plain SHA-256); new ones default to HMAC.
        migrations.AddField(
            model_name="auditevent",
            name="hash_scheme",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (1, "SHA-256 (before the chain was keyed)"),
                    (2, "HMAC-SHA256 under the audit chain key"),
                ],
                default=1,
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash_scheme",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (1, "SHA-256 (before the chain was keyed)"),
                    (2, "HMAC-SHA256 under the audit chain key"),
                ],
                default=2,
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(
                blank=True, null=True, unique=True, verbose_name="sequence"
            ),
        ),
        # Reasons are encrypted from now on, bound to the event's uid; the reasons of the
        # events already written stay as they are (clear), like their hashes.
        migrations.AddField(
            model_name="auditevent",
            name="uid",
            field=models.UUIDField(editable=False, null=True, verbose_name="row id"),
        ),
        migrations.RunPython(assign_uids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="uid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="row id"
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="subject_key_id",
            field=models.UUIDField(blank=True, db_index=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="reason",
            field=crm.fields.EncryptedTextField(
                blank=True,
                legacy_clear=True,
                master_key_fallback=True,
                null=True,
                subject_key_field="subject_key_id",
                verbose_name="reason",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
