"""Bulk writes for the sweep: one statement per table and batch.

On PostgreSQL a batch of rows goes as one array per column through ``unnest`` (one statement, one
round trip, whatever the number of rows); elsewhere (SQLite: development and tests) as an executemany.
Both write the same rows; the caller's transaction holds them.
"""
from __future__ import annotations

import json

from sqlalchemy import JSON, Table, bindparam, text

from hotline.extensions import db


def _pg_array_type(column) -> str:
    return f"{column.type.compile(dialect=db.engine.dialect)}[]"


def _pg_values(column, values: list) -> list:
    if isinstance(column.type, JSON):  # sent as text, cast to json[] by the statement
        return [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
    return values


def _unnest(table: Table, columns: list[str], rows: list[dict], keys: list[str] | None = None) -> tuple[str, dict]:
    """``unnest(CAST(:p0 AS type[]), …)`` over the rows' values, with its parameters."""
    keys = keys or columns
    parts, params = [], {}
    for i, (name, key) in enumerate(zip(columns, keys)):
        column = table.c[name]
        params[f"p{i}"] = _pg_values(column, [row[key] for row in rows])
        parts.append(f"CAST(:p{i} AS {_pg_array_type(column)})")
    return f"unnest({', '.join(parts)})", params


def insert_rows(table: Table, rows: list[dict], *, returning_ids: bool = False) -> list[int]:
    """INSERT every row (all with the same keys); the new ids when asked."""
    if not rows:
        return []
    columns = list(rows[0])
    if db.session.get_bind().dialect.name == "postgresql":
        source, params = _unnest(table, columns, rows)
        names = ", ".join(f'"{c}"' for c in columns)
        sql = f'INSERT INTO "{table.name}" ({names}) SELECT * FROM {source}'
        if returning_ids:
            return list(db.session.execute(text(sql + " RETURNING id"), params).scalars())
        db.session.execute(text(sql), params)
        return []
    if returning_ids:
        return list(db.session.execute(table.insert().returning(table.c.id), rows).scalars())
    db.session.execute(table.insert(), rows)
    return []


def update_rows(table: Table, rows: list[dict], *, where: dict[str, str], values: dict[str, str]) -> int:
    """UPDATE one row per dict: ``where`` and ``values`` map column → the dict's key. Returns the number of
    rows the WHERE matched (an optimistic check compares it with ``len(rows)``)."""
    if not rows:
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        columns = [*where, *values]
        keys = [*where.values(), *values.values()]
        aliases = [f"v{i}" for i in range(len(columns))]
        source, params = _unnest(table, columns, rows, keys)
        sets = ", ".join(f'"{c}" = v.{aliases[len(where) + i]}' for i, c in enumerate(values))
        conds = " AND ".join(f't."{c}" = v.{aliases[i]}' for i, c in enumerate(where))
        sql = (f'UPDATE "{table.name}" AS t SET {sets} FROM {source} AS v({", ".join(aliases)}) '
               f"WHERE {conds}")
        return db.session.execute(text(sql), params).rowcount
    stmt = table.update()
    for column, key in where.items():
        stmt = stmt.where(table.c[column] == bindparam(f"w_{key}"))
    stmt = stmt.values({column: bindparam(f"s_{key}") for column, key in values.items()})
    params = [{**{f"w_{k}": row[k] for k in where.values()}, **{f"s_{k}": row[k] for k in values.values()}}
              for row in rows]
    result = db.session.execute(stmt, params)
    return len(rows) if result.rowcount == -1 else result.rowcount
