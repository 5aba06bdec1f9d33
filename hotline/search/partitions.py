"""The PostgreSQL search index in partitions of ticket ids, so a search's cost follows the years it reads.

A GIN index answers a word with its whole posting list: with one index over ten years, every slice of the
newest matches (``services._pg_window``) paid for ten years of the word. ``ticket_search`` is partitioned by
ranges of ``ticket_id`` (ids grow with time), each partition with its own GIN and BRIN index; a slice of
the newest ids is pruned to the newest partitions. Ranges are ``SEARCH_PARTITION_TICKETS`` ids wide and made
ahead of the ids (``ensure_partitions``: the migration, ``flask search partitions``, a daily beat task, every
rebuild). A ticket beyond the last range lands in the DEFAULT partition, so an insert never fails; the next
``ensure_partitions`` moves such rows into the range it makes for them. SQLite has FTS5 and no partitions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select, text

from hotline.extensions import db
from hotline.tickets.models import Ticket

PARENT = "ticket_search"
DEFAULT = "ticket_search_default"
# Partitions are named by their first id: ticket_search_0, ticket_search_1000000, …
_BOUND = re.compile(r"FROM \((\d+)\) TO \((\d+)\)")
# One ensure at a time across hosts (two beats, a CLI run beside the beat): a PostgreSQL advisory lock.
_LOCK_KEY = 0x5EA4C4  # "search" partitions


@dataclass
class Partition:
    name: str
    lower: int | None  # None: the DEFAULT partition
    upper: int | None
    rows: int  # the planner's estimate (pg_class.reltuples), exact for the DEFAULT partition


def is_partitioned() -> bool:
    if db.session.get_bind().dialect.name != "postgresql":
        return False
    kind = db.session.execute(text("SELECT relkind FROM pg_class WHERE oid = 'ticket_search'::regclass")).scalar()
    return kind == "p"


def partitions() -> list[Partition]:
    """Every partition of the search index, oldest range first, the DEFAULT one last."""
    rows = db.session.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), greatest(c.reltuples, 0)::bigint "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'ticket_search'::regclass"
        )
    ).all()
    found: list[Partition] = []
    for name, bound, estimate in rows:
        match = _BOUND.search(bound or "")
        if match:
            found.append(Partition(name, int(match.group(1)), int(match.group(2)), int(estimate)))
        else:
            exact = db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            found.append(Partition(name, None, None, exact))
    return sorted(found, key=lambda p: (p.lower is None, p.lower or 0))


def ensure_partitions(width: int | None = None, ahead: int = 1, newest: int | None = None) -> list[str]:
    """Make ranges up to ``ahead`` partitions past the newest ticket id (``newest``, else the ticket table's),
    moving any row that fell into the DEFAULT partition into its range. Returns the partitions made; the
    caller commits (all of it or nothing: the moved rows are back in their range in the same transaction)."""
    if not is_partitioned():
        return []
    width = width or current_app.config["SEARCH_PARTITION_TICKETS"]
    if width < 1:
        raise ValueError("SEARCH_PARTITION_TICKETS must be at least 1")
    db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    existing = [p for p in partitions() if p.lower is not None]
    top = max((p.upper or 0 for p in existing), default=0)
    newest = newest if newest is not None else db.session.execute(select(func.max(Ticket.id))).scalar() or 0
    strays = db.session.execute(text(f"SELECT max(ticket_id) FROM {DEFAULT}")).scalar() or 0
    target = max(newest, strays) + width * ahead
    made: list[str] = []
    while top <= target:
        lower, upper = top, top + width
        _make(lower, upper)
        made.append(f"{PARENT}_{lower}")
        top = upper
    return made


def _make(lower: int, upper: int) -> None:
    """One new range; rows of that range already in the DEFAULT partition move into it."""
    name = f"{PARENT}_{lower}"
    bounds = {"lo": lower, "hi": upper}
    session = db.session
    strays = session.execute(
        text(f"SELECT count(*) FROM {DEFAULT} WHERE ticket_id >= :lo AND ticket_id < :hi"), bounds
    ).scalar_one()
    if strays:
        # PostgreSQL refuses a range whose rows sit in the DEFAULT partition: take them out first.
        session.execute(
            text(
                "CREATE TEMP TABLE search_strays ON COMMIT DROP AS "
                "SELECT ticket_id, document, updated_at FROM ticket_search_default WITH NO DATA"
            )
        )
        session.execute(
            text(
                f"WITH moved AS (DELETE FROM {DEFAULT} WHERE ticket_id >= :lo AND ticket_id < :hi "
                "RETURNING ticket_id, document, updated_at) INSERT INTO search_strays SELECT * FROM moved"
            ),
            bounds,
        )
    session.execute(text(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES FROM ({lower}) TO ({upper})"))
    if strays:
        session.execute(
            text(
                "INSERT INTO ticket_search (ticket_id, document, updated_at) "
                "SELECT ticket_id, document, updated_at FROM search_strays"
            )
        )
        session.execute(text("DROP TABLE search_strays"))


def partition_of(ticket_id: int, ranges: list[Partition]) -> str:
    """The partition a ticket's row belongs in (for COPY straight into it); DEFAULT past the ranges."""
    for p in ranges:
        if p.lower is not None and p.upper is not None and p.lower <= ticket_id < p.upper:
            return p.name
    return DEFAULT
