"""Application-level encryption of personal data (DESIGN §3).

Two layers:

* **Master keys** (``settings.FIELD_ENCRYPTION_KEYS``): a list, the first wraps new data
  keys, every key in the list unwraps. ``manage.py rotate_keys`` re-wraps every data key
  (and re-encrypts values kept directly under a master key) with the first one.
* **Data keys** (``crm.models.DataKey``, in the ``keys`` database): one per subject (a
  customer). Values of that subject are encrypted with AES-256-GCM under its data key,
  so deleting the one key row makes the subject's values unreadable everywhere.

A stored value looks like ``enc2$<key id>$<base64(nonce | ciphertext | tag)>``; the key id
is either a data-key UUID or ``m:<fingerprint>`` for values under a master key itself.
The associated data binds the format version, the value's *place* (model, field and the
row's stable ``uid``, see ``crm.fields``) and the key id: a value copied to another
column, another row or another table does not open (``IntegrityFailure``). The first
format, ``enc1``, bound only the key id; it is still read (unless
``FIELD_ENCRYPTION_LEGACY_READS`` is off) and ``manage.py reencrypt`` rewrites it.

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

PREFIX = "enc2"
LEGACY_PREFIX = "enc1"
MASTER_PREFIX = "m:"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A value could not be decrypted: its key is unknown, destroyed, or the value altered."""


class DataKeyDestroyed(DecryptionError):
    """The subject's data key was destroyed (crypto-shredded)."""


class IntegrityFailure(DecryptionError):
    """The value does not open in this place: altered, or copied from another column/row."""


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

# Ids of data keys known to be destroyed. A destroyed key never comes back (ids are random
# UUIDs and a restore of the keys database is not allowed to revive one), so the process
# remembers them and reading a shredded subject costs no query on the keys database.
_destroyed: set[str] = set()
_DESTROYED_REMEMBERED = 100_000


def _key_cache() -> dict[str, bytes]:
    if not hasattr(_cache, "keys"):
        _cache.keys = {}
    return _cache.keys


def clear_key_cache(**kwargs) -> None:
    _key_cache().clear()
    request_memo().clear()


def request_memo() -> set:
    """A set that lives as long as the key cache (one request or task), for de-duplication."""
    if not hasattr(_cache, "memo"):
        _cache.memo = set()
    return _cache.memo


def _remember_destroyed(key_id: str) -> None:
    if len(_destroyed) >= _DESTROYED_REMEMBERED:
        _destroyed.clear()
    _destroyed.add(key_id)


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


def data_keys_create(count: int) -> list[uuid.UUID]:
    """Create ``count`` new subject data keys at once (a bulk import's new cards).

    Each key is made exactly as ``data_key_create`` makes one (random material wrapped
    under the current master key, bound to its id); they are written in one INSERT (per
    ``batch_size`` rows of the backend) on the ``keys`` database and their material is
    cached for the values encrypted next. Call it inside the keys transaction of the
    business write, so the keys roll back with it.
    """
    from crm.models import DataKey

    if count <= 0:
        return []
    made = []
    for _ in range(count):
        key_id = uuid.uuid4()
        material = AESGCM.generate_key(bit_length=256)
        master_id, wrapped = _wrap(key_id, material)
        made.append((DataKey(id=key_id, wrapped_key=wrapped, master_key_id=master_id), material))
    DataKey.objects.bulk_create([row for row, _material in made])
    cache = _key_cache()
    for row, material in made:
        cache[str(row.id)] = material
    return [row.id for row, _material in made]


def data_key_destroy(key_id: uuid.UUID | str) -> None:
    """Crypto-shred: delete the data key once the caller's business transaction commits.

    Destroying is irreversible, so it waits for the commit of the transaction that decided
    it (a purge that rolls back keeps the key); outside a transaction it happens at once.
    Callers (the purge service) record the audit event; this function only destroys.
    """
    from django.db import transaction

    transaction.on_commit(lambda: _data_key_delete(str(key_id)), using="default")


def data_keys_delete_now(key_ids) -> int:
    """Delete data keys at once, outside any business transaction (the orphan sweep)."""
    return sum(_data_key_delete(str(key_id)) for key_id in key_ids)


def _data_key_delete(key_id: str) -> bool:
    from crm.models import DataKey

    _key_cache().pop(key_id, None)
    deleted, _ = DataKey.objects.filter(id=key_id).delete()
    for hook in _destroy_hooks:
        hook(key_id)
    _remember_destroyed(key_id)
    return bool(deleted)


_destroy_hooks: list = []


