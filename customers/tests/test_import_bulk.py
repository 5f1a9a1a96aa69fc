"""The customers import's bulk path (issue 8): what it writes is what ``customer_create``
writes, with a number of statements that does not grow with the file."""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from crm import encryption, search_index
from crm.db_routers import KEYS_ALIAS
from crm.fields import raw_value
from crm.imports import jobs as import_jobs
from crm.models import DataKey, SearchDigest
from crm.tests.factories import TeamFactory
from customers import events, search
from customers.models import BusinessType, Customer, IdentityDocument, ImportJob, StageMove, Tier
from customers.services import imports
from customers.services.cards import DocumentInput, DuplicateCustomer, customer_create
from customers.services.import_jobs import import_job_create, import_job_run
from customers.synthetic import mobile, resident_id, social_credit_code
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db

HEADER = ["name", "kind", "phone", "email", "address", "id_type", "id_number", "business_type",
          "tier", "birth_date"]  # fmt: skip
PERSONAL = ("name", "phone", "email", "address", "birth_date")


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    return tmp_path


def csv_bytes(rows) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *rows])
    return text.getvalue().encode()


def run_import(capture, actor, content: bytes, **options) -> ImportJob:
    options.setdefault("target", ImportJob.Target.CUSTOMERS)
    with capture(execute=True):
        job = import_job_create(actor=actor, upload=SimpleUploadedFile("c.csv", content), **options)
    job.refresh_from_db()
    return job


def individual(i: int, born=datetime.date(1980, 5, 17)) -> list[str]:
    return [f"王小{i}明", "个人", mobile(), f"p{i}@example.com", f"北京市海淀区中关村{i}号",
            "", resident_id(born=born), "other", "b", born.isoformat()]  # fmt: skip


def rows_of(count: int, start: int = 0) -> list[list[str]]:
    return [
        [f"客户{start + i}", "个人", f"139{start + i:08d}", "", "", "", "", "other", ""] + [""]
        for i in range(count)
    ]


def tokens(obj) -> dict[str, str]:
    return {name: raw_value(obj, name) for name in PERSONAL if hasattr(obj, name)}


def digests_of(obj) -> set[tuple]:
    label = obj._meta.label_lower
    return set(
        SearchDigest.objects.using(KEYS_ALIAS)
        .filter(object_model=label, object_id=obj.pk)
        .values_list("kind", "key_version", "data_key_id", "is_unique")
    )


def shape(customer: Customer) -> dict:
    """What a card holds, apart from its own identity (code, key, values' nonces)."""
    history = list(customer.history.all())
    [document] = customer.identity_documents.all()
    [move] = StageMove.objects.filter(customer=customer)
    return {
        "plain": {
            name: getattr(customer, name)
            for name in (
                "kind",
                "status",
                "owner_id",
                "team_id",
                "business_type_id",
                "tier_id",
                "stage_id",
                "stage_owner_id",
                "reverification_due",
                "version",
            )
        },  # fmt: skip
        "encrypted": sorted(name for name, token in tokens(customer).items() if token),
        "history": [(h.history_type, h.history_user_id, h.history_change_reason) for h in history],
        "document": (
            document.doc_type,
            document.verification_method,
            document.verified_by_id,
            [(h.history_type, h.history_user_id) for h in document.history.all()],
        ),
        "move": (
            move.from_stage_id,
            move.to_stage_id,
            move.responsible_id,
            move.moved_by_id,
            [(h.history_type, h.history_user_id) for h in move.history.all()],
        ),
        "digest_kinds": sorted(
            (kind, unique) for kind, _v, _k, unique in digests_of(customer) | digests_of(document)
        ),
    }


