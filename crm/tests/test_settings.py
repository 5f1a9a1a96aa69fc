"""The production profile: refuses to start half-configured; `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from crm.encryption import generate_key

ROOT = Path(settings.BASE_DIR)


def _manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "FIELD_ENCRYPTION", "BLIND_INDEX", "AUDIT_CHAIN"))
    }
    # The process sees only what the test gives it, not a local .env `make run` wrote.
    clean["CRM_ENV_FILE"] = ""
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "crm.settings",
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "x" * 20 + generate_key(),
    "DJANGO_ALLOWED_HOSTS": "crm.example.com",
    "FIELD_ENCRYPTION_KEYS": generate_key(),
    "BLIND_INDEX_KEY": generate_key(),
    "AUDIT_CHAIN_KEY": generate_key(),
}


def test_check_deploy_is_clean_under_production():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "FIELD_ENCRYPTION_KEYS",
        "BLIND_INDEX_KEY",
        "AUDIT_CHAIN_KEY",
    ],
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [("not base64!", "not base64"), ("c2hvcnQ=", "must decode to 32 bytes")],
)
def test_a_malformed_key_is_reported(value, message):
    result = _manage("check", "--deploy", **{**PRODUCTION, "FIELD_ENCRYPTION_KEYS": value})
    assert result.returncode != 0
    assert "(crm.E001)" in result.stderr and message in result.stderr


def test_development_defaults_are_safe_for_a_bare_machine():
    assert settings.PASSWORD_HASHERS[-2:] == [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    assert settings.USE_TZ is True
    assert [code for code, _ in settings.LANGUAGES] == ["en", "zh-hans"]
    assert "keys" in settings.DATABASES