def on_data_key_destroyed(hook) -> None:
    """Register ``hook(key_id)``, run when a data key is destroyed (e.g. search digests)."""
    if hook not in _destroy_hooks:
        _destroy_hooks.append(hook)


def _data_key_material(key_id: str) -> bytes:
    cache = _key_cache()
    if key_id in cache:
        return cache[key_id]
    if key_id in _destroyed:
        raise DataKeyDestroyed(key_id)
    from crm.models import DataKey

    row = DataKey.objects.filter(id=key_id).values_list("wrapped_key", "master_key_id").first()
    if row is None:
        _remember_destroyed(key_id)
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
    wanted = {str(k) for k in key_ids if k} - set(cache) - _destroyed
    if not wanted:
        return 0
    rows = DataKey.objects.filter(id__in=wanted).values_list("id", "wrapped_key", "master_key_id")
    found = set()
    for key_id, wrapped, master_id in rows:
        found.add(str(key_id))
        cache[str(key_id)] = _open(
            _master_key_by_id(master_id).material, bytes(wrapped), str(key_id).encode()
        )
    for key_id in wanted - found:
        _remember_destroyed(key_id)
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


def _aad(key_id: str, context: str) -> bytes:
    return f"{PREFIX}\x00{context}\x00{key_id}".encode()


def _material(key_id: str) -> bytes:
    if key_id.startswith(MASTER_PREFIX):
        return _master_key_by_id(key_id[len(MASTER_PREFIX) :]).material
    return _data_key_material(key_id)


def encrypt(plaintext: str, data_key_id: uuid.UUID | str | None = None, *, context: str) -> str:
    """Encrypt text for one place, under a subject's data key or the current master key.

    ``context`` names the place the value is stored in (``crm.fields.value_context``:
    model, field, row uid); the value opens only with the same context.
    """
    if not context:
        raise ValueError("An encrypted value needs the context of the place it is stored in.")
    if data_key_id is not None:
        key_id = str(data_key_id)
        material = _data_key_material(key_id)
    else:
        master = current_master_key()
        key_id, material = MASTER_PREFIX + master.key_id, master.material
    blob = _seal(material, plaintext.encode("utf-8"), _aad(key_id, context))
    return f"{PREFIX}${key_id}${base64.urlsafe_b64encode(blob).decode()}"


def is_encrypted(value: str) -> bool:
    return isinstance(value, str) and (
        value.startswith(PREFIX + "$") or value.startswith(LEGACY_PREFIX + "$")
    )


def is_legacy(value: str) -> bool:
    return isinstance(value, str) and value.startswith(LEGACY_PREFIX + "$")


def key_id_of(token: str) -> str:
    return token.split("$", 2)[1]


def is_under_master_key(token: str) -> bool:
    return key_id_of(token).startswith(MASTER_PREFIX)


def decrypt(token: str, *, context: str | None = None) -> str:
    """Decrypt a stored value found in the place ``context`` names.

    Raises ``DataKeyDestroyed`` for a shredded subject and ``IntegrityFailure`` when the
    value does not belong to that place or was altered.
    """
    try:
        prefix, key_id, body = token.split("$", 2)
        blob = base64.urlsafe_b64decode(body.encode())
    except ValueError as exc:
        raise IntegrityFailure("Not an encrypted value.") from exc
    if prefix == PREFIX:
        if not context:
            raise ValueError("Decrypting needs the context of the place the value is stored in.")
        aad = _aad(key_id, context)
    elif prefix == LEGACY_PREFIX and settings.FIELD_ENCRYPTION_LEGACY_READS:
        aad = key_id.encode()
    else:
        raise IntegrityFailure("Unknown or refused encryption format.")
    material = _material(key_id)
    try:
        return _open(material, blob, aad).decode("utf-8")
    except DecryptionError as exc:
        raise IntegrityFailure(str(exc)) from exc


def reencrypt(token: str, *, context: str, new_context: str | None = None, data_key_id=None) -> str:
    """Encrypt a stored value again in the current format.

    Under the current master key if it was under a master key, else under ``data_key_id``
    (default: its own data key); bound to ``new_context`` (default: the same place).
    """
    key_id = key_id_of(token)
    plaintext = decrypt(token, context=context)
    if key_id.startswith(MASTER_PREFIX):
        target = None
    else:
        target = data_key_id if data_key_id is not None else key_id
    return encrypt(plaintext, target, context=new_context or context)


def _reset(setting, **kwargs):
    if setting in ("FIELD_ENCRYPTION_KEYS", "SECRET_KEY"):
        _master_keys.cache_clear()
        clear_key_cache()


setting_changed.connect(_reset, dispatch_uid="crm.encryption.setting_changed")
