"""Bulk writes for the sweep: one statement per table and batch.

On PostgreSQL a batch of rows goes as one JSON document through ``json_to_recordset`` (one statement,
one parameter, one round trip, whatever the number of rows); elsewhere (SQLite: development and tests) as an executemany.
Columns with the same value in every row (``constants``) travel once, as typed parameters, not in
every row of the document. Both write the same rows; the caller's transaction holds them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, any_, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute

from hotline.core.models import rows_matched
from hotline.extensions import db

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialect constructors are unannotated
_T = TypeVar("_T")


@cache
def _pg_type(table: Table, column: str) -> str:
    return table.c[column].type.compile(dialect=_PG)


def _json_default(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} in bulk")


def _recordset(
    table: Table, columns: list[str], rows: list[dict[str, Any]], keys: list[str] | None = None, alias: str = "v"
) -> tuple[str, dict[str, Any]]:
    """``json_to_recordset(:rows) AS v(key type, …)``: the rows as one JSON parameter, typed by the
    table's columns (the cheapest way to hand PostgreSQL thousands of rows in one statement)."""
    keys = keys or columns
    spec = ", ".join(f'"{key}" {_pg_type(table, column)}' for column, key in zip(columns, keys))
    if rows[0].keys() != set(keys):  # send only the keys the statement reads
        rows = [{key: row[key] for key in keys} for row in rows]
    payload = json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return f"json_to_recordset(CAST(:rows AS json)) AS {alias}({spec})", {"rows": payload}


def _constant(table: Table, column: str) -> str:
    """A typed parameter: an untyped NULL in ``INSERT … SELECT`` would be taken for text."""
    return f"CAST(:c_{column} AS {_pg_type(table, column)})"


def insert_rows(
    table: Table,
    rows: list[dict[str, Any]],
    *,
    constants: dict[str, Any] | None = None,
    returning_ids: bool = False,
    returning: str | None = None,
    skip_conflicts: tuple[tuple[str, ...], str] | None = None,
) -> list[Any]:
    """INSERT every row (all with the same keys) with ``constants`` (column → the value of every row);
    the new ids (or the ``returning`` column) of the rows written when asked.

    ``skip_conflicts`` — (the columns of a partial unique index, its WHERE) — leaves out the rows that
    index refuses (``ON CONFLICT … DO NOTHING``) instead of failing the statement: only the rows
    written are returned."""
    if not rows:
        return []
    constants = constants or {}
    returning = returning or ("id" if returning_ids else None)
    columns = list(rows[0])
    if db.session.get_bind().dialect.name == "postgresql":
        source, params = _recordset(table, columns, rows)
        params.update({f"c_{column}": value for column, value in constants.items()})
        names = ", ".join(f'"{c}"' for c in [*columns, *constants])
        values = ", ".join([*(f'v."{c}"' for c in columns), *(_constant(table, c) for c in constants)])
        sql = f'INSERT INTO "{table.name}" ({names}) SELECT {values} FROM {source}'
        if skip_conflicts:
            index_columns, where = skip_conflicts
            target = ", ".join(f'"{c}"' for c in index_columns)
            sql += f" ON CONFLICT ({target}) WHERE {where} DO NOTHING"
        if returning:
            return list(db.session.execute(text(sql + f' RETURNING "{returning}"'), params).scalars())
        db.session.execute(text(sql), params)
        return []
    if constants:
        rows = [{**row, **constants} for row in rows]
    stmt = table.insert()
    if skip_conflicts:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        index_columns, where = skip_conflicts
        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=list(index_columns), index_where=text(where))
    if returning:
        return list(db.session.execute(stmt.returning(table.c[returning]), rows).scalars())
    db.session.execute(stmt, rows)
    return []


def update_rows(
    table: Table,
    rows: list[dict[str, Any]],
    *,
    where: dict[str, str],
    values: dict[str, str],
    constants: dict[str, Any] | None = None,
) -> int:
    """UPDATE one row per dict: ``where`` and ``values`` map column → the dict's key, ``constants`` column →
    the value set in every row. Returns the number of rows the WHERE matched (an optimistic check
    compares it with ``len(rows)``)."""
    if not rows:
        return 0
    constants = constants or {}
    if db.session.get_bind().dialect.name == "postgresql":
        source, params = _recordset(table, [*where, *values], rows, [*where.values(), *values.values()])
        params.update({f"c_{column}": value for column, value in constants.items()})
        sets = ", ".join(
            [*(f'"{c}" = v."{k}"' for c, k in values.items()), *(f'"{c}" = {_constant(table, c)}' for c in constants)]
        )
        conds = " AND ".join(f't."{c}" = v."{k}"' for c, k in where.items())
        sql = f'UPDATE "{table.name}" AS t SET {sets} FROM {source} WHERE {conds}'
        return rows_matched(db.session.execute(text(sql), params))
    stmt = table.update()
    for column, key in where.items():
        stmt = stmt.where(table.c[column] == bindparam(f"w_{key}"))
    stmt = stmt.values({**{column: bindparam(f"s_{key}") for column, key in values.items()}, **constants})
    each_row = [
        {**{f"w_{k}": row[k] for k in where.values()}, **{f"s_{k}": row[k] for k in values.values()}} for row in rows
    ]
    matched = rows_matched(db.session.execute(stmt, each_row))
    return len(rows) if matched == -1 else matched


def among(column: ColumnElement[_T] | QueryableAttribute[_T], ids: Iterable[_T]) -> ColumnElement[bool]:
    """``column IN ids`` for a batch of ids: on PostgreSQL ``= ANY(:array)``, one parameter and a cached
    statement, instead of an IN list SQLAlchemy renders anew for every batch size."""
    values = list(ids)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", values, type_=ARRAY(column.type), unique=True))
    return column.in_(values)
