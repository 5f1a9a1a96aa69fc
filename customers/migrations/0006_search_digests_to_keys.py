"""Search digests leave the business database for the keys database (issue 6, item 2).

Blind indexes (``phone_index``, ``email_index``, ``number_index``) and the name tokens
(``CustomerNameToken``) were columns and rows of the business database, copied into the
history tables. They move to ``crm.SearchDigest`` in the ``keys`` database (created by
``crm.0004_search_digest``), and the columns go from the business tables and their
history tables alike.

Written by hand (Django generated only the removals): the existing digests are *copied*,
not recomputed, so nothing needs decrypting and there is no window in which the
duplicate guard is missing. The copy writes through the ``keys`` alias, so the keys
database must be migrated first (``make migrate`` and docker-compose do so); with rows
to copy and no digest table there, this migration stops with that advice and changes
nothing. The copied rows are labelled with the current blind-index key version; if the
key changed in the same deploy, run ``manage.py reindex``, which recomputes every digest
(and is also the way to rebuild them at any time).

Reversible: the columns and tokens are filled back from the keys database.
"""

from django.db import connections, migrations, models, transaction

KEYS = "keys"
BATCH = 2000


def _current_version():
    from crm.blind_index import current_version

    return current_version()


def _sources(apps):
    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    IdentityDocument = apps.get_model("customers", "IdentityDocument")
    NameToken = apps.get_model("customers", "CustomerNameToken")
    live = Customer.objects.exclude(status="merged")
    # (kind, model label, unique, rows of (object id, data key id, digest))
    return [
        (
            "customer.phone",
            "customers.customer",
            True,
            live.exclude(phone_index="").values_list("pk", "data_key_id", "phone_index"),
        ),
        (
            "customer.email",
            "customers.customer",
            False,
            live.exclude(email_index="").values_list("pk", "data_key_id", "email_index"),
        ),
        (
            "customer.name_bigram",
            "customers.customer",
            False,
            NameToken.objects.exclude(customer__status="merged").values_list(
                "customer_id", "customer__data_key_id", "token"
            ),
        ),
        (
            "contact.phone",
            "customers.contact",
            False,
            Contact.objects.exclude(phone_index="").values_list("pk", "data_key_id", "phone_index"),
        ),
        (
            "contact.email",
            "customers.contact",
            False,
            Contact.objects.exclude(email_index="").values_list("pk", "data_key_id", "email_index"),
        ),
        (
            "document.number",
            "customers.identitydocument",
            True,
            IdentityDocument.objects.exclude(number_index="").values_list(
                "pk", "data_key_id", "number_index"
            ),
        ),
    ]


def copy_digests_to_keys(apps, schema_editor):
    sources = _sources(apps)
    if not any(rows.exists() for _kind, _label, _unique, rows in sources):
        return  # a new installation: nothing to copy (the keys database is not touched)
    SearchDigest = apps.get_model("crm", "SearchDigest")
    if SearchDigest._meta.db_table not in connections[KEYS].introspection.table_names():
        raise RuntimeError(
            "The keys database has no search digest table yet: run "
            "`manage.py migrate --database keys` first, then `manage.py migrate` again."
        )
    version = _current_version()
    digests = SearchDigest.objects.using(KEYS)
    with transaction.atomic(using=KEYS):
        for kind, label, unique, rows in sources:
            batch = []
            for object_id, data_key_id, digest in rows.order_by().iterator(chunk_size=BATCH):
                batch.append(
                    SearchDigest(
                        data_key_id=data_key_id,
                        kind=kind,
                        digest=digest,
                        object_model=label,
                        object_id=object_id,
                        key_version=version,
                        is_unique=unique,
                    )
                )
                if len(batch) >= BATCH:
                    digests.bulk_create(batch, ignore_conflicts=True)
                    batch = []
            digests.bulk_create(batch, ignore_conflicts=True)


def copy_digests_back(apps, schema_editor):
    SearchDigest = apps.get_model("crm", "SearchDigest")
    if SearchDigest._meta.db_table not in connections[KEYS].introspection.table_names():
        return
    targets = {
        "customers.customer": apps.get_model("customers", "Customer"),
        "customers.contact": apps.get_model("customers", "Contact"),
        "customers.identitydocument": apps.get_model("customers", "IdentityDocument"),
    }
    columns = {
        "customer.phone": "phone_index",
        "customer.email": "email_index",
        "contact.phone": "phone_index",
        "contact.email": "email_index",
        "document.number": "number_index",
    }
    NameToken = apps.get_model("customers", "CustomerNameToken")
    rows = SearchDigest.objects.using(KEYS).filter(key_version=_current_version())
    tokens = []
    for label, object_id, kind, digest in rows.values_list(
        "object_model", "object_id", "kind", "digest"
    ).iterator(chunk_size=BATCH):
        if kind == "customer.name_bigram":
            tokens.append(NameToken(customer_id=object_id, token=digest))
        elif kind in columns:
            targets[label].objects.filter(pk=object_id).update(**{columns[kind]: digest})
    existing = set(targets["customers.customer"].objects.values_list("pk", flat=True))
    NameToken.objects.bulk_create(
        [t for t in tokens if t.customer_id in existing], batch_size=BATCH, ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_search_digest"),
        ("customers", "0005_grant_expiry"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="customer",
            name="customer_phone_unique_live",
        ),
        migrations.RemoveConstraint(
            model_name="identitydocument",
            name="identity_document_unique",
        ),
        # Only so that going back can re-add the columns to tables that have rows.
        migrations.AlterField(
            model_name="identitydocument",
            name="number_index",
            field=models.CharField(
                blank=True, db_index=True, default="", editable=False, max_length=32
            ),
        ),
        migrations.AlterField(
            model_name="historicalidentitydocument",
            name="number_index",
            field=models.CharField(
                blank=True, db_index=True, default="", editable=False, max_length=32
            ),
        ),
        migrations.RunPython(copy_digests_to_keys, copy_digests_back),
        migrations.RemoveField(
            model_name="contact",
            name="email_index",
        ),
        migrations.RemoveField(
            model_name="contact",
            name="phone_index",
        ),
        migrations.RemoveField(
            model_name="customer",
            name="email_index",
        ),
        migrations.RemoveField(
            model_name="customer",
            name="phone_index",
        ),
        migrations.RemoveField(
            model_name="historicalcontact",
            name="email_index",
        ),
        migrations.RemoveField(
            model_name="historicalcontact",
            name="phone_index",
        ),
        migrations.RemoveField(
            model_name="historicalcustomer",
            name="email_index",
        ),
        migrations.RemoveField(
            model_name="historicalcustomer",
            name="phone_index",
        ),
        migrations.RemoveField(
            model_name="historicalidentitydocument",
            name="number_index",
        ),
        migrations.RemoveField(
            model_name="identitydocument",
            name="number_index",
        ),
        migrations.DeleteModel(
            name="CustomerNameToken",
        ),
    ]
