"""Model helpers shared by the domain packages; ``table_of`` and ``rows_matched`` type Core statements."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, String, Table
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hotline.core.clock import utcnow


def enum_column(enum_cls: type[enum.Enum], **kwargs) -> Mapped:
    """A string column holding an enum's values; the CHECK is declared by ``enum_check``."""
    length = max(len(m.value) for m in enum_cls)
    return mapped_column(String(max(length, 16)), **kwargs)


def enum_check(column: str, enum_cls: type[enum.Enum], name: str | None = None) -> CheckConstraint:
    values = ", ".join(f"'{m.value}'" for m in enum_cls)
    return CheckConstraint(f"{column} IN ({values})", name=name or f"{column}_valid")


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime, default=utcnow, nullable=False)


def table_of(model: type[DeclarativeBase]) -> Table:
    """A mapped class's ``Table``, for Core statements (SQLAlchemy types ``__table__`` as any ``FromClause``)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


def rows_matched(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (-1 when the driver cannot tell): ``Session.execute`` types every
    result as a plain ``Result``, the cursor's is the one such a statement gives."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count on a {type(result).__name__}")
    return result.rowcount
