"""Application-level encryption of personal data (DESIGN §3).

Two layers:

* **Master keys** (``settings.FIELD_ENCRYPTION_KEYS``): a list, the first wraps new data
  keys, every key in the list unwraps. ``manage.py rotate_keys`` re-wraps every data key
  (and re-encrypts values kept directly under a master key) with the first one.
* **Data keys** (``crm.models.DataKey``, in the ``keys`` database): one per subject (a
  customer). Values of that subject are encrypted with AES-256-GCM under its data key,
  so deleting the one key row makes the subject's values unreadable everywhere.

A stored value looks like ``enc1$<key id>$<base64(nonce | ciphertext | tag)>``; the key id
is either a data-key UUID or ``m:<fingerprint>`` for values under a master key itself.
The key id is bound to the ciphertext as associated data, so a value cannot be moved
under another key id unnoticed.

Unwrapped data keys are cached until the end of the current request or task (see
``crm.middleware`` and ``crm.celery``) so a list page unwraps each subject's key once.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import uuid
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished, request_started
from django.test.signals import setting_changed

PREFIX = "enc1"
MASTER_PREFIX = "m:"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A value could not be decrypted: its key is unknown, destroyed, or the value altered."""


class DataKeyDestroyed(DecryptionError):
    """The subject's data key was destroyed (crypto-shredded)."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    material: bytes


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


def _decode_key(text: str, setting: str = "FIELD_ENCRYPTION_KEYS") -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{setting} holds a key that is not base64.") from exc
    if len(raw) != 32:
        raise ImproperlyConfigured(f"Each {setting} key must decode to 32 bytes.")
    return raw


def fingerprint(material: bytes) -> str:
    return hashlib.sha256(b"crm-master-key" + material).hexdigest()[:12]


@lru_cache(maxsize=8)
def _master_keys(configured: tuple[str, ...], secret_key: str) -> tuple[MasterKey, ...]:
    if configured:
        materials = [_decode_key(text) for text in configured]
    else:
        # Development only (production settings refuse to start without keys).
        materials = [_derive(secret_key, b"crm field encryption (development)")]
    return tuple(MasterKey(fingerprint(m), m) for m in materials)


def master_keys() -> tuple[MasterKey, ...]:
    return _master_keys(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def current_master_key() -> MasterKey:
    return master_keys()[0]


def _master_key_by_id(key_id: str) -> MasterKey:
    for key in master_keys():
        if key.key_id == key_id:
            return key
    raise DecryptionError("The master key that protects this value is not configured.")


def generate_key() -> str:
    """A fresh random key in the format FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY expect."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


# --- low-level AEAD -----------------------------------------------------------------------


def _seal(material: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(material).encrypt(nonce, plaintext, aad)


def _open(material: bytes, blob: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(material).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], aad)
    except Exception as exc:  # InvalidTag and malformed input alike
        raise DecryptionError("The value was altered or the key is wrong.") from exc


# --- data keys ----------------------------------------------------------------------------

_cache = threading.local()


def _key_cache() -> dict[str, bytes]:
    if not hasattr(_cache, "keys"):
        _cache.keys = {}
    return _cache.keys


def clear_key_cache(**kwargs) -> None:
    _key_cache().clear()


request_started.connect(clear_key_cache, dispatch_uid="crm.encryption.request_started")
request_finished.connect(clear_key_cache, dispatch_uid="crm.encryption.request_finished")


def _wrap(data_key_id: uuid.UUID, material: bytes) -> tuple[str, bytes]:
    master = current_master_key()
    return master.key_id, _seal(master.material, material, str(data_key_id).encode())


def data_key_create() -> uuid.UUID:
    """Create a new subject data key in the ``keys`` database and return its id."""
    from crm.models import DataKey

    key_id = uuid.uuid4()
    material = AESGCM.generate_key(bit_length=256)
    master_id, wrapped = _wrap(key_id, material)
    DataKey.objects.create(id=key_id, wrapped_key=wrapped, master_key_id=master_id)
    _key_cache()[str(key_id)] = material
    return key_id


