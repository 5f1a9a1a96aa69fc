"""Blind indexes: finding encrypted values without decrypting them (DESIGN §3).

* ``blind_index(kind, value)`` is a keyed HMAC-SHA256 of the normalised value, for exact
  look-up and duplicate detection (phone, e-mail, ID number…).
* ``bigram_tokens(value)`` returns keyed HMACs of the character bigrams of a name, so
  that a search for "张明" finds "张明华": the query's tokens are a subset of the name's.

The key (``settings.BLIND_INDEX_KEY``) is separate from the encryption keys. The digests
are derived from personal data: a purge deletes them with the values.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

from django.conf import settings
from django.test.signals import setting_changed

from crm.encryption import _decode_key, _derive

DIGEST_LENGTH = 32  # hex characters kept (128 bits)


@lru_cache(maxsize=4)
def _key(configured: str, secret_key: str) -> bytes:
    if configured:
        return _decode_key(configured, "BLIND_INDEX_KEY")
    return _derive(secret_key, b"crm blind index (development)")


def _current_key() -> bytes:
    return _key(settings.BLIND_INDEX_KEY, settings.SECRET_KEY)


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


def _digest(purpose: str, text: str) -> str:
    mac = hmac.new(_current_key(), f"{purpose}\x00{text}".encode(), hashlib.sha256)
    return mac.hexdigest()[:DIGEST_LENGTH]


def blind_index(kind: str, value: str | None) -> str:
    """The blind index of ``value`` normalised as ``kind``; "" for an empty value."""
    normalised = NORMALISERS[kind](value or "")
    return _digest(kind, normalised) if normalised else ""


def bigrams(value: str) -> list[str]:
    text = normalise_name(value)
    if len(text) < 2:
        return [text] if text else []
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def bigram_tokens(value: str | None) -> list[str]:
    """Keyed tokens of the name's bigrams (a one-character name gives one token)."""
    return [_digest("bigram", gram) for gram in bigrams(value or "")]


def _reset(setting, **kwargs):
    if setting in ("BLIND_INDEX_KEY", "SECRET_KEY"):
        _key.cache_clear()


setting_changed.connect(_reset, dispatch_uid="crm.blind_index.setting_changed")
