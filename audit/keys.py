"""The key of the audit chain (``settings.AUDIT_CHAIN_KEY``), kept out of both databases.

Two subkeys are derived from it with HKDF, one per purpose, so that a MAC made for one can
never stand in for the other: one keys the hash of every event (and the content MAC an
event carries until it is chained), the other keys the checkpoints kept in the ``keys``
database. In development, when the setting is empty, the key is derived from
``SECRET_KEY`` (as ``crm.encryption`` does for its keys); production refuses to start
without it (``crm.settings``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.test.signals import setting_changed

from crm.encryption import _decode_key, _derive

EVENTS = b"crm audit chain: event hashes"
CHECKPOINTS = b"crm audit chain: checkpoints"


@lru_cache(maxsize=8)
def _subkey(configured: str, secret_key: str, purpose: bytes) -> bytes:
    if configured:
        material = _decode_key(configured, "AUDIT_CHAIN_KEY")
    else:
        material = _derive(secret_key, b"crm audit chain (development)")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)


def subkey(purpose: bytes) -> bytes:
    return _subkey(settings.AUDIT_CHAIN_KEY, settings.SECRET_KEY, purpose)


def canonical(payload: dict) -> bytes:
    """The one serialisation that hashes and MACs are computed over."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def mac(purpose: bytes, payload: dict) -> str:
    return hmac.new(subkey(purpose), canonical(payload), hashlib.sha256).hexdigest()


def _reset(setting, **kwargs):
    if setting in ("AUDIT_CHAIN_KEY", "SECRET_KEY"):
        _subkey.cache_clear()


setting_changed.connect(_reset, dispatch_uid="audit.keys.setting_changed")
