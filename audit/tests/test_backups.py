"""Encrypted, checksummed, verified backups of each database (issue 12 item 6) and the
purge/backup promise: an old business backup cannot bring a purged customer back."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import uuid
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

from audit import backups, retention
from audit.models import AuditEvent
from audit.tests import factories as f
from crm import encryption, roles
from crm.fields import is_erased
from crm.models import DataKey, SearchDigest
from crm.tests.factories import TeamFactory, UserFactory
from customers.models import Customer
from customers.tests.factories import make_customer, rep

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
SQLITE = not POSTGRES


@pytest.fixture
def backup_dir(tmp_path, settings):
    settings.PRIVACY = {**settings.PRIVACY, "BACKUP_DIR": str(tmp_path / "backups")}
    return tmp_path / "backups"


@pytest.fixture
def dpo():
    return UserFactory(role=roles.DPO)


@pytest.fixture
def owner():
    return rep(team=TeamFactory(name="North"))


@contextlib.contextmanager
def scratch_database(vendor_alias: str = "default"):
    """A database alias ``scratch`` of the same kind as ``vendor_alias``, empty, dropped after."""
    base = connections[vendor_alias]
    name = f"crm_scratch_{uuid.uuid4().hex[:12]}"
    made = None
    if base.vendor == "sqlite":
        import tempfile

        folder = tempfile.mkdtemp()
        made = Path(folder) / f"{name}.sqlite3"
        settings_dict = {**base.settings_dict, "NAME": str(made)}
    else:
        with base.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        settings_dict = {**base.settings_dict, "NAME": name}
    connections.settings["scratch"] = settings_dict
    connections["scratch"].connect()  # opened here: a test allows only its own aliases
    try:
        yield "scratch"
    finally:
        connections["scratch"].close()
        del connections["scratch"]
        del connections.settings["scratch"]
        if made is not None:
            made.unlink(missing_ok=True)
        else:
            with base.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _raw_rows(alias: str, table: str) -> list:
    with connections[alias].cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (fixed names)
        return cursor.fetchall()


def _backup_and_restore_check(owner, backup_dir):
    """Shared body of the SQLite and the PostgreSQL round trip."""
    customers = [make_customer(owner, name=f"备份客户{n}") for n in range(3)]
    report = backups.backup_create()

    assert [made.alias for made in report.files] == ["default", "keys"]
    default, keys = report.files
    # Each database in its own folder, file and manifest beside it.
    assert default.path.parent == backup_dir / "default"
    assert keys.path.parent == backup_dir / "keys"
    manifest = json.loads(default.manifest_path.read_text())
    assert manifest["tables"]["customers_customer"] == Customer.objects.count()
    assert manifest["tables"]["customers_customer"] >= 3
    assert keys.manifest["tables"]["crm_datakey"] == DataKey.objects.count()
    # The business backup holds no key table, the keys backup no business table.
    assert "crm_datakey" not in manifest["tables"]
    assert "crm_searchdigest" not in manifest["tables"]
    assert "customers_customer" not in keys.manifest["tables"]
    # Encrypted: neither the dump's table names nor a ciphertext appear in the file.
    content = default.path.read_bytes()
    assert b"customers_customer" not in content
    stored_name = Customer.objects.filter(pk=customers[0].pk).values_list("name", flat=True)[0]
    assert stored_name.encode() not in content
    assert backups.backup_verify_file(default.path)["sha256"] == manifest["sha256"]
    assert AuditEvent.objects.filter(action=backups.BACKUP_CREATED).count() == 2
    return report, customers


@pytest.mark.django_db
@pytest.mark.skipif(POSTGRES, reason="the SQLite path (PostgreSQL: see the pg_dump tests)")
def test_sqlite_backup_writes_each_database_encrypted_checksummed_and_verified(owner, backup_dir):
    report, customers = _backup_and_restore_check(owner, backup_dir)
    default = report.files[0]

    with scratch_database() as alias:
        call_command("restore", str(default.path), database=alias)
        assert backups.database_is_empty(alias) is False
        restored = Customer.objects.using(alias).get(pk=customers[1].pk)
        encryption.clear_key_cache()
        assert restored.name == "备份客户1"  # opened with the live keys database
        # Not over a database that holds data, unless forced.
        with pytest.raises(CommandError, match="not empty"):
            call_command("restore", str(default.path), database=alias)
        call_command("restore", str(default.path), database=alias, force=True)
        assert Customer.objects.using(alias).count() == Customer.objects.count()


@pytest.mark.django_db
@pytest.mark.skipif(POSTGRES, reason="the SQLite path")
def test_only_one_database_is_backed_up_on_request(owner, backup_dir):
    make_customer(owner)
    call_command("backup", "--database", "keys")
    assert not (backup_dir / "default").exists()
    assert len(list((backup_dir / "keys").glob("*.backup"))) == 1
    assert len(list((backup_dir / "keys").glob("*.manifest.json"))) == 1


@pytest.mark.django_db
def test_a_verification_that_counts_other_rows_fails_and_leaves_no_backup(owner, backup_dir):
    make_customer(owner)
    wrong = mock.patch.object(backups, "_verify", return_value={"customers_customer": -1})
    with wrong, pytest.raises(backups.BackupError, match="row counts differ"):
        backups.backup_create(databases=("default",))
    assert list((backup_dir / "default").iterdir()) == []


@pytest.mark.django_db
def test_restore_refuses_an_altered_file_a_forged_manifest_and_the_wrong_key(
    owner, backup_dir, settings
):
    make_customer(owner)
    made = backups.backup_create(databases=("keys",)).files[0]
    original = made.path.read_bytes()

    # One flipped bit in the last chunk: the checksum fails first.
    altered = bytearray(original)
    altered[-5] ^= 0x01
    made.path.write_bytes(bytes(altered))
    with pytest.raises(CommandError, match="checksum"):
        call_command("restore", str(made.path))

    # The checksum forged along (manifest re-signed needs the key: refused).
    manifest = json.loads(made.manifest_path.read_text())
    import hashlib

    made.manifest_path.write_text(
        json.dumps({**manifest, "sha256": hashlib.sha256(bytes(altered)).hexdigest()})
    )
    with pytest.raises(CommandError, match="manifest fails its authentication"):
        call_command("restore", str(made.path))

    # Even a manifest signed under the key does not make an altered chunk open.
    forged = {**manifest, "sha256": hashlib.sha256(bytes(altered)).hexdigest()}
    forged["mac"] = backups._manifest_mac(backups.backup_key(), forged)
    made.manifest_path.write_text(json.dumps(forged))
    with pytest.raises(backups.BackupError, match="authentication"):
        backups.backup_verify_file(made.path)

    # Cut short after its first chunk header: refused.
    made.path.write_bytes(original)
    made.manifest_path.write_text(json.dumps(manifest))
    assert backups.backup_verify_file(made.path)["alias"] == "keys"
    settings.PRIVACY = {**settings.PRIVACY, "BACKUP_KEY": encryption.generate_key()}
    with pytest.raises(backups.BackupError, match="manifest fails its authentication"):
        backups.backup_verify_file(made.path)


def test_the_stream_is_encrypted_in_chunks_and_refuses_dropped_or_reordered_chunks(tmp_path):
    key = os.urandom(32)
    path = tmp_path / "x.backup"
    payload = os.urandom(10_000)
    with open(path, "wb") as handle:
        writer = backups.EncryptingWriter(handle, {"alias": "default"}, key, chunk_bytes=4096)
        for start in range(0, len(payload), 1000):
            writer.write(payload[start : start + 1000])
        writer.close()
    chunks = list(backups.decrypt_chunks(path, key))
    assert [len(c) for c in chunks] == [4096, 4096, 1808]
    assert b"".join(chunks) == payload

    raw = path.read_bytes()
    header_end = len(backups.MAGIC) + 4 + int.from_bytes(raw[8:12], "big")
    records, position = [], header_end
    while position < len(raw):
        size = int.from_bytes(raw[position : position + 4], "big")
        records.append(raw[position : position + 4 + size])
        position += 4 + size
    assert len(records) == 3
    for broken in (
        raw[:header_end] + records[0] + records[1],  # the last chunk dropped
        raw[:header_end] + records[1] + records[0] + records[2],  # reordered
        raw + b"x",  # data after the end
    ):
        path.write_bytes(broken)
        with pytest.raises(backups.BackupError):
            list(backups.decrypt_chunks(path, key))


def test_the_backup_key_is_never_a_field_master_key(settings):
    master = encryption.generate_key()
    settings.FIELD_ENCRYPTION_KEYS = [master]
    settings.PRIVACY = {**settings.PRIVACY, "BACKUP_KEY": master}
    with pytest.raises(backups.BackupError, match="must not be one of the field master keys"):
        backups.backup_key()
    settings.PRIVACY = {**settings.PRIVACY, "BACKUP_KEY": ""}
    settings.PRODUCTION = True
    with pytest.raises(backups.BackupError, match="Set PRIVACY_BACKUP_KEY"):
        backups.backup_key()


def _fake_backup(folder: Path, alias: str, created: datetime.datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"crm-{alias}-{backups._stamp(created)}"
    (folder / f"{name}.backup").write_bytes(b"x")
    (folder / f"{name}.manifest.json").write_text(
        json.dumps({"alias": alias, "file": f"{name}.backup", "created_at": created.isoformat()})
    )
    return folder / f"{name}.backup"


def test_prune_keeps_the_newest_n_and_no_keys_backup_past_its_retention(backup_dir, settings):
    settings.KEYS_BACKUP_RETENTION_DAYS = 7
    now = datetime.datetime(2026, 11, 29, 12, tzinfo=datetime.UTC)
    business = [
        _fake_backup(backup_dir / "default", "default", now - datetime.timedelta(days=d))
        for d in range(5)
    ]
    keys = [
        _fake_backup(backup_dir / "keys", "keys", now - datetime.timedelta(days=d))
        for d in (0, 1, 8)
    ]
    leftover = backup_dir / "default" / "crm-default-crashed.backup.partial"
    leftover.write_bytes(b"half")
    os.utime(leftover, (0, 0))

    deleted = backups.backups_prune(keep=3, now=now)

    assert deleted == {"default": 2, "keys": 1}
    assert [p.exists() for p in business] == [True, True, True, False, False]
    assert [p.exists() for p in keys] == [True, True, False]
    assert not leftover.exists()
    assert not backups.manifest_path_of(business[4]).exists()


@pytest.mark.django_db
@pytest.mark.skipif(POSTGRES, reason="the SQLite path")
def test_the_scheduled_task_backs_up_both_and_keeps_the_last_n(owner, backup_dir, settings):
    from audit.tasks import backup_task

    settings.PRIVACY = {**settings.PRIVACY, "BACKUP_KEEP": 2}
    make_customer(owner)
    names = [backup_task.delay().get() for _ in range(3)]
    assert all(len(run) == 2 for run in names)
    assert sorted(p.name for p in (backup_dir / "default").glob("*.backup")) == sorted(
        run[0] for run in names[1:]
    )
    assert len(list((backup_dir / "keys").glob("*.backup"))) == 2
    assert settings.CELERY_BEAT_SCHEDULE["audit-backup"]["task"] == "audit.backup"


@pytest.mark.django_db
@pytest.mark.skipif(POSTGRES, reason="the SQLite path")
def test_a_backup_interrupted_mid_way_leaves_nothing_usable_and_a_rerun_succeeds(owner, backup_dir):
    make_customer(owner)
    real = backups.EncryptingWriter.write
    calls = []

    def crash_on_the_second_write(writer, data):
        calls.append(len(data))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(writer, data)

    small = mock.patch.object(backups, "CHUNK_BYTES", 4096)
    crash = mock.patch.object(backups.EncryptingWriter, "write", crash_on_the_second_write)
    with small, crash, pytest.raises(RuntimeError):
        backups.backup_create(databases=("default",))
    assert list((backup_dir / "default").iterdir()) == []

    with small:
        made = backups.backup_create(databases=("default",)).files[0]
    assert backups.backup_verify_file(made.path)["tables"]["customers_customer"] == 1


# --- the purge/backup promise ---------------------------------------------------------------


def _promise_check(dpo, owner, backup_dir):
    purged = f.canary_customer(owner)
    other = make_customer(owner, name="王其他")
    business = backups.backup_create(databases=("default",)).files[0]
    keys_before = backups.backup_create(databases=("keys",)).files[0]

    retention.customer_purge(actor=dpo, customer=purged)

    with scratch_database() as alias:
        backups.backup_restore(business.path, database=alias)
        encryption.clear_key_cache()
        # The backup holds the customer's ciphertexts as they were before the purge ...
        stored = Customer.objects.using(alias).filter(pk=purged.pk).values_list("name", flat=True)
        assert encryption.is_encrypted(stored[0])
        # ... which no longer open: the data key is gone from the live keys database.
        old = Customer.objects.using(alias).get(pk=purged.pk)
        assert is_erased(old.name) and old.name == ""
        assert is_erased(old.phone)
        assert all(is_erased(h.name) for h in old.history.using(alias).all())
        # Other customers read fine from the same backup.
        assert Customer.objects.using(alias).get(pk=other.pk).name == "王其他"
        # Nothing of the purged customer in clear anywhere in the restored copy.
        dump = repr([_raw_rows(alias, t) for t in backups.database_tables(alias)])
        for canary in (f.CANARY_NAME, f.CANARY_PHONE, f.CANARY_ID, f.CANARY_NOTE):
            assert canary not in dump
        # No search digest either: they live in the keys database only.
        assert "crm_searchdigest" not in backups.database_tables(alias)
    assert not SearchDigest.objects.filter(data_key_id=purged.data_key_id).exists()

    # The old keys backup would bring the key back: refused without --force ...
    with pytest.raises(CommandError, match="taken before a customer was purged"):
        call_command("restore", str(keys_before.path), force=False)
    return purged, keys_before


@pytest.mark.django_db
@pytest.mark.skipif(POSTGRES, reason="the SQLite backup path")
def test_sqlite_a_business_backup_taken_before_a_purge_cannot_show_the_purged_customer(
    dpo, owner, backup_dir
):
    purged, keys_before = _promise_check(dpo, owner, backup_dir)
    # ... and when forced, the destroyed key is deleted again at once.
    report = backups.backup_restore(keys_before.path, force=True)
    assert report.keys_destroyed_again == 1
    assert not DataKey.objects.filter(id=purged.data_key_id).exists()
    assert not SearchDigest.objects.filter(data_key_id=purged.data_key_id).exists()
    encryption.clear_key_cache()
    assert (
        is_erased(Customer.objects.get(pk=purged.pk).name)
        or not Customer.objects.get(pk=purged.pk).name
    )


# --- PostgreSQL: pg_dump / pg_restore -------------------------------------------------------

postgres_only = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (pg_dump, pg_restore)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _pg_tools_or_skip():
    import shutil

    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed")


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (pg_dump, pg_restore)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgres_backup_is_pg_dump_verified_in_a_scratch_database_and_restores(owner, backup_dir):
    _pg_tools_or_skip()
    report, customers = _backup_and_restore_check(owner, backup_dir)
    default = report.files[0]
    assert backups.decrypt_chunks(default.path, backups.backup_key()).__next__()[:5] == b"PGDMP"
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_database WHERE datname LIKE 'crm_verify_%%'")
        assert cursor.fetchone()[0] == 0  # the scratch databases were dropped

    with scratch_database() as alias:
        call_command("restore", str(default.path), database=alias)
        encryption.clear_key_cache()
        assert Customer.objects.using(alias).get(pk=customers[2].pk).name == "备份客户2"
        with pytest.raises(CommandError, match="not empty"):
            call_command("restore", str(default.path), database=alias)
        call_command("restore", str(default.path), database=alias, force=True)
        assert Customer.objects.using(alias).count() == Customer.objects.count()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (pg_dump, pg_restore)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgres_a_business_backup_taken_before_a_purge_cannot_show_the_purged_customer(
    dpo, owner, backup_dir
):
    _pg_tools_or_skip()
    _promise_check(dpo, owner, backup_dir)
