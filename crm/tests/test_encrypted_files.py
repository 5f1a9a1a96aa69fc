"""Encrypted temporary storage of uploads (no database needed: the master key is a setting)."""

import io
import os
import stat
import struct

import pytest
from django.core.exceptions import SuspiciousFileOperation

from crm.encrypted_files import (
    CHUNK_SIZE,
    DecryptionError,
    delete_encrypted,
    open_decrypted,
    store_encrypted,
)
from crm.encryption import current_master_key

CANARY = "张明华Canary-11010519491231002X"
PAYLOAD_SIZE = 3 * CHUNK_SIZE + CHUNK_SIZE // 2


def read_all(name, directory):
    with io.BufferedReader(open_decrypted(name, directory=directory)) as reader:
        return reader.read()


def records(raw):
    """Split a stored file into its header and its records (length prefix included)."""
    header, _, rest = raw.partition(b"\n")
    parts = []
    while rest:
        (length,) = struct.unpack(">I", rest[:4])
        parts.append(rest[: 4 + length])
        rest = rest[4 + length :]
    return header + b"\n", parts


@pytest.fixture
def stored_text(tmp_path):
    line = f"{CANARY},13812345678,备注\n"
    text = line * (PAYLOAD_SIZE // len(line.encode()) + 1)
    name = store_encrypted(io.BytesIO(text.encode("utf-8")), directory=tmp_path)
    return name, text


def test_random_binary_round_trip(tmp_path):
    payload = os.urandom(PAYLOAD_SIZE)
    name = store_encrypted(io.BytesIO(payload), directory=tmp_path)
    assert read_all(name, tmp_path) == payload
    _, parts = records((tmp_path / name).read_bytes())
    assert len(parts) == 5  # four data chunks (1 + 1 + 1 + 0.5 MiB) and the terminator


def test_text_round_trip_through_text_wrapper(tmp_path, stored_text):
    name, text = stored_text
    raw = open_decrypted(name, directory=tmp_path)
    with io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8", newline="") as reader:
        lines = list(reader)
    assert "".join(lines) == text
    assert lines[0] == f"{CANARY},13812345678,备注\n"
    assert raw.closed


def test_small_reads_and_empty_file(tmp_path):
    name = store_encrypted(io.BytesIO(b"abc"), directory=tmp_path)
    with open_decrypted(name, directory=tmp_path) as raw:
        assert raw.readable()
        assert raw.read(2) == b"ab"
        assert raw.read(5) == b"c"
        assert raw.read(5) == b""
    empty = store_encrypted(io.BytesIO(b""), directory=tmp_path)
    assert read_all(empty, tmp_path) == b""


def test_no_plaintext_on_disk(tmp_path, stored_text):
    name, _ = stored_text
    raw = (tmp_path / name).read_bytes()
    assert CANARY.encode("utf-8") not in raw
    assert b"13812345678" not in raw
    assert raw.startswith(b"CRMENC1 " + current_master_key().key_id.encode() + b"\n")
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_file_and_directory_modes(tmp_path):
    directory = tmp_path / "uploads"
    name = store_encrypted(io.BytesIO(b"data"), directory=directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600


def test_default_directory_from_setting(tmp_path, settings):
    settings.CRM_UPLOAD_DIR = str(tmp_path / "configured")
    name = store_encrypted(io.BytesIO(b"data"))
    assert (tmp_path / "configured" / name).is_file()
    assert read_all(name, None) == b"data"
    assert delete_encrypted(name)
    assert not (tmp_path / "configured" / name).exists()


@pytest.mark.parametrize("offset", [40, CHUNK_SIZE, -10])
def test_tampering_raises(tmp_path, stored_text, offset):
    name, _ = stored_text
    path = tmp_path / name
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(DecryptionError):
        read_all(name, tmp_path)


def test_tampered_header_raises(tmp_path, stored_text):
    name, _ = stored_text
    path = tmp_path / name
    path.write_bytes(b"CRMENC1 000000000000" + path.read_bytes()[20:])
    with pytest.raises(DecryptionError):
        open_decrypted(name, directory=tmp_path)


def test_truncation_raises(tmp_path, stored_text):
    name, _ = stored_text
    path = tmp_path / name
    header, parts = records(path.read_bytes())
    for kept in (parts[:-1], parts[:-2] + parts[-1:], parts[:-1] + [parts[-1][:-1]]):
        path.write_bytes(header + b"".join(kept))
        with pytest.raises(DecryptionError):
            read_all(name, tmp_path)


def test_reordered_or_extended_records_raise(tmp_path, stored_text):
    name, _ = stored_text
    path = tmp_path / name
    header, parts = records(path.read_bytes())
    for changed in ([parts[1], parts[0], *parts[2:]], [*parts, parts[-1]], [*parts, b"x"]):
        path.write_bytes(header + b"".join(changed))
        with pytest.raises(DecryptionError):
            read_all(name, tmp_path)


def test_records_are_bound_to_their_file(tmp_path):
    first = store_encrypted(io.BytesIO(b"first"), directory=tmp_path)
    second = store_encrypted(io.BytesIO(b"second"), directory=tmp_path)
    (tmp_path / second).write_bytes((tmp_path / first).read_bytes())
    with pytest.raises(DecryptionError):
        read_all(second, tmp_path)


@pytest.mark.parametrize(
    "name",
    [
        "../secret.enc",
        "..",
        "a/b.enc",
        "a\\b.enc",
        "/etc/passwd",
        "0" * 32 + ".enc/..",
        "",
        "0123456789abcdef0123456789abcdef.txt",
    ],
)
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(SuspiciousFileOperation):
        open_decrypted(name, directory=tmp_path)
    with pytest.raises(SuspiciousFileOperation):
        delete_encrypted(name, directory=tmp_path)


def test_delete(tmp_path):
    name = store_encrypted(io.BytesIO(b"data"), directory=tmp_path)
    assert delete_encrypted(name, directory=tmp_path)
    assert not (tmp_path / name).exists()
    assert not delete_encrypted(name, directory=tmp_path)


def test_text_source_is_refused_and_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):
        store_encrypted(io.StringIO("text"), directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_upload_can_be_rewound_and_read_from_any_position(tmp_path):
    payload = os.urandom(PAYLOAD_SIZE)
    name = store_encrypted(io.BytesIO(payload), directory=tmp_path)
    with io.BufferedReader(open_decrypted(name, directory=tmp_path)) as reader:
        assert reader.seekable()
        assert reader.read(1000) == payload[:1000]
        assert reader.tell() == 1000
        reader.seek(0)
        assert reader.read() == payload
        reader.seek(CHUNK_SIZE + 17)
        assert reader.read(10) == payload[CHUNK_SIZE + 17 : CHUNK_SIZE + 27]
        with pytest.raises(io.UnsupportedOperation):
            reader.seek(0, io.SEEK_END)
