"""Readers: the rows of a stored (encrypted) upload, one at a time, within fixed bounds.

* CSV in UTF-8, UTF-8 with a byte-order mark or GB18030. The whole file must decode in
  one encoding: a file whose lines mix UTF-8 and GBK (two exports pasted together) is
  refused with the first line that differs, instead of being imported as mojibake.
* XLSX, first sheet, streamed with openpyxl in read-only mode. A workbook is a zip archive:
  its declared uncompressed size is checked before anything is unpacked, and the sheet's
  XML is counted again while it is read, so a small "zip bomb" is refused, never expanded.
* Both stop at ``CRM_IMPORT_MAX_ROWS`` data rows with a clear error (``records``).

Line numbers are those a spreadsheet shows: the header is line 1 and blank lines count.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator

from django.conf import settings

from crm.encrypted_files import open_decrypted
from crm.imports import messages
from crm.imports.columns import Column, Header, cell_text, is_blank, read_header
from crm.imports.errors import ImportFileError

CSV_EXTENSIONS = (".csv", ".txt")
XLSX_EXTENSIONS = (".xlsx",)
XLSX_IN_MEMORY = 64 * 1024 * 1024  # a decrypted workbook above this spills to an unnamed file
XLSX_MAX_COLUMNS = 200  # cells further right are not read (no target has that many columns)
READ_BUFFER = 1024 * 1024
MB = 1024 * 1024
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW_TAG = _SHEET_NS + "row"
_VALUE_TAGS = (_SHEET_NS + "v", _SHEET_NS + "t")


def max_rows() -> int:
    return int(getattr(settings, "CRM_IMPORT_MAX_ROWS", 100_000))


def max_uncompressed_bytes() -> int:
    return int(getattr(settings, "CRM_IMPORT_MAX_UNCOMPRESSED_BYTES", 200 * MB))


def extension(name: str) -> str:
    return os.path.splitext(name or "")[1].lower()


def _too_many_rows(line: int) -> ImportFileError:
    return ImportFileError(messages.TOO_MANY_ROWS, line, limit=max_rows())


class CsvSource:
    """Rows of a stored CSV file; each ``rows()`` call streams the file again."""

    def __init__(self, stored_file: str, *, directory=None):
        self.stored_file = stored_file
        self.directory = directory
        self.encoding = self._detect_encoding()
        self.delimiter, self.data_rows = self._scan()

    def _raw(self) -> io.BufferedReader:
        return io.BufferedReader(
            open_decrypted(self.stored_file, directory=self.directory), READ_BUFFER
        )

    def _text(self, encoding: str) -> io.TextIOWrapper:
        return io.TextIOWrapper(self._raw(), encoding=encoding, errors="strict", newline="")

    def _detect_encoding(self) -> str:
        """One encoding for every line: the BOM's, else UTF-8 or GB18030 by the first line
        that is not plain ASCII; a later line that needs the other one refuses the file."""
        with self._raw() as raw:
            head = raw.peek(4)[:4]
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return self._check_whole("utf-16")
            decided = "utf-8" if head.startswith(codecs.BOM_UTF8) else None
            for number, line in enumerate(raw, start=1):
                if line.isascii():
                    continue
                try:
                    line.decode("utf-8")
                    kind = "utf-8"
                except UnicodeDecodeError:
                    try:
                        line.decode("gb18030")
                        kind = "gb18030"
                    except UnicodeDecodeError:
                        raise ImportFileError(messages.NOT_TEXT, number) from None
                if decided is None:
                    decided = kind
                elif kind != decided:
                    label = "UTF-8" if decided == "utf-8" else "GB18030"
                    raise ImportFileError(messages.MIXED_ENCODINGS, number, encoding=label)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        return decided or "utf-8"

    def _check_whole(self, encoding: str) -> str:
        try:
            with self._text(encoding) as text:
                while text.read(READ_BUFFER):
                    pass
        except UnicodeError:
            raise ImportFileError(messages.NOT_TEXT) from None
        return encoding

    def _scan(self) -> tuple[str, int]:
        """The delimiter, and the number of data rows (stops past the row cap)."""
        limit = max_rows()
        with self._text(self.encoding) as text:
            first = text.readline()
            delimiter = max(",\t;", key=first.count) if first.strip() else ","
            reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
            count = 0
            try:
                for line, cells in enumerate(reader, start=1):
                    if not is_blank(cells):
                        count += 1
                        if count - 1 > limit:
                            raise _too_many_rows(line)
            except csv.Error:
                pass  # the pass that checks rows reports the line
        return delimiter, max(count - 1, 0)

    def rows(self) -> Iterator[tuple[int, list]]:
        with self._text(self.encoding) as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            line = 0
            try:
                for line, cells in enumerate(reader, start=1):  # noqa: B007 (used below)
                    yield line, cells
            except csv.Error as exc:
                raise ImportFileError(messages.BAD_CSV, line + 1) from exc

    def close(self) -> None:
        pass


class _Budget:
    """Bytes of XML a workbook may still unpack."""

    def __init__(self, limit: int):
        self.limit = limit
        self.left = limit

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise ImportFileError(messages.TOO_BIG_UNCOMPRESSED, 0, limit=self.limit // MB)


class _CountingStream:
    """A member of the archive, read through the budget."""

    def __init__(self, stream, budget: _Budget):
        self._stream = stream
        self._budget = budget

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._budget.spend(len(data))
        return data

    def close(self) -> None:
        self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class _CountingArchive:
    """The workbook's archive as openpyxl sees it, every member opened through the budget."""

    def __init__(self, archive: zipfile.ZipFile, budget: _Budget):
        self._archive = archive
        self._budget = budget

    def open(self, name, *args, **kwargs):
        return _CountingStream(self._archive.open(name, *args, **kwargs), self._budget)

    def __getattr__(self, name):
        return getattr(self._archive, name)