def data_key_destroy(key_id: uuid.UUID | str) -> bool:
    """Crypto-shred: delete the data key. Returns whether a key was deleted.

    Callers (the purge service) record the audit event; this function only destroys.
    """
    from crm.models import DataKey

    _key_cache().pop(str(key_id), None)
    deleted, _ = DataKey.objects.filter(id=key_id).delete()
    return bool(deleted)


def _data_key_material(key_id: str) -> bytes:
    cache = _key_cache()
    if key_id in cache:
        return cache[key_id]
    from crm.models import DataKey

    row = DataKey.objects.filter(id=key_id).values_list("wrapped_key", "master_key_id").first()
    if row is None:
        raise DataKeyDestroyed(key_id)
    wrapped, master_id = row
    material = _open(_master_key_by_id(master_id).material, bytes(wrapped), key_id.encode())
    cache[key_id] = material
    return material


def data_keys_preload(key_ids) -> int:
    """Unwrap many subjects' data keys with one query into the per-request cache.

    Returns how many keys were fetched. Missing (destroyed) keys are simply not cached.
    """
    from crm.models import DataKey

    cache = _key_cache()
    wanted = {str(k) for k in key_ids if k} - set(cache)
    if not wanted:
        return 0
    rows = DataKey.objects.filter(id__in=wanted).values_list("id", "wrapped_key", "master_key_id")
    for key_id, wrapped, master_id in rows:
        cache[str(key_id)] = _open(
            _master_key_by_id(master_id).material, bytes(wrapped), str(key_id).encode()
        )
    return len(wanted)


def data_keys_rewrap() -> int:
    """Re-wrap every data key under the current master key. Returns how many changed."""
    from crm.models import DataKey

    current = current_master_key()
    changed = 0
    stale = DataKey.objects.exclude(master_key_id=current.key_id)
    for row in stale.iterator(chunk_size=500):
        material = _open(
            _master_key_by_id(row.master_key_id).material,
            bytes(row.wrapped_key),
            str(row.id).encode(),
        )
        master_id, wrapped = _wrap(row.id, material)
        DataKey.objects.filter(id=row.id, master_key_id=row.master_key_id).update(
            wrapped_key=wrapped, master_key_id=master_id
        )
        changed += 1
    return changed


# --- values -------------------------------------------------------------------------------


def encrypt(plaintext: str, data_key_id: uuid.UUID | str | None = None) -> str:
    """Encrypt text under a subject's data key, or under the current master key if none."""
    if data_key_id is not None:
        key_id = str(data_key_id)
        material = _data_key_material(key_id)
    else:
        master = current_master_key()
        key_id, material = MASTER_PREFIX + master.key_id, master.material
    blob = _seal(material, plaintext.encode("utf-8"), key_id.encode())
    return f"{PREFIX}${key_id}${base64.urlsafe_b64encode(blob).decode()}"


def is_encrypted(value: str) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + "$")


def key_id_of(token: str) -> str:
    return token.split("$", 2)[1]


def decrypt(token: str) -> str:
    """Decrypt a stored value. Raises ``DataKeyDestroyed`` for a shredded subject."""
    try:
        prefix, key_id, body = token.split("$", 2)
    except ValueError as exc:
        raise DecryptionError("Not an encrypted value.") from exc
    if prefix != PREFIX:
        raise DecryptionError("Unknown encryption format.")
    if key_id.startswith(MASTER_PREFIX):
        material = _master_key_by_id(key_id[len(MASTER_PREFIX) :]).material
    else:
        material = _data_key_material(key_id)
    blob = base64.urlsafe_b64decode(body.encode())
    return _open(material, blob, key_id.encode()).decode("utf-8")


def reencrypt(token: str) -> str:
    """Encrypt the value again: under the current master key if it was under a master key."""
    key_id = key_id_of(token)
    plaintext = decrypt(token)
    return encrypt(plaintext, None if key_id.startswith(MASTER_PREFIX) else key_id)


def _reset(setting, **kwargs):
    if setting in ("FIELD_ENCRYPTION_KEYS", "SECRET_KEY"):
        _master_keys.cache_clear()
        clear_key_cache()


setting_changed.connect(_reset, dispatch_uid="crm.encryption.setting_changed")
