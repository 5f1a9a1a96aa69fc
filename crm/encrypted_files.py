"""Encrypted temporary storage for uploaded files (import files hold personal data).

An upload is never written to disk in clear: :func:`store_encrypted` encrypts it chunk by
chunk under the current master key (``crm.encryption``) and :func:`open_decrypted` streams it
back, one chunk in memory at a time.

File layout (``<uuid4 hex>.enc``)::

    b"CRMENC1 " + <master key id> + b"\\n"
    record*            4-byte big-endian length, then nonce | AES-GCM ciphertext | tag
    final record       the same, sealing an empty plaintext

Each record's associated data is ``b"crm-upload\\0" + file id + key id + chunk index +
final flag``, so records cannot be moved between files, reordered, dropped or replayed, and
the final (empty) record proves the file was not truncated. A data record always holds at
least one byte, so a record of exactly the AEAD overhead is the final one; its flag is
authenticated like everything else.
"""

from __future__ import annotations

import io
import os
import re
import struct
import uuid
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation

from crm.encryption import (
    _NONCE_BYTES,
    DecryptionError,
    _master_key_by_id,
    _open,
    _seal,
    current_master_key,
)

__all__ = [
    "DecryptionError",
    "EncryptedWriter",
    "delete_encrypted",
    "open_decrypted",
    "store_encrypted",
]

MAGIC = b"CRMENC1 "
CHUNK_SIZE = 1024 * 1024
SUFFIX = ".enc"
_TAG_BYTES = 16
_OVERHEAD = _NONCE_BYTES + _TAG_BYTES
_MAX_RECORD = CHUNK_SIZE + _OVERHEAD
_MAX_HEADER = len(MAGIC) + 128
_LENGTH = struct.Struct(">I")
_NAME = re.compile(r"[0-9a-f]{32}" + re.escape(SUFFIX))


def _directory(directory: str | os.PathLike | None) -> Path:
    if directory is not None:
        return Path(directory)
    configured = getattr(settings, "CRM_UPLOAD_DIR", None)
    if configured:
        return Path(configured)
    return Path(settings.BASE_DIR) / "var" / "uploads"


def _path(name: str, directory: str | os.PathLike | None) -> Path:
    if (
        not isinstance(name, str)
        or "/" in name
        or "\\" in name
        or (os.altsep and os.altsep in name)
        or ".." in name
        or not _NAME.fullmatch(name)
    ):
        raise SuspiciousFileOperation(f"Refusing the encrypted file name {name!r}.")
    return _directory(directory) / name


def _aad(file_id: bytes, key_id: bytes, index: int, final: bool) -> bytes:
    return b"crm-upload\0%s\0%s\0%d\0%s" % (
        file_id,
        key_id,
        index,
        b"final" if final else b"more",
    )


def _ensure_directory(path: Path) -> None:
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask


class EncryptedWriter:
    """Write an encrypted file incrementally: ``write(bytes)`` any number of times, then
    ``close()`` (which seals the final record and returns the file's name) or ``abort()``."""

    def __init__(self, *, directory: str | os.PathLike | None = None):
        target = _directory(directory)
        _ensure_directory(target)
        file_id = uuid.uuid4().hex
        self.name = file_id + SUFFIX
        self._path = target / self.name
        self._master = current_master_key()
        self._key_id = self._master.key_id.encode("ascii")
        self._file_id = file_id.encode("ascii")
        self._index = 0
        self._pending = bytearray()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        self._out = os.fdopen(os.open(self._path, flags, 0o600), "wb")
        self._out.write(MAGIC + self._key_id + b"\n")

    def _seal_record(self, plaintext: bytes, final: bool) -> None:
        aad = _aad(self._file_id, self._key_id, self._index, final)
        sealed = _seal(self._master.material, plaintext, aad)
        self._out.write(_LENGTH.pack(len(sealed)) + sealed)
        self._index += 1

    def write(self, data) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError("EncryptedWriter writes bytes.")
        self._pending += data
        while len(self._pending) >= CHUNK_SIZE:
            self._seal_record(bytes(self._pending[:CHUNK_SIZE]), final=False)
            del self._pending[:CHUNK_SIZE]

    def close(self) -> str:
        try:
            if self._pending:
                self._seal_record(bytes(self._pending), final=False)
                self._pending.clear()
            self._seal_record(b"", final=True)
            self._out.close()
        except BaseException:
            self.abort()
            raise
        return self.name

    def abort(self) -> None:
        self._out.close()
        self._path.unlink(missing_ok=True)


