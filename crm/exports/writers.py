"""Writing an export: CSV (UTF-8 with a BOM, for Excel) or XLSX, with formula neutralised.

A CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would run
as a formula when the file is opened in a spreadsheet (CSV injection); it gets a leading
apostrophe. An XLSX cell is typed as text (``t="s"``/inline string), which a spreadsheet
never evaluates, so it keeps its exact value.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_FLUSH = 200  # rows per produced piece of CSV


def neutralise(value) -> str:
    """The cell as text that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_chunks(header: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(value) for value in header])
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(value) for value in row])
        if count % CSV_FLUSH == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def xlsx_write(header: list[str], rows: Iterable[list], out, *, sheet_title: str) -> None:
    """Write a workbook to the binary stream ``out`` (need not be seekable).

    openpyxl in write-only mode buffers the sheet in a temporary file (mode 0600, see
    ``CRM_TEMP_DIR``) that it deletes once the workbook is saved.
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    sheet.append([_text_cell(sheet, value) for value in header])
    for row in rows:
        sheet.append([_text_cell(sheet, value) for value in row])
    workbook.save(out)


def _text_cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
    cell.data_type = "s"  # text, never a formula
    return cell


def xlsx_bytes(header: list[str], rows: Iterable[list], *, sheet_title: str) -> bytes:
    out = io.BytesIO()
    xlsx_write(header, rows, out, sheet_title=sheet_title)
    return out.getvalue()


@dataclass
class ExportResult:
    """An export ready to be sent or stored: its name and format, its rows, the counts.

    ``rows`` is consumed once (CSV is produced lazily while a response is sent).
    """

    filename: str
    fmt: str
    header: list[str]
    rows: Iterable[list]
    count: int
    left_out: int = 0
    masked: bool = True
    clear_count: int = 0
    sheet_title: str = "Export"
    extra: dict = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]

    @property
    def chunks(self) -> Iterable[bytes]:
        if self.fmt == "csv":
            return csv_chunks(self.header, self.rows)
        return [xlsx_bytes(self.header, self.rows, sheet_title=self.sheet_title)]
