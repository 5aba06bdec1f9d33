"""Rebuilding the index for rows loaded without the ORM (``bench/generate.py``, imports).

Segmentation is the cost (about 0.25 ms a ticket), so it runs in worker processes; PostgreSQL gets the
rows by ``COPY`` straight into their partition, with the GIN and BRIN indexes dropped and rebuilt once at
the end.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import select, text

from hotline.extensions import db
from hotline.search import partitions
from hotline.search.schema import FTS_TABLE, PG_INDEX, PG_INDEXES, PG_RECENCY_INDEX
from hotline.search.segment import document_text
from hotline.tickets.models import Reply, Ticket

# (ticket id, title, body, address, released answers): what a ticket's search document is made of.
_Source = tuple[int, str, str, str | None, list[str]]


def _segment(rows: list[_Source]) -> list[tuple[int, str]]:
    return [
        (ticket_id, document_text(title, body, address, *answers)) for ticket_id, title, body, address, answers in rows
    ]


def _batches(batch: int) -> Iterator[list[_Source]]:
    last = 0
    while True:
        tickets = db.session.execute(
            select(Ticket.id, Ticket.title, Ticket.body, Ticket.address)
            .where(Ticket.id > last)
            .order_by(Ticket.id)
            .limit(batch)
        ).all()
        if not tickets:
            return
        ids = [t[0] for t in tickets]
        answers: dict[int, list[str]] = {}
        for ticket_id, body in db.session.execute(
            select(Reply.ticket_id, Reply.body).where(
                Reply.ticket_id.between(ids[0], ids[-1]), Reply.released_at.is_not(None)
            )
        ):
            answers.setdefault(ticket_id, []).append(body)
        yield [(t[0], t[1], t[2], t[3], answers.get(t[0], [])) for t in tickets]
        last = ids[-1]


def rebuild(batch: int = 2000, workers: int | None = None, progress: Callable[[int], object] | None = None) -> int:
    session = db.session
    dialect = session.get_bind().dialect.name
    ranges: list[partitions.Partition] = []
    if dialect == "postgresql":
        # TRUNCATE, not DELETE: no million dead rows for every search to step over until a VACUUM, and
        # COPY … FREEZE below may then write the rows frozen and all-visible (same transaction).
        session.execute(text("TRUNCATE ticket_search"))
        for index in (PG_INDEX, PG_RECENCY_INDEX):
            session.execute(text(f"DROP INDEX IF EXISTS {index}"))
        partitions.ensure_partitions()  # a range for every ticket loaded without the ORM
        ranges = partitions.partitions()
    else:
        session.execute(text("DELETE FROM ticket_search"))
    workers = workers or max(1, min(8, os.cpu_count() or 1))
    done = 0
    if workers == 1:
        for rows in _batches(batch):
            done += _store(_segment(rows), dialect, ranges)
            if progress:
                progress(done)
        return _finish(dialect, done)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending = []
        for rows in _batches(batch):
            pending.append(pool.submit(_segment, rows))
            if len(pending) >= workers * 2:
                done += _store(pending.pop(0).result(), dialect, ranges)
                if progress:
                    progress(done)
        for future in pending:
            done += _store(future.result(), dialect, ranges)
            if progress:
                progress(done)
    return _finish(dialect, done)


def _finish(dialect: str, done: int) -> int:
    session = db.session
    if dialect == "postgresql":
        for statement in PG_INDEXES:  # built once over the loaded rows
            session.execute(text(statement))
        session.execute(text("ANALYZE ticket_search"))
    else:
        session.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')"))
    return done


def _store(rows: list[tuple[int, str]], dialect: str, ranges: list[partitions.Partition] | None = None) -> int:
    if not rows:
        return 0
    if dialect == "postgresql":
        raw = db.session.connection().connection.driver_connection  # psycopg 3
        assert raw is not None, "a connection in use has its driver's connection"
        now = _now()
        # COPY … FREEZE is refused on a partitioned table, not on a partition truncated in this transaction.
        buffers: dict[str, io.StringIO] = {}
        for ticket_id, document in rows:
            buffer = buffers.setdefault(partitions.partition_of(ticket_id, ranges or []), io.StringIO())
            buffer.write(f"{ticket_id}\t{_copy_escape(document)}\t{now}\n")
        with raw.cursor() as cur:
            for table, buffer in buffers.items():
                with cur.copy(f"COPY {table} (ticket_id, document, updated_at) FROM STDIN WITH (FREEZE)") as copy:
                    copy.write(buffer.getvalue())
    else:
        db.session.execute(
            text("INSERT INTO ticket_search (ticket_id, document, updated_at) VALUES (:i, :d, CURRENT_TIMESTAMP)"),
            [{"i": i, "d": d} for i, d in rows],
        )
    return len(rows)


def _now() -> str:
    from hotline.core.clock import utcnow

    return utcnow().strftime("%Y-%m-%d %H:%M:%S")


def _copy_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ").replace("\r", " ")
