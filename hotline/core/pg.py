"""psycopg cursors whose ``description`` is built only when something reads it.

psycopg builds ``cursor.description`` (a ``Column`` object per column, with a type lookup each) whenever the
property is read, and SQLAlchemy reads it after every statement only to see that it is not None: the
metadata of a cached statement is reused. A ticket page's statements return ~200 columns, and building
them was a fifth of loading the ticket. Here ``description`` is a sequence that makes the columns on first
use, from the result it was taken from.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import psycopg
from psycopg import Column
from psycopg.pq import ExecStatus

_TUPLES = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class LazyDescription(Sequence):
    __slots__ = ("_source", "_count", "_columns")

    def __init__(self, cursor: psycopg.Cursor, result):
        # What Column reads from a cursor, fixed now: the cursor may have run another statement by then.
        self._source = SimpleNamespace(pgresult=result, _encoding=cursor._encoding, adapters=cursor.adapters)
        self._count = result.nfields
        self._columns: list[Column] | None = None

    def _built(self) -> list[Column]:
        if self._columns is None:
            # Column reads only these three attributes of its cursor
            self._columns = [Column(self._source, i) for i in range(self._count)]  # type: ignore[arg-type]
        return self._columns

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        return self._built()[index]

    def __iter__(self):
        return iter(self._built())

    def __repr__(self) -> str:
        return repr(self._built())


class Cursor(psycopg.Cursor):
    @property
    def description(self) -> LazyDescription | None:  # type: ignore[override]  # the same Columns, made lazily
        result = self.pgresult  # the conditions of psycopg's own property
        if result and (result.nfields or result.status in _TUPLES):
            return LazyDescription(self, result)
        return None


def use_lazy_cursors(connection: psycopg.Connection) -> None:
    connection.cursor_factory = Cursor
