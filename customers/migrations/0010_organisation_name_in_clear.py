"""Organisations' names in clear for exact substring search (issue 8, item 5; DESIGN §3).

An organisation's name is business data, not personal information: ``organisation_name``
holds it in clear (blank for individuals, whose names stay only encrypted) and, on
PostgreSQL, a trigram index (``pg_trgm``) on ``UPPER(organisation_name)`` serves the
case-insensitive substring search (``icontains``). The encrypted ``name`` stays as it is.

The backfill opens the existing organisations' names in batches (their data keys are
unwrapped from the ``keys`` database, one query per batch, as ``0007`` does for
encryption); a shredded organisation (destroyed key) keeps a blank name. It then deletes
the organisations' name bigram digests from the keys database: organisations are no
longer found by them (``customers.search``). If the digest table is not there yet the
deletion is skipped; ``manage.py reindex`` deletes them too.

On a very large table, build the index by hand with ``CREATE INDEX CONCURRENTLY`` first
(same name): the ``IF NOT EXISTS`` below then skips it.
"""

from django.db import connections, migrations, models

from crm import encryption

KEYS = "keys"
BATCH = 1000
INDEX = "customer_org_name_trgm"
NAME_BIGRAM = "customer.name_bigram"


def _open_name(row_uid, token) -> str:
    if not token:
        return ""
    try:
        return encryption.decrypt(str(token), context=f"customers.customer|name|{row_uid}").strip()
    except (encryption.DecryptionError, ValueError, UnicodeDecodeError):
        return ""  # shredded (or unreadable): nothing to show, nothing to search


def backfill(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    SearchDigest = apps.get_model("crm", "SearchDigest")
    organisations = Customer.objects.filter(kind="organisation").order_by("pk")
    if not organisations.exists():
        return  # a new database: nothing to backfill (and the keys database may not exist yet)
    has_digests = SearchDigest._meta.db_table in connections[KEYS].introspection.table_names()
    last = 0
    while True:
        rows = list(
            organisations.filter(pk__gt=last).values_list("pk", "uid", "data_key_id", "name")[
                :BATCH
            ]
        )
        if not rows:
            break
        last = rows[-1][0]
        encryption.data_keys_preload({key_id for _pk, _uid, key_id, _name in rows})
        Customer.objects.bulk_update(
            [
                Customer(pk=pk, organisation_name=_open_name(uid, token)[:200])
                for pk, uid, _key_id, token in rows
            ],
            ["organisation_name"],
        )
        if has_digests:
            SearchDigest.objects.using(KEYS).filter(
                kind=NAME_BIGRAM,
                object_model="customers.customer",
                object_id__in=[pk for pk, *_rest in rows],
            ).delete()
        encryption.clear_key_cache()  # do not keep every organisation's key


def trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite (development, tests): a plain LIKE scan
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON customers_customer "
        "USING gin (UPPER(organisation_name::text) gin_trgm_ops)"
    )


def trigram_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_search_digest"),
        ("customers", "0009_import_job_open_targets_and_error_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="organisation_name",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                max_length=200,
                verbose_name="organisation name",
            ),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="organisation_name",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                max_length=200,
                verbose_name="organisation name",
            ),
        ),
        # Going back: the organisations' bigram digests come back with ``manage.py reindex``.
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["organisation_name"], include=["id"], name="customer_org_name_idx"
            ),
        ),
        migrations.RunPython(trigram_index, trigram_index_drop, elidable=False),
    ]
