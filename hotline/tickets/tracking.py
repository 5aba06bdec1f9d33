"""Tracking numbers: ``YYYYMMDD`` (the Asia/Shanghai day) + a 6-digit sequence of that day.

PostgreSQL: one SEQUENCE per day (``tracking_no_YYYYMMDD``), created by the day's first intake.
``nextval`` runs on the intake's own connection, never waits for another intake and is not rolled back:
a failed intake leaves a gap, never a duplicate. A new day's sequence starts after that day's
``daily_sequence`` row, if there is one (numbers taken before the sequences existed, or a bulk load).

SQLite has one writer: an upsert on the day's ``daily_sequence`` row, in the intake's own transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError

from hotline.core.clock import to_local
from hotline.core.errors import ValidationFailed
from hotline.extensions import db
from hotline.tickets.models import DailySequence

SEQUENCE_PREFIX = "tracking_no_"
SEQUENCE_LIKE = r"tracking\_no\_%"  # every day's sequence, for LIKE (a bare _ matches any character)
DAILY_LIMIT = 999_999
# Built once: every intake runs them, and building a statement costs more than running this one.
# to_regclass: NULL instead of an error (which would abort the intake's transaction) before the day's
# sequence exists; nextval(NULL) is NULL.
_NEXTVAL = select(func.nextval(func.to_regclass(bindparam("name"))))
# Right after creating it: this transaction's catalog cache still says "no such relation", but pg_class
# read with a fresh statement snapshot sees the new sequence.
_NEXTVAL_NEW = text(
    "SELECT nextval(oid) FROM pg_class WHERE relname = :name AND relkind = 'S' "
    "AND relnamespace = current_schema()::regnamespace"
)


def sequence_name(day: date) -> str:
    return f"{SEQUENCE_PREFIX}{day:%Y%m%d}"


def next_tracking_no(now_utc: datetime) -> str:
    """The next number of the day ``now_utc`` falls on (Asia/Shanghai), unique under concurrent intake."""
    day = to_local(now_utc).date()
    if db.session.get_bind().dialect.name == "postgresql":
        value = _next_from_sequence(day)
    else:
        value = _next_from_table(day)
    if value > DAILY_LIMIT:
        raise ValidationFailed(_l("The daily tracking-number range is exhausted."))
    return f"{day:%Y%m%d}{value:06d}"


def _next_from_sequence(day: date) -> int:
    name = sequence_name(day)
    value: int | None = db.session.execute(_NEXTVAL, {"name": name}).scalar()
    if value is None:
        _create_day_sequence(day)
        value = db.session.execute(_NEXTVAL_NEW, {"name": name}).scalar_one()
    return value


def _create_day_sequence(day: date) -> None:
    """Create the day's sequence (PostgreSQL), continuing its ``daily_sequence`` row; a no-op if it exists.

    Autocommit on a connection of its own, so that every intake sees it at once. Two processes may race
    to create it: the loser's duplicate error means it exists.
    """
    name = sequence_name(day)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        floor = conn.execute(select(DailySequence.last_value).where(DailySequence.day == day)).scalar() or 0
        try:
            conn.execute(text(f'CREATE SEQUENCE IF NOT EXISTS "{name}" START WITH {int(floor) + 1}'))
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in ("23505", "42P07"):  # unique_violation, duplicate_table
                raise


def _next_from_table(day: date) -> int:
    first = sqlite.insert(DailySequence).values(day=day, last_value=1)
    upsert = first.on_conflict_do_update(
        index_elements=[DailySequence.day], set_={"last_value": DailySequence.last_value + 1}
    ).returning(DailySequence.last_value)
    return db.session.execute(upsert).scalar_one()
