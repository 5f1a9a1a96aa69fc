"""Blind indexes: finding encrypted values without decrypting them (DESIGN §3).

* ``blind_index(kind, value)`` is a keyed HMAC-SHA256 of the normalised value, for exact
  look-up and duplicate detection (phone, e-mail, ID number…).
* ``bigram_tokens(value)`` returns keyed HMACs of the character bigrams of a name, so
  that a search for "张明" finds "张明华": the query's tokens are a subset of the name's.

The key is separate from the encryption keys and carries a version, so that it can be
rotated: ``settings.BLIND_INDEX_KEYS`` lists ``<version>:<key>`` entries, the first is
current (digests are written under it), the others are still looked up while
``manage.py reindex`` recomputes the digests under the current key. When that setting is
empty, ``settings.BLIND_INDEX_KEY`` is the one key (``v2:<key>`` names its version; a
bare key is ``v1``). Without any key (development) a key derived from ``SECRET_KEY`` is
used, version ``dev``.

The digests are derived from personal data: they live in the keys database
(``crm.search_index``) and a purge deletes them with the data key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test.signals import setting_changed

from crm.encryption import _decode_key, _derive

DIGEST_LENGTH = 32  # hex characters kept (128 bits)
DEFAULT_VERSION = "v1"  # the version of a key configured without one
DEVELOPMENT_VERSION = "dev"
_VERSION = re.compile(r"[A-Za-z0-9_.-]{1,16}")


@dataclass(frozen=True)
class BlindIndexKey:
    version: str
    material: bytes


def parse_key(text: str, setting: str = "BLIND_INDEX_KEY") -> BlindIndexKey:
    """``<version>:<urlsafe base64 key>``, or a bare key (version ``v1``)."""
    version, separator, encoded = text.strip().rpartition(":")
    if not separator:
        version = DEFAULT_VERSION
    if not _VERSION.fullmatch(version):
        raise ImproperlyConfigured(
            f"{setting}: a key version is 1-16 letters, digits, '.', '_' or '-' (e.g. v2)."
        )
    return BlindIndexKey(version, _decode_key(encoded, setting))


@lru_cache(maxsize=4)
def _keys(configured: tuple[str, ...], single: str, secret_key: str) -> tuple[BlindIndexKey, ...]:
    if configured:
        keys = tuple(parse_key(text, "BLIND_INDEX_KEYS") for text in configured)
    elif single:
        keys = (parse_key(single),)
    else:
        material = _derive(secret_key, b"crm blind index (development)")
        keys = (BlindIndexKey(DEVELOPMENT_VERSION, material),)
    versions = [key.version for key in keys]
    if len(set(versions)) != len(versions):
        raise ImproperlyConfigured("BLIND_INDEX_KEYS: each key needs its own version.")
    return keys


def index_keys() -> tuple[BlindIndexKey, ...]:
    """The configured keys, current first."""
    return _keys(
        tuple(getattr(settings, "BLIND_INDEX_KEYS", ()) or ()),
        settings.BLIND_INDEX_KEY,
        settings.SECRET_KEY,
    )


def current_key() -> BlindIndexKey:
    return index_keys()[0]


def current_version() -> str:
    return current_key().version


def _current_key() -> bytes:
    return current_key().material


def normalise_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def normalise_email(value: str) -> str:
    return (value or "").strip().lower()


def normalise_id_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def normalise_name(value: str) -> str:
    text = unicodedata.normalize("NFKC", value or "").lower()
    return re.sub(r"[\s\W_]+", "", text)


NORMALISERS = {
    "phone": normalise_phone,
    "email": normalise_email,
    "id_number": normalise_id_number,
    "name": normalise_name,
}


def _digest(purpose: str, text: str, material: bytes | None = None) -> str:
    mac = hmac.new(material or _current_key(), f"{purpose}\x00{text}".encode(), hashlib.sha256)
    return mac.hexdigest()[:DIGEST_LENGTH]


def blind_index(kind: str, value: str | None, key: BlindIndexKey | None = None) -> str:
    """The blind index of ``value`` normalised as ``kind`` (under the current key unless
    ``key`` is given); "" for an empty value."""
    normalised = NORMALISERS[kind](value or "")
    if not normalised:
        return ""
    return _digest(kind, normalised, key.material if key else None)


def bigrams(value: str) -> list[str]:
    text = normalise_name(value)
    if len(text) < 2:
        return [text] if text else []
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def bigram_tokens(value: str | None, key: BlindIndexKey | None = None) -> list[str]:
    """Keyed tokens of the name's bigrams (a one-character name gives one token)."""
    material = key.material if key else None
    return [_digest("bigram", gram, material) for gram in bigrams(value or "")]


def _reset(setting, **kwargs):
    if setting in ("BLIND_INDEX_KEY", "BLIND_INDEX_KEYS", "SECRET_KEY"):
        _keys.cache_clear()


setting_changed.connect(_reset, dispatch_uid="crm.blind_index.setting_changed")