def test_an_imported_card_is_the_card_the_service_creates(
    django_capture_on_commit_callbacks, client
):
    actor = rep(team=TeamFactory(name="North"))
    row = individual(1)
    job = run_import(django_capture_on_commit_callbacks, actor, csv_bytes([row]))
    assert job.status == ImportJob.Status.DONE and job.rows_imported == 1, job.errors
    [name, _kind, phone, email, address, _t, number, _b, _tier, born] = row
    imported = Customer.objects.get()

    made = customer_create(
        actor=actor,
        kind=Customer.Kind.INDIVIDUAL,
        name="李小红",
        business_type=BusinessType.objects.get(code="other"),
        tier=Tier.objects.get(code="b"),
        documents=[DocumentInput("resident_id", resident_id(born=datetime.date(1980, 5, 17)))],
        phone=mobile(),
        email="service@example.com",
        address="北京市朝阳区1号",
        birth_date=datetime.date(1980, 5, 17),
        audit=False,
    )
    imported = Customer.objects.get(pk=imported.pk)
    made = Customer.objects.get(pk=made.pk)
    assert shape(imported) == shape(made)
    assert imported.code.startswith("C") and len(imported.code) == len(made.code) == 8

    # The values open, under the card's own data key, bound to their place.
    assert (imported.name, imported.phone, imported.email, imported.address) == (
        name,
        phone,
        email,
        address,
    )
    assert imported.birth_date == datetime.date.fromisoformat(born)
    assert DataKey.objects.filter(id=imported.data_key_id).exists()
    for token in tokens(imported).values():
        assert encryption.key_id_of(token) == str(imported.data_key_id)
    [document] = imported.identity_documents.all()
    assert document.number == number and document.data_key_id == imported.data_key_id
    [record] = imported.history.all()
    assert (record.name, record.phone, record.birth_date) == (
        name,
        phone,
        imported.birth_date,
    )
    for field_name, token in tokens(record).items():
        if token:  # its own ciphertext, under the same key
            assert token != raw_value(imported, field_name)
            assert encryption.key_id_of(token) == str(imported.data_key_id)
    assert document.history.get().number == number

    # The digests are those the services write: writing them again changes nothing.
    for obj in (imported, document, made, made.identity_documents.get()):
        assert search_index.object_digests_write(obj) is False
    assert {k for _kind, _v, k, _u in digests_of(imported)} == {imported.data_key_id}

    # Found by phone, e-mail, ID number and name; the card opens.
    assert search.customer_ids_matching(phone, search.CUSTOMER_PHONE) == [imported.pk]
    assert search.customer_ids_matching(email, search.CUSTOMER_EMAIL) == [imported.pk]
    assert search.customer_ids_matching(number, search.DOCUMENT_NUMBER) == [imported.pk]
    found = search.customers_matching_name(Customer.objects.all(), name[:2])
    assert list(found.values_list("pk", flat=True)) == [imported.pk]
    client.force_login(actor)
    page = client.get(reverse("customers:detail", args=[imported.pk]))
    assert page.status_code == 200 and imported.code in page.content.decode()

    # One audit event for the job, none per card.
    assert AuditEvent.objects.filter(action=events.CUSTOMERS_IMPORTED).count() == 1
    assert not AuditEvent.objects.filter(action=events.CUSTOMER_CREATED).exists()

    # Duplicates: a second import is refused, and so is the service.
    again = run_import(django_capture_on_commit_callbacks, actor, csv_bytes([row]))
    assert again.status == ImportJob.Status.REJECTED
    assert {e["column"] for e in again.errors} == {"phone", "email", "id_number"}
    with pytest.raises(DuplicateCustomer):
        customer_create(
            actor=actor,
            kind=Customer.Kind.INDIVIDUAL,
            name="重复",
            business_type=BusinessType.objects.get(code="other"),
            phone=phone,
        )
    assert Customer.objects.count() == 2


def test_an_organisation_is_written_as_the_service_writes_it(django_capture_on_commit_callbacks):
    actor = rep()
    code = social_credit_code()
    row = ["钴业贸易有限公司 ", "机构", mobile(), "", "", "", code, "other", "", ""]
    job = run_import(django_capture_on_commit_callbacks, actor, csv_bytes([row]))
    assert job.rows_imported == 1, job.errors
    card = Customer.objects.get()
    assert card.kind == Customer.Kind.ORGANISATION and card.organisation_name == "钴业贸易有限公司"
    assert card.name == "钴业贸易有限公司"  # stripped, as the service strips it
    assert card.identity_documents.get().doc_type == IdentityDocument.Type.SOCIAL_CREDIT_CODE
    assert card.owner == actor and card.team is None
    # No name bigrams for an organisation (searched in clear).
    assert search.CUSTOMER_NAME not in {kind for kind, *_rest in digests_of(card)}
    assert search_index.object_digests_write(card) is False


def test_the_bulk_path_opens_no_savepoint_per_row(django_capture_on_commit_callbacks):
    actor = rep()
    with django_capture_on_commit_callbacks(execute=False):
        job = import_job_create(
            actor=actor, upload=SimpleUploadedFile("c.csv", csv_bytes(rows_of(30))),
            target="customers",
        )  # fmt: skip
    with CaptureQueriesContext(connections["default"]) as default:
        assert import_job_run(job_id=job.pk) == ImportJob.Status.DONE
    assert Customer.objects.count() == 30
    # The test runs in a transaction, so the job's own transactions are savepoints here:
    # a few for the job, none per row (the row-by-row path opens one or more a row).
    savepoints = [q for q in default.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) < 10


