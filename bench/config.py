"""The bench's parameters and the environment of every process it starts (no Django here).

Everything is read from ``BENCH_*`` variables. The generic ``DATABASE_URL`` of the shell is
deliberately *not* used: a developer's or CI's database must never be dropped by a bench
run. The bench's own server is ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/crm_bench``); each built data set gets its own pair
of databases on it, named after N: ``crm_bench_n100000`` and ``crm_bench_n100000_keys``.
Only databases whose name contains ``bench`` are ever dropped.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
RESULTS_DIR = BENCH_DIR / "results"
PYTHON = sys.executable

# Bump when the loader's output changes (with the source hash below, it decides whether
# a cached database is reused).
LOADER_VERSION = 1
LOADER_SOURCES = ("loader.py", "mapping.py", "crm_dataset.py")
# Each app's own bench data (``bench/load_<app>.py``), when it has landed.
APP_LOADERS = ("load_analytics.py", "load_credit.py", "load_complaints.py")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/crm_bench"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip().replace("_", "")
    return int(value) if value else default


@dataclass
class Config:
    n: int = field(default_factory=lambda: _int("BENCH_N", 100_000))
    growth_n: int = -1  # resolved in __post_init__
    duration: int = field(default_factory=lambda: _int("BENCH_DURATION", 20))
    warmup: int = field(default_factory=lambda: _int("BENCH_WARMUP", 2))
    clients: int = field(default_factory=lambda: _int("BENCH_CLIENTS", 8))
    threads: int = field(default_factory=lambda: _int("BENCH_THREADS", 2))
    workers: int = field(default_factory=lambda: _int("BENCH_WORKERS", 4))
    interactions: int = -1
    import_n: int = -1
    export_n: int = -1
    database_url: str = field(
        default_factory=lambda: os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    rebuild: bool = field(default_factory=lambda: os.environ.get("BENCH_REBUILD", "") == "1")
    only: str = field(default_factory=lambda: os.environ.get("BENCH_ONLY", ""))
    build_only: bool = field(default_factory=lambda: os.environ.get("BENCH_BUILD_ONLY") == "1")

    def __post_init__(self):
        if self.growth_n < 0:
            default = 10_000 if self.n > 10_000 else max(self.n // 10, 100)
            self.growth_n = _int("BENCH_GROWTH_N", default)
        if self.interactions < 0:
            self.interactions = _int("BENCH_INTERACTIONS", 2 * self.n)
        if self.import_n < 0:
            self.import_n = _int("BENCH_IMPORT_N", min(self.n, 10_000))
        if self.export_n < 0:
            self.export_n = _int("BENCH_EXPORT_N", min(self.n, 100_000))

    # --- databases -------------------------------------------------------------------------

    def database(self, n: int, suffix: str = "") -> str:
        """The URL of the bench database holding the data set of size ``n``."""
        parts = urlsplit(self.database_url)
        base = parts.path.lstrip("/") or "crm_bench"
        name = f"{base}_n{n}{suffix}"
        if "bench" not in name:
            raise SystemExit(f"refusing to use database {name!r}: its name must contain 'bench'")
        return urlunsplit(parts._replace(path="/" + name))


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def admin_url(url: str) -> str:
    """The same server, database ``postgres`` (to create and drop the bench databases)."""
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


# --- secrets of the bench deployment -------------------------------------------------------


def _new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def bench_secrets() -> dict[str, str]:
    """The keys the bench's production-mode processes run with.

    Generated once into ``bench/.cache/secrets.env`` (mode 0600, git-ignored) and kept, so
    a cached database stays readable; a new file means new keys, and the cached databases
    are rebuilt (their marker holds a fingerprint of the keys).
    """
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / "secrets.env"
    if not path.exists():
        values = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": _new_key(),
            "BLIND_INDEX_KEY": "v1:" + _new_key(),
            "AUDIT_CHAIN_KEY": _new_key(),
            "BENCH_PASSWORD": "bench-" + secrets.token_urlsafe(12),
        }
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write("".join(f"{k}={v}\n" for k, v in values.items()))
    values = {}
    for line in path.read_text().splitlines():
        key, _sep, value = line.partition("=")
        if key:
            values[key] = value
    return values


def keys_fingerprint(values: dict[str, str]) -> str:
    text = "|".join(values[k] for k in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def loader_hash() -> str:
    digest = hashlib.sha256(f"loader-v{LOADER_VERSION}".encode())
    for name in LOADER_SOURCES:
        digest.update((BENCH_DIR / name).read_bytes())
    for name in APP_LOADERS:
        if (BENCH_DIR / name).exists():
            digest.update((BENCH_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def django_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a bench process: production settings on the bench databases."""
    values = bench_secrets()
    env = {
        key: value
        for key, value in os.environ.items()
        # The shell's own deployment variables never reach the bench processes.
        if not key.startswith(("DJANGO_", "DATABASE_", "KEYS_DATABASE", "CELERY_", "CRM_"))
        and key not in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "BLIND_INDEX_KEYS")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "DJANGO_ENV": "production",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": values["DJANGO_SECRET_KEY"],
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "FIELD_ENCRYPTION_KEYS": values["FIELD_ENCRYPTION_KEYS"],
            "BLIND_INDEX_KEY": values["BLIND_INDEX_KEY"],
            "BLIND_INDEX_KEYS": "",
            "AUDIT_CHAIN_KEY": values["AUDIT_CHAIN_KEY"],
            "DATABASE_URL": database_url,
            "KEYS_DATABASE_URL": database_url.rstrip("/") + "_keys",
            "DATABASE_CONN_MAX_AGE": "600",  # persistent connections
            "CELERY_BROKER_URL": "",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "STATIC_ROOT": str(CACHE_DIR / "static"),
            "CRM_UPLOAD_DIR": str(CACHE_DIR / "uploads"),
            "CRM_EXPORT_DIR": str(CACHE_DIR / "exports"),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "BENCH_PASSWORD": values["BENCH_PASSWORD"],
            "PYTHONPATH": str(REPO_DIR),
        }
    )
    env.update(extra)
    return env
