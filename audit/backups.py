"""Encrypted, checksummed, verified backups of each database (issue 12 item 6, DESIGN §3).

``backup_create`` writes one file per database alias (``default``, the business data, and
``keys``, the data keys, search digests and audit checkpoints), each in its own folder
under ``settings.PRIVACY["BACKUP_DIR"]``, so that they can be kept, shipped and restored
apart: a shredded key must not come back when an old business backup is restored.

* **Consistent.** PostgreSQL: ``pg_dump --format=custom`` reads the snapshot of a
  repeatable-read transaction that also counts every table's rows, so the counts are
  those of the dump. SQLite: the backup API copies the database while the write lock
  is held, after counting.
* **Encrypted** under ``PRIVACY_BACKUP_KEY`` (never a field master key: see
  ``backup_key``), in chunks of ``CHUNK_BYTES`` so a large dump never sits in memory:
  AES-256-GCM under a key derived for this one file, each chunk bound to the file's
  header, its index and whether it is the last one (no chunk can be dropped, moved or
  cut off unnoticed).
* **Checksummed.** A manifest beside the file records the SHA-256 of the file and of the
  dump inside, the row count of every table and the verification; it carries an HMAC
  under the backup key.
* **Verified.** The file is read back from disk, decrypted and restored into a scratch
  database (PostgreSQL: a temporary database, dropped afterwards; SQLite: a temporary
  file), whose row counts must equal the source's.

``backup_restore`` refuses a file whose manifest, checksum or authentication fails, a
database that is not empty (unless ``force``), and a keys backup older than the newest
destroyed data key (unless ``force``); after restoring a keys backup it destroys again
every data key the business database records as destroyed.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import events
from crm import encryption

logger = logging.getLogger(__name__)

FORMAT = "crm-backup/1"
MAGIC = b"CRMBAK01"
CHUNK_BYTES = 1024 * 1024
SUFFIX = ".backup"
MANIFEST_SUFFIX = ".manifest.json"
PARTIAL_SUFFIX = ".partial"
ALIASES = ("default", "keys")
_NONCE = 12
# Tables ``migrate`` itself fills; they do not make a database "not empty".
_MIGRATION_TABLE = "django_migrations"

BACKUP_CREATED = events.register("backup.created", gettext_lazy("Backup written and verified"))
BACKUP_RESTORED = events.register("backup.restored", gettext_lazy("Backup restored"))

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup could not be written, verified or restored; the message says why."""


# --- the key --------------------------------------------------------------------------------


def backup_key() -> bytes:
    """The 32-byte backup key (``PRIVACY_BACKUP_KEY``).

    Not a field master key: whoever holds the backups and this key must still not be able
    to unwrap the customers' data keys (and a keys backup holds them wrapped by the master
    key). Derived from the secret key in development; required in production.
    """
    configured = settings.PRIVACY.get("BACKUP_KEY", "")
    if configured:
        material = encryption._decode_key(configured, "PRIVACY_BACKUP_KEY")
    elif getattr(settings, "PRODUCTION", False):
        raise BackupError(_("Set PRIVACY_BACKUP_KEY before writing or reading backups."))
    else:
        material = encryption._derive(settings.SECRET_KEY, b"crm backups (development)")
    if any(material == key.material for key in encryption.master_keys()):
        raise BackupError(
            _("PRIVACY_BACKUP_KEY must not be one of the field master keys; generate its own.")
        )
    return material


def _subkey(material: bytes, purpose: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=purpose).derive(material)


def key_fingerprint(material: bytes) -> str:
    return hashlib.sha256(b"crm-backup-key" + material).hexdigest()[:12]


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _manifest_mac(material: bytes, manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "mac"}
    return hmac.new(
        _subkey(material, b"crm backup: manifests"), _canonical(body), hashlib.sha256
    ).hexdigest()


# --- the encrypted stream -----------------------------------------------------------------