class XlsxSource:
    """Rows of the first sheet of a stored workbook (read-only mode).

    openpyxl needs a seekable file: the workbook is decrypted into memory, or into an unnamed
    temporary file (gone when closed) when it is very large; never into a named file in clear.
    """

    encoding = ""

    def __init__(self, stored_file: str, *, directory=None):
        self._file = tempfile.SpooledTemporaryFile(max_size=XLSX_IN_MEMORY)  # noqa: SIM115
        try:
            with open_decrypted(stored_file, directory=directory) as raw:
                shutil.copyfileobj(raw, self._file, READ_BUFFER)
            self._check_declared_size()
            self.data_rows = self._count_rows()
        except BaseException:
            self._file.close()
            raise

    def _check_declared_size(self) -> None:
        """Refuse, before unpacking anything, an archive that says it unpacks too large.

        ``zipfile`` never inflates a member past its declared size (the CRC check fails), so
        the declared sizes bound what reading can produce; the sheet is counted again anyway.
        """
        self._file.seek(0)
        try:
            with zipfile.ZipFile(self._file) as archive:
                declared = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ImportFileError(messages.BAD_XLSX) from exc
        limit = max_uncompressed_bytes()
        if declared > limit:
            raise ImportFileError(messages.TOO_BIG_UNCOMPRESSED, 0, limit=limit // MB)

    def _workbook(self):
        from openpyxl import load_workbook

        self._file.seek(0)
        try:
            workbook = load_workbook(self._file, read_only=True, data_only=True)
        except Exception as exc:  # zipfile, XML and openpyxl errors alike: not a workbook
            raise ImportFileError(messages.BAD_XLSX) from exc
        workbook._archive = _CountingArchive(workbook._archive, _Budget(max_uncompressed_bytes()))
        return workbook

    def _count_rows(self) -> int:
        """The data rows, counted without checking them; refuses the file past the row cap
        before a single row is checked (a sheet's declared dimension may lie).

        Counts the sheet's ``<row>`` elements holding a value, straight from its XML (five
        times faster than building openpyxl's cells), through the same byte budget.
        """
        from xml.etree.ElementTree import iterparse

        limit = max_rows()
        workbook = self._workbook()
        try:
            if not workbook.worksheets:
                return 0
            path = workbook.worksheets[0]._worksheet_path
            count = line = 0
            with workbook._archive.open(path) as source:
                try:
                    # The parser openpyxl uses too: expat (>= 2.4) refuses entity
                    # amplification, and ElementTree never fetches external entities.
                    for _event, element in iterparse(source):  # noqa: S314
                        if element.tag != _ROW_TAG:
                            continue
                        line = int(element.get("r") or line + 1)
                        if any(
                            (value.text or "").strip()
                            for value in element.iter()
                            if value.tag in _VALUE_TAGS
                        ):
                            count += 1
                        element.clear()
                        if count - 1 > limit or line > 2 * limit + 1:
                            raise _too_many_rows(line)
                except ImportFileError:
                    raise
                except Exception as exc:  # XML or zip errors: a damaged sheet
                    raise ImportFileError(messages.BAD_XLSX) from exc
            return max(count - 1, 0)
        finally:
            workbook.close()

    def rows(self) -> Iterator[tuple[int, list]]:
        workbook = self._workbook()
        try:
            if not workbook.worksheets:
                return
            sheet = workbook.worksheets[0]
            width = min(sheet.max_column or XLSX_MAX_COLUMNS, XLSX_MAX_COLUMNS)
            # Read to the sheet's real end: openpyxl stops at the declared dimension, and a
            # workbook may declare fewer rows than it holds (rows silently left out).
            sheet.reset_dimensions()
            try:
                cells_by_row = sheet.iter_rows(values_only=True, max_col=width)
                for line, cells in enumerate(cells_by_row, start=1):
                    yield line, list(cells)
            except ImportFileError:
                raise
            except Exception as exc:  # a damaged sheet: XML or zip errors while streaming
                raise ImportFileError(messages.BAD_XLSX) from exc
        finally:
            workbook.close()

    def close(self) -> None:
        self._file.close()


def open_source(file_name: str, stored_file: str, *, directory=None) -> CsvSource | XlsxSource:
    if extension(file_name) in XLSX_EXTENSIONS:
        return XlsxSource(stored_file, directory=directory)
    return CsvSource(stored_file, directory=directory)


def records(source, columns: tuple[Column, ...]) -> Iterator[tuple[int, dict | Header]]:
    """The header (first non-blank row) as a ``Header``, then each non-blank row as a dict.

    Stops with ``TOO_MANY_ROWS`` past ``CRM_IMPORT_MAX_ROWS`` data rows, and past as many
    blank rows again (a sheet can declare a million empty rows in a few bytes).
    """
    limit = max_rows()
    header = None
    data_rows = 0
    rows = source.rows()
    try:
        for line, cells in rows:
            if line > 2 * limit + 1:
                raise _too_many_rows(line)
            if is_blank(cells):
                continue
            if header is None:
                header = read_header(columns, line, cells)
                yield line, header
                if header.fatal:
                    return
                continue
            data_rows += 1
            if data_rows > limit:
                raise _too_many_rows(line)
            yield (
                line,
                {
                    key: cell_text(cells[index]) if index < len(cells) else ""
                    for key, index in header.positions.items()
                },
            )
    finally:
        rows.close()
