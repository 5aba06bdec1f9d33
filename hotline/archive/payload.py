"""An archived ticket's payload: its rows as JSON and back, for the archive (``services``) and its page
(``queries``)."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, LargeBinary, Table

PAYLOAD_FORMAT = 1


def encode_row(table: Table, row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        value = row[column.name]
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, bytes | memoryview):
            value = base64.b64encode(bytes(value)).decode("ascii")
        out[column.name] = value
    return out


def decode_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the table is now: columns dropped since are left out, new ones take their defaults."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        column = table.c.get(name)
        if column is None:
            continue
        if value is not None:
            if isinstance(column.type, DateTime):
                value = datetime.fromisoformat(value)
            elif isinstance(column.type, Date):
                value = date.fromisoformat(value)
            elif isinstance(column.type, LargeBinary):
                value = base64.b64decode(value)
        out[name] = value
    return out