class _HashingFile:
    """Writes to a file and hashes what it wrote."""

    def __init__(self, handle):
        self.handle, self.sha256, self.size = handle, hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.sha256.update(data)
        self.size += len(data)


class EncryptingWriter:
    """A write-only stream that encrypts what it is given, chunk by chunk, into ``out``.

    Layout: ``MAGIC``, header length (4 bytes), header (JSON), then per chunk: length
    (4 bytes), nonce (12 bytes), AES-GCM ciphertext and tag. The associated data of chunk
    *i* is SHA-256(magic | header), *i* (8 bytes) and a last-chunk flag.
    """

    def __init__(self, out, header: dict, material: bytes, chunk_bytes: int = CHUNK_BYTES):
        file_id = os.urandom(16)
        self.header = {**header, "file_id": file_id.hex()}
        header_bytes = _canonical(self.header)
        self.out = _HashingFile(out)
        self.out.write(MAGIC + len(header_bytes).to_bytes(4, "big") + header_bytes)
        self._bound = hashlib.sha256(MAGIC + header_bytes).digest()
        self._aead = AESGCM(_subkey(material, b"crm backup: chunks", file_id))
        self._buffer = bytearray()
        self._index = 0
        self._chunk = chunk_bytes
        self.plain = hashlib.sha256()
        self.plain_size = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        self.plain.update(data)
        self.plain_size += len(data)
        self._buffer += data
        while len(self._buffer) > self._chunk:  # more follows: not the last chunk
            self._emit(bytes(self._buffer[: self._chunk]), last=False)
            del self._buffer[: self._chunk]

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True

    def _emit(self, plaintext: bytes, *, last: bool) -> None:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext, _chunk_aad(self._bound, self._index, last))
        self.out.write((len(sealed) + _NONCE).to_bytes(4, "big") + nonce + sealed)
        self._index += 1


def _chunk_aad(bound: bytes, index: int, last: bool) -> bytes:
    return bound + index.to_bytes(8, "big") + (b"\x01" if last else b"\x00")