def store_encrypted(source: BinaryIO, *, directory: str | os.PathLike | None = None) -> str:
    """Encrypt the binary stream ``source`` into a new file; return the file's name."""
    writer = EncryptedWriter(directory=directory)
    try:
        while True:
            chunk = source.read(CHUNK_SIZE)
            if chunk is None:  # a non-blocking raw stream with nothing ready
                raise OSError("The upload source is not ready for reading.")
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError("store_encrypted needs a binary file-like source.")
            if not chunk:
                break
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer.close()


class DecryptedReader(io.RawIOBase):
    """A read-only raw stream over an encrypted upload; decrypts one record at a time."""

    def __init__(self, path: Path):
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            header = self._file.readline(_MAX_HEADER)
            if not header.startswith(MAGIC) or not header.endswith(b"\n"):
                raise DecryptionError("Not an encrypted upload, or its header is damaged.")
            self._key_id = header[len(MAGIC) : -1]
            try:
                key_id = self._key_id.decode("ascii")
            except UnicodeDecodeError as exc:
                raise DecryptionError("The encrypted upload's header is damaged.") from exc
            self._material = _master_key_by_id(key_id).material
        except BaseException:
            self._file.close()
            raise
        self._file_id = path.name[: -len(SUFFIX)].encode("ascii")
        self._records_start = self._file.tell()
        self._rewind()

    def _rewind(self) -> None:
        self._file.seek(self._records_start)
        self._index = 0
        self._buffer = b""
        self._position = 0
        self._offset = 0  # clear bytes handed out so far
        self._finished = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._offset

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Rewind and read forward: records are decrypted in order, so any position in
        the clear stream is reached from the start (a reader that checks the file first
        and imports it afterwards rewinds once)."""
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if whence == io.SEEK_CUR:
            offset += self._offset
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("An encrypted upload cannot seek from its end.")
        if offset < 0:
            raise ValueError("Negative seek position.")
        if offset < self._offset:
            self._rewind()
        skip = bytearray(64 * 1024)
        while self._offset < offset:
            count = self.readinto(memoryview(skip)[: min(len(skip), offset - self._offset)])
            if not count:
                break
        return self._offset

    def _read_exactly(self, size: int) -> bytes:
        data = self._file.read(size)
        if len(data) != size:
            raise DecryptionError("The encrypted upload is truncated.")
        return data

    def _next_record(self) -> None:
        (length,) = _LENGTH.unpack(self._read_exactly(_LENGTH.size))
        if length < _OVERHEAD or length > _MAX_RECORD:
            raise DecryptionError("The encrypted upload is damaged.")
        final = length == _OVERHEAD
        blob = self._read_exactly(length)
        plaintext = _open(
            self._material, blob, _aad(self._file_id, self._key_id, self._index, final)
        )
        self._index += 1
        if final:
            if self._file.read(1):
                raise DecryptionError("The encrypted upload has data after its end.")
            self._finished = True
        self._buffer, self._position = plaintext, 0

    def readinto(self, buffer) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        view = memoryview(buffer).cast("B")
        while self._position >= len(self._buffer):
            if self._finished or not len(view):
                return 0
            self._next_record()
        count = min(len(view), len(self._buffer) - self._position)
        view[:count] = self._buffer[self._position : self._position + count]
        self._position += count
        self._offset += count
        return count

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self._buffer = b""
        super().close()


def open_decrypted(name: str, *, directory: str | os.PathLike | None = None) -> DecryptedReader:
    """Open an encrypted upload for reading; wrap in ``io.BufferedReader``/``TextIOWrapper``.

    Reading raises ``DecryptionError`` when the file was altered, truncated, or its master key
    is no longer configured (that last one already here).
    """
    return DecryptedReader(_path(name, directory))


def stale_encrypted(
    *, older_than_seconds: float, directory: str | os.PathLike | None = None
) -> list[str]:
    """Names of encrypted files in ``directory`` not modified for ``older_than_seconds``."""
    import time

    folder = _directory(directory)
    if not folder.is_dir():
        return []
    cutoff = time.time() - older_than_seconds
    return sorted(
        path.name
        for path in folder.iterdir()
        if _NAME.fullmatch(path.name) and path.stat().st_mtime < cutoff
    )


def delete_encrypted(name: str, *, directory: str | os.PathLike | None = None) -> bool:
    """Delete an encrypted upload. Returns whether a file was deleted."""
    try:
        _path(name, directory).unlink()
    except FileNotFoundError:
        return False
    return True