def test_a_duplicate_created_between_check_and_write_is_refused_on_its_line(
    django_capture_on_commit_callbacks, monkeypatch
):
    actor = rep()
    rows = rows_of(3)
    existing = make_customer(actor, phone=rows[1][2])
    # The card appears after the check: the bulk path's own look-up finds it.
    monkeypatch.setattr(imports.CustomerChecker, "check_database", lambda self, rows: None)
    job = run_import(django_capture_on_commit_callbacks, actor, csv_bytes(rows), mode="valid_rows")
    assert [(e["line"], e["column"]) for e in job.errors] == [(3, "phone")]
    assert job.errors[0]["params"] == {"code": existing.code} or existing.code in str(job.errors)
    assert (job.rows_valid, job.rows_invalid, job.rows_imported) == (2, 1, 2)
    assert Customer.objects.count() == 3


def test_a_raced_duplicate_rolls_the_batch_back_and_it_is_written_row_by_row(
    django_capture_on_commit_callbacks, monkeypatch
):
    actor = rep()
    rows = rows_of(4)
    existing = make_customer(actor, phone=rows[2][2])
    # Neither look-up sees the card (as if it were not committed yet): the unique digest
    # refuses the batch, and the rows are then written one by one.
    monkeypatch.setattr(imports.CustomerChecker, "_holders", lambda self, rows: {})
    job = run_import(django_capture_on_commit_callbacks, actor, csv_bytes(rows))
    assert job.status == ImportJob.Status.DONE
    assert [(e["line"], e["column"]) for e in job.errors] == [(4, "phone")]
    assert job.rows_imported == 3 and Customer.objects.count() == 4
    imported = Customer.objects.exclude(pk=existing.pk).values_list("pk", flat=True)
    assert Customer.history.filter(id__in=list(imported)).count() == 3
    codes = sorted(Customer.objects.values_list("code", flat=True))
    assert len(set(codes)) == 4


@pytest.mark.parametrize("mode", ["all_or_nothing", "valid_rows"])
def test_queries_do_not_grow_with_the_rows(
    django_capture_on_commit_callbacks, monkeypatch, assert_queries, mode
):
    """A fixed number of statements per batch of rows (checked, then written), none per
    row: 50 rows (2 batches) and 150 rows (6 batches) differ by 4 batches' worth."""
    batch = 10
    monkeypatch.setattr(import_jobs, "LOOKUP_BATCH", batch)
    monkeypatch.setattr(import_jobs, "WRITE_BATCH", batch)
    monkeypatch.setattr(import_jobs, "PROGRESS_EVERY", batch)
    actor = rep(team=TeamFactory())
    make_customer(actor)  # counters, stages and permissions as on a working database

    def job_of(count, start):
        with django_capture_on_commit_callbacks(execute=False):
            return import_job_create(
                actor=actor,
                upload=SimpleUploadedFile("c.csv", csv_bytes(rows_of(count, start))),
                target="customers",
                mode=mode,
            )

    import_job_run(job_id=job_of(5, 10_000).pk)  # warm-up: per-process caches
    small, large = job_of(50, 0), job_of(150, 1000)
    with assert_queries() as first:
        import_job_run(job_id=small.pk)
    with assert_queries() as second:
        import_job_run(job_id=large.pk)
    for job, rows in ((small, 50), (large, 150)):
        job.refresh_from_db()
        assert (job.status, job.rows_imported) == (ImportJob.Status.DONE, rows)
    assert Customer.objects.count() == 1 + 5 + 200
    batches = (50 // batch, 150 // batch)
    per_batch = {
        alias: (second[alias] - first[alias]) / (batches[1] - batches[0])
        for alias in ("default", "keys")
    }
    # Per batch of rows, on the business database: its check (a progress update; the
    # duplicates are looked up in the keys database and none is found), its write (the
    # customer counter: 2, cards and stage moves with their history: 4, a progress update)
    # and its transaction (a savepoint and its release inside the test's transaction).
    # On the keys database: the duplicates of the check and again before the write, the
    # data keys, the digests, and the savepoint and its release.
    assert per_batch == {"default": 10, "keys": 6}
    fixed = {alias: first[alias] - batches[0] * per_batch[alias] for alias in per_batch}
    assert fixed["keys"] == 0
    again, longer = job_of(50, 5000), job_of(200, 6000)
    with assert_queries(default=fixed["default"] + 5 * 10, keys=5 * 6):
        import_job_run(job_id=again.pk)
    with assert_queries(default=fixed["default"] + 20 * 10, keys=20 * 6):
        import_job_run(job_id=longer.pk)