def _read_exact(handle, size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise BackupError(_("The backup file is cut short."))
    return data


def read_header(path: Path) -> dict:
    with open(path, "rb") as handle:
        return _read_header(handle)[0]


def _read_header(handle) -> tuple[dict, bytes]:
    if handle.read(len(MAGIC)) != MAGIC:
        raise BackupError(_("This is not a backup file of this application."))
    length = int.from_bytes(_read_exact(handle, 4), "big")
    if length > 1 << 20:
        raise BackupError(_("The backup file's header is damaged."))
    header_bytes = _read_exact(handle, length)
    try:
        header = json.loads(header_bytes)
    except ValueError as exc:
        raise BackupError(_("The backup file's header is damaged.")) from exc
    return header, hashlib.sha256(MAGIC + header_bytes).digest()


def decrypt_chunks(path: Path, material: bytes) -> Iterator[bytes]:
    """The dump inside a backup file, chunk by chunk; raises ``BackupError`` as soon as a
    chunk fails its authentication, is missing, or data follows the last one."""
    with open(path, "rb") as handle:
        header, bound = _read_header(handle)
        aead = AESGCM(_subkey(material, b"crm backup: chunks", bytes.fromhex(header["file_id"])))
        index = 0
        while True:
            prefix = handle.read(4)
            if len(prefix) != 4:
                raise BackupError(_("The backup file is cut short."))
            blob = _read_exact(handle, int.from_bytes(prefix, "big"))
            nonce, sealed = blob[:_NONCE], blob[_NONCE:]
            plaintext = None
            for last in (False, True):
                try:
                    plaintext = aead.decrypt(nonce, sealed, _chunk_aad(bound, index, last))
                except InvalidTag:  # try the other flag, then give up
                    continue
                break
            if plaintext is None:
                raise BackupError(
                    _("The backup file fails its authentication (wrong key, or altered).")
                )
            yield plaintext
            index += 1
            if last:
                if handle.read(1):
                    raise BackupError(_("The backup file has data after its end."))
                return


# --- databases ------------------------------------------------------------------------------


def _vendor(alias: str) -> str:
    return connections[alias].vendor


def _fresh_wrapper(alias: str, **overrides):
    """A new connection to ``alias``'s server (not the shared one), closed by the caller."""
    connection = connections[alias]
    settings_dict = {**connection.settings_dict, **overrides}
    return type(connection)(settings_dict, alias)


def _pg_env(settings_dict: dict) -> dict:
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
    ):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    sslmode = (settings_dict.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return env


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _count_rows(cursor, tables) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 (introspected)
        counts[table] = cursor.fetchone()[0]
    return counts


def _sqlite_tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return [row[0] for row in cursor.fetchall()]


def _pg_tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()")
    return [row[0] for row in cursor.fetchall()]


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    """A plain connection to a SQLite file, with the SQL functions Django's schema uses
    (expression indexes, constraints) so the copy can be rebuilt and checked."""
    from django.db.backends.sqlite3._functions import register

    connection = sqlite3.connect(path, isolation_level=None)
    register(connection)
    return connection


def _dump_sqlite(alias: str, writer: EncryptingWriter, work: Path) -> dict[str, int]:
    connection = connections[alias]
    connection.ensure_connection()
    raw = connection.connection
    copy = work / f"{alias}.sqlite3"
    target = _sqlite_connect(copy)
    try:
        if connection.in_atomic_block:
            # The caller holds a write transaction (a test does): the backup API would wait
            # for it forever, so copy what this connection sees, statement by statement.
            with connection.cursor() as cursor:
                counts = _count_rows(cursor, _sqlite_tables(cursor))
            for statement in raw.iterdump():
                target.execute(statement)
        else:
            # One read transaction: the counts and the backup API's copy see one snapshot.
            raw.execute("BEGIN DEFERRED")
            try:
                cursor = raw.cursor()
                counts = _count_rows(cursor, _sqlite_tables(cursor))
                raw.backup(target)
            finally:
                raw.execute("COMMIT")
    finally:
        target.close()
    with open(copy, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            writer.write(chunk)
    copy.unlink()
    return counts


def _dump_postgres(alias: str, writer: EncryptingWriter, work: Path) -> dict[str, int]:
    wrapper = _fresh_wrapper(alias)
    errors = work / "pg_dump.err"
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _count_rows(cursor, _pg_tables(cursor))
            with open(errors, "wb") as err:
                process = subprocess.Popen(  # noqa: S603 (fixed program, no shell)
                    [
                        shutil.which("pg_dump") or "pg_dump",
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot}",
                        "--dbname",
                        wrapper.settings_dict["NAME"],
                    ],
                    stdout=subprocess.PIPE,
                    stderr=err,
                    env=_pg_env(wrapper.settings_dict),
                )
                try:
                    for chunk in iter(lambda: process.stdout.read(CHUNK_BYTES), b""):
                        writer.write(chunk)
                finally:
                    process.stdout.close()
                    code = process.wait()
            cursor.execute("COMMIT")
        if code != 0:
            raise BackupError(
                _("pg_dump failed: %(error)s")
                % {"error": errors.read_text(errors="replace")[-500:]}
            )
    finally:
        wrapper.close()
    return counts


def _restore_sqlite_file(path: Path, material: bytes, target: Path) -> str:
    """Decrypt a SQLite backup into the file ``target``; returns the dump's SHA-256."""
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        os.chmod(target, 0o600)
        for chunk in decrypt_chunks(path, material):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _sqlite_file_counts(path: Path) -> dict[str, int]:
    connection = _sqlite_connect(path)
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA integrity_check")
        if cursor.fetchone()[0] != "ok":
            raise BackupError(_("The restored SQLite database fails its integrity check."))
        return _count_rows(cursor, _sqlite_tables(cursor))
    finally:
        connection.close()


def _pg_restore(path: Path, material: bytes, settings_dict: dict, work: Path) -> str:
    """Feed the decrypted dump to ``pg_restore`` into the database ``settings_dict`` names."""
    digest = hashlib.sha256()
    errors = work / "pg_restore.err"
    with open(errors, "wb") as err:
        process = subprocess.Popen(  # noqa: S603 (fixed program, no shell)
            [
                shutil.which("pg_restore") or "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--dbname",
                settings_dict["NAME"],
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=_pg_env(settings_dict),
        )
        try:
            for chunk in decrypt_chunks(path, material):
                digest.update(chunk)
                process.stdin.write(chunk)
        except BrokenPipeError:
            pass
        finally:
            process.stdin.close()
            code = process.wait()
    if code != 0:
        raise BackupError(
            _("pg_restore failed: %(error)s") % {"error": errors.read_text(errors="replace")[-500:]}
        )
    return digest.hexdigest()


def _pg_scratch_counts(alias: str, path: Path, material: bytes, work: Path) -> dict[str, int]:
    """Restore into a temporary database on the same server, count, drop it."""
    name = f"crm_verify_{uuid.uuid4().hex[:16]}"
    admin = _fresh_wrapper(alias)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {_quote(name)}")
        try:
            _pg_restore(path, material, {**admin.settings_dict, "NAME": name}, work)
            scratch = _fresh_wrapper(alias, NAME=name)
            try:
                with scratch.cursor() as cursor:
                    return _count_rows(cursor, _pg_tables(cursor))
            finally:
                scratch.close()
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    finally:
        admin.close()


# --- writing a backup -------------------------------------------------------------------------


@dataclass
class BackupFile:
    alias: str
    path: Path
    manifest_path: Path
    manifest: dict

    @property
    def rows(self) -> int:
        return sum(self.manifest["tables"].values())


@dataclass
class BackupReport:
    files: list[BackupFile] = field(default_factory=list)


def backup_dir(alias: str | None = None) -> Path:
    root = Path(settings.PRIVACY["BACKUP_DIR"])
    return root / alias if alias else root


def manifest_path_of(path: Path) -> Path:
    path = Path(path)
    name = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name
    return path.with_name(name + MANIFEST_SUFFIX)


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _write_json(path: Path, payload: dict) -> None:
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    partial.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def _database_backup(alias: str, material: bytes, progress: Progress) -> BackupFile:
    vendor = _vendor(alias)
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(_("Backups support PostgreSQL and SQLite only."))
    now = timezone.now()
    folder = backup_dir(alias)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"crm-{alias}-{_stamp(now)}{SUFFIX}"
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=folder))
    header = {
        "format": FORMAT,
        "alias": alias,
        "vendor": vendor,
        "created_at": now.isoformat(),
        "key": key_fingerprint(material),
    }
    try:
        progress(f"{alias}: dumping ({vendor})")
        with open(partial, "wb") as handle:
            os.chmod(partial, 0o600)
            writer = EncryptingWriter(handle, header, material)
            dump = _dump_sqlite if vendor == "sqlite" else _dump_postgres
            counts = dump(alias, writer, work)
            writer.close()
        progress(
            f"{alias}: {len(counts)} tables, {sum(counts.values())} rows, "
            f"{writer.out.size} bytes written; verifying"
        )
        restored = _verify(alias, vendor, partial, material, work, writer.plain.hexdigest())
        if restored != counts:
            differing = sorted(
                table
                for table in set(counts) | set(restored)
                if counts.get(table) != restored.get(table)
            )
            raise BackupError(
                _("The restored copy's row counts differ from the source in: %(tables)s")
                % {"tables": ", ".join(differing)}
            )
        manifest = {
            **{k: header[k] for k in ("format", "alias", "vendor", "created_at", "key")},
            "file": path.name,
            "file_id": writer.header["file_id"],
            "bytes": writer.out.size,
            "sha256": writer.out.sha256.hexdigest(),
            "dump_bytes": writer.plain_size,
            "dump_sha256": writer.plain.hexdigest(),
            "tables": counts,
            "verified_at": timezone.now().isoformat(),
            "verified": "restored into a scratch database; row counts of every table match",
        }
        manifest["mac"] = _manifest_mac(material, manifest)
        os.replace(partial, path)
        manifest_path = manifest_path_of(path)
        _write_json(manifest_path, manifest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    progress(f"{alias}: verified, {path}")
    return BackupFile(alias, path, manifest_path, manifest)


def _verify(alias, vendor, path: Path, material: bytes, work: Path, dump_sha256: str):
    if vendor == "sqlite":
        scratch = work / "verify.sqlite3"
        if _restore_sqlite_file(path, material, scratch) != dump_sha256:
            raise BackupError(_("The dump read back differs from the dump written."))
        counts = _sqlite_file_counts(scratch)
        scratch.unlink()
        return counts
    return _pg_scratch_counts(alias, path, material, work)


def backup_create(
    *, databases: tuple[str, ...] = ALIASES, progress: Progress = lambda message: None
) -> BackupReport:
    """Back up each database to its own encrypted file, verified (the command and task).

    The business database is dumped first and the keys database after it, so that every
    data key a business backup refers to is in the keys backup taken with it.
    """
    from audit.services import record_event

    unknown = [alias for alias in databases if alias not in ALIASES]
    if unknown:
        raise BackupError(_("Unknown database: %(names)s") % {"names": ", ".join(unknown)})
    material = backup_key()
    report = BackupReport()
    for alias in ALIASES:
        if alias in databases:
            report.files.append(_database_backup(alias, material, progress))
    for made in report.files:
        record_event(
            action=BACKUP_CREATED,
            data={
                "database": made.alias,
                "file": made.path.name,
                "sha256": made.manifest["sha256"],
                "tables": len(made.manifest["tables"]),
                "rows": made.rows,
            },
        )
        logger.info("backup %s written and verified (%s rows)", made.path.name, made.rows)
    return report


# --- checking and restoring -------------------------------------------------------------------


def backup_verify_file(path: Path, material: bytes | None = None) -> dict:
    """Check a backup file against its manifest without restoring it; return the manifest.

    The manifest's HMAC, the file's size and SHA-256, every chunk's authentication and the
    dump's SHA-256 must all hold, else ``BackupError``.
    """
    path = Path(path)
    material = material or backup_key()
    manifest_path = manifest_path_of(path)
    if not path.is_file():
        raise BackupError(_("No backup file at %(path)s.") % {"path": path})
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(
            _("The backup's manifest (%(path)s) is missing or unreadable.")
            % {"path": manifest_path.name}
        ) from exc
    if not hmac.compare_digest(str(manifest.get("mac", "")), _manifest_mac(material, manifest)):
        raise BackupError(_("The backup's manifest fails its authentication (altered)."))
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            size += len(chunk)
    if size != manifest["bytes"] or digest.hexdigest() != manifest["sha256"]:
        raise BackupError(_("The backup file does not match its checksum."))
    header = read_header(path)
    if header.get("file_id") != manifest.get("file_id") or header.get("alias") != manifest.get(
        "alias"
    ):
        raise BackupError(_("The backup file does not belong to this manifest."))
    plain = hashlib.sha256()
    for chunk in decrypt_chunks(path, material):
        plain.update(chunk)
    if plain.hexdigest() != manifest["dump_sha256"]:
        raise BackupError(_("The backup file does not match its checksum."))
    return manifest


def database_tables(alias: str) -> list[str]:
    """The tables of a database alias (SQLite or PostgreSQL's current schema)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        tables = _sqlite_tables(cursor) if connection.vendor == "sqlite" else _pg_tables(cursor)
    return sorted(tables)


def database_is_empty(alias: str) -> bool:
    """No table holds a row (the migrations table aside)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        tables = _sqlite_tables(cursor) if connection.vendor == "sqlite" else _pg_tables(cursor)
        counts = _count_rows(cursor, [t for t in tables if t != _MIGRATION_TABLE])
    return not any(counts.values())


def _sqlite_restore(copy: Path, connection) -> None:
    """Copy the restored file into the database ``connection`` opens (all of it replaced)."""
    connection.ensure_connection()
    source = _sqlite_connect(copy)
    try:
        if not connection.in_atomic_block:
            source.backup(connection.connection)  # the backup API, page by page
            return
        # Inside the caller's transaction (a test) the backup API would wait for it
        # forever: replace the tables statement by statement in that transaction.
        with connection.cursor() as cursor:
            for table in _sqlite_tables(cursor):
                cursor.execute(f"DROP TABLE {_quote(table)}")
            for statement in source.iterdump():
                if statement not in ("BEGIN TRANSACTION;", "COMMIT;"):
                    cursor.execute(statement)
    finally:
        source.close()


@dataclass
class RestoreReport:
    alias: str
    manifest: dict
    tables: dict[str, int]
    keys_destroyed_again: int = 0


def _latest_key_destruction():
    from django.db.models import Max

    from audit.models import PurgedSubject

    return PurgedSubject.objects.filter(state=PurgedSubject.State.DESTROYED).aggregate(
        latest=Max("updated_at")
    )["latest"]


def keys_destroy_again(*, batch_size: int = 1000) -> int:
    """Delete again every data key (and its search digests) that the business database
    records as destroyed: after a keys backup is restored, no purge is undone."""
    from audit.models import PurgedSubject
    from crm import search_index
    from crm.models import DataKey

    destroyed = 0
    ids = PurgedSubject.objects.order_by("id").values_list("data_key_id", flat=True)
    for start in range(0, ids.count(), batch_size):
        batch = [str(key_id) for key_id in ids[start : start + batch_size]]
        destroyed += DataKey.objects.filter(id__in=batch).delete()[0]
        for key_id in batch:
            search_index.digests_delete_for_key(key_id)
    encryption.clear_key_cache()
    return destroyed


def backup_restore(
    path: Path,
    *,
    database: str | None = None,
    force: bool = False,
    progress: Progress = lambda message: None,
) -> RestoreReport:
    """Restore one database from a backup file (``manage.py restore``)."""
    from audit.services import record_event

    path = Path(path)
    material = backup_key()
    manifest = backup_verify_file(path, material)
    source = manifest["alias"]
    target = database or source
    if target in ALIASES and target != source:
        raise BackupError(
            _("This is a backup of the %(source)s database; it cannot be restored as %(target)s.")
            % {"source": source, "target": target}
        )
    if target not in connections.settings:
        raise BackupError(_("Unknown database: %(names)s") % {"names": target})
    vendor = _vendor(target)
    if vendor != manifest["vendor"]:
        raise BackupError(
            _("This backup was made from %(source)s and cannot be restored into %(target)s.")
            % {"source": manifest["vendor"], "target": vendor}
        )
    if source == "keys" and not force:
        latest = _latest_key_destruction()
        taken = datetime.datetime.fromisoformat(manifest["created_at"])
        if latest is not None and latest > taken:
            raise BackupError(
                _(
                    "This keys backup was taken before a customer was purged; it would bring "
                    "destroyed data keys back. Pass --force to restore it anyway (the destroyed "
                    "keys are deleted again right after)."
                )
            )
    if not force and not database_is_empty(target):
        raise BackupError(
            _(
                "The %(target)s database is not empty; restore into an empty database, "
                "or pass --force to replace its contents."
            )
            % {"target": target}
        )
    progress(f"{target}: restoring {path.name} ({len(manifest['tables'])} tables)")
    folder = Path(tempfile.mkdtemp(prefix="crm-restore-"))
    try:
        if vendor == "sqlite":
            copy = folder / "restore.sqlite3"
            _restore_sqlite_file(path, material, copy)
            _sqlite_restore(copy, connections[target])
        else:
            connection = connections[target]
            if force:
                with connection.cursor() as cursor:
                    cursor.execute("DROP SCHEMA public CASCADE")
                    cursor.execute("CREATE SCHEMA public")
            _pg_restore(path, material, connection.settings_dict, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with connections[target].cursor() as cursor:
        tables = _count_rows(
            cursor, _sqlite_tables(cursor) if vendor == "sqlite" else _pg_tables(cursor)
        )
    report = RestoreReport(alias=target, manifest=manifest, tables=tables)
    encryption.clear_key_cache()
    if source == "keys" and target == "keys":
        report.keys_destroyed_again = keys_destroy_again()
        progress(f"keys: {report.keys_destroyed_again} destroyed data keys deleted again")
    if target in ALIASES:
        record_event(
            action=BACKUP_RESTORED,
            data={
                "database": target,
                "file": path.name,
                "sha256": manifest["sha256"],
                "taken_at": manifest["created_at"],
                "keys_destroyed_again": report.keys_destroyed_again,
            },
        )
    logger.info("backup %s restored into %s", path.name, target)
    return report


# --- keeping the last N -----------------------------------------------------------------------


def backup_list(alias: str) -> list[tuple[dict, Path]]:
    """The backups of one database with a readable manifest, newest first."""
    found = []
    folder = backup_dir(alias)
    if not folder.is_dir():
        return []
    for manifest_path in folder.glob(f"*{MANIFEST_SUFFIX}"):
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found.append((manifest, manifest_path))
    return sorted(found, key=lambda item: item[0].get("created_at", ""), reverse=True)


def backups_prune(
    *, keep: int | None = None, now: datetime.datetime | None = None, stale_hours: int = 6
) -> dict[str, int]:
    """Keep the newest ``keep`` backups of each database (``PRIVACY_BACKUP_KEEP``).

    Keys backups are also deleted once older than ``KEYS_BACKUP_RETENTION_DAYS``: a purge
    is complete when no keys backup taken before it is left. Files a crashed backup left
    behind (``.partial``, a file without manifest, work folders) go after ``stale_hours``.
    Returns how many backups were deleted per database.
    """
    keep = settings.PRIVACY.get("BACKUP_KEEP", 7) if keep is None else keep
    now = now or timezone.now()
    keys_cutoff = now - datetime.timedelta(days=settings.KEYS_BACKUP_RETENTION_DAYS)
    stale_before = (now - datetime.timedelta(hours=stale_hours)).timestamp()
    deleted = {}
    for alias in ALIASES:
        deleted[alias] = 0
        listed = backup_list(alias)
        for position, (manifest, manifest_path) in enumerate(listed):
            created = datetime.datetime.fromisoformat(manifest.get("created_at"))
            expired = alias == "keys" and created < keys_cutoff
            if position < max(keep, 1) and not expired:
                continue
            (manifest_path.parent / manifest.get("file", "")).unlink(missing_ok=True)
            manifest_path.unlink(missing_ok=True)
            deleted[alias] += 1
        folder = backup_dir(alias)
        if not folder.is_dir():
            continue
        named = {manifest.get("file") for manifest, _path in backup_list(alias)}
        for leftover in folder.iterdir():
            if leftover.stat().st_mtime >= stale_before:
                continue
            if leftover.is_dir() and leftover.name.startswith(".work-"):
                shutil.rmtree(leftover, ignore_errors=True)
            elif leftover.name.endswith(PARTIAL_SUFFIX) or (
                leftover.name.endswith(SUFFIX) and leftover.name not in named
            ):
                leftover.unlink(missing_ok=True)
    logger.info("backups pruned: %s", deleted)
    return deleted
