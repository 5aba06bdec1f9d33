"""Every CSV and XLSX file the app writes (exports, bulk-import templates), written so that no text a citizen
or a member of staff typed becomes a formula when the file is opened (issue 28.3, OWASP "CSV injection").

- XLSX: every text is a string cell, whatever it starts with; openpyxl would otherwise store a text starting
  with ``=`` as a live formula (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``).
- CSV has no cell types: a text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading apostrophe, which spreadsheet programs show as text and do not evaluate. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}  # the response adds "; charset=utf-8" once
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold at all; openpyxl refuses to write a cell holding one.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def csv_safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence, rows: Sequence[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_safe(v) for v in header])
    writer.writerows([csv_safe(v) for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def to_xlsx(title: str, header: Sequence, rows: Sequence[Sequence]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = re.sub(r"[\\/*?:\[\]]", " ", title)[:31] or "Sheet"  # Excel forbids these in sheet names
    for r, row in enumerate([header, *rows], start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, str):
                cell.value = _XML_ILLEGAL.sub("", value)
                cell.data_type = TYPE_STRING  # set after the value: openpyxl guesses "f" for "=…"
            else:
                cell.value = value
            if r == 1:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render(file_format: str, title: str, header: Sequence, rows: Sequence[Sequence]) -> bytes:
    return to_csv(header, rows) if file_format == "csv" else to_xlsx(title, header, rows)
