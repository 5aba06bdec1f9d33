"""Archive tickets closed long ago, and restore them (``flask archive``; retention rule in docs/operations.md).

A ticket is archived with everything it owns (``OWNED``: its assignments, history, answers, clocks, 督办 and
extension records, notifications, the partner's submission row), as one JSON payload in ``archived_ticket``,
and those rows leave the working tables in the same transaction. Records of their own that point at a ticket
either keep it in the working tables (``KEEPS_HOT``: a case, an objection, an evaluation, an opinion case, a
project tag, an interview question are read with their ticket) or lose only the link, which the payload keeps
and a restore makes again (``DETACHED``: calls and inbound SMS stay in the telephony figures). The search row
is derived and is rebuilt on restore. A merge moves as one group: a master with every ticket merged into it.

The dashboard's daily rollups already hold the archived tickets' facts; recounting a day before the archive's
horizon would lose them, so ``dashboard.services.rebuild`` refuses it (``queries.archived_until``)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from hotline.accounts.models import User
from hotline.archive.models import ArchivedTicket
from hotline.archive.payload import PAYLOAD_FORMAT, decode_row, encode_row
from hotline.core.audit import record_audit
from hotline.core.clock import utcnow
from hotline.core.errors import Conflict, DomainError, NotFound
from hotline.extensions import db
from hotline.search.services import index_ticket
from hotline.tickets import counts
from hotline.tickets.models import Ticket
from hotline.tickets.workflow import FINAL_STATUSES

# The ticket's own tables, parents first (the restore's order; the archive deletes in reverse).
OWNED: tuple[str, ...] = (
    "ticket",
    "assignment",
    "reply",
    "attachment",
    "ticket_event",
    "sla_clock",
    "supervision_order",
    "urging",
    "extension_request",
    "suspension_request",
    "notification",
    "api_submission",
)
# Records of their own: the link to the ticket is cut on archiving and made again on restore.
DETACHED: dict[str, str] = {"phone_call": "ticket_id", "sms_inbound": "ticket_id"}
# Derived from the ticket: dropped, and rebuilt on restore.
DERIVED: tuple[str, ...] = ("ticket_search",)
# (table, column, owned table): a row there pointing at one of the ticket's rows keeps the ticket in the
# working tables, where the record that cites it reads it.
KEEPS_HOT: tuple[tuple[str, str, str], ...] = (
    ("accountability_case", "ticket_id", "ticket"),
    ("accountability_case", "supervision_order_id", "supervision_order"),
    ("assessment_objection", "ticket_id", "ticket"),
    ("eval_response", "ticket_id", "ticket"),
    ("interview_question", "ticket_id", "ticket"),
    ("opinion_case_ticket", "ticket_id", "ticket"),
    ("livelihood_project_ticket", "ticket_id", "ticket"),
)


def _table(name: str) -> Table:
    return db.metadata.tables[name]


def _ticket_key(table: Table) -> Column[Any]:
    return table.c.id if table.name == "ticket" else table.c.ticket_id


# --- what may go -----------------------------------------------------------------------------------------------


def _kept_hot(ticket_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """True where a record of its own cites the ticket (or one of its rows)."""
    checks: list[ColumnElement[bool]] = []
    for name, column, owned in KEEPS_HOT:
        citing = _table(name)
        if owned == "ticket":
            checks.append(exists().where(citing.c[column] == ticket_id))
        else:
            row = _table(owned)
            checks.append(
                exists().select_from(citing.join(row, citing.c[column] == row.c.id)).where(row.c.ticket_id == ticket_id)
            )
    return or_(*checks)


def _may_go(ticket: Any, cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        ticket.status.in_([s.value for s in FINAL_STATUSES]),
        ticket.closed_at < cutoff,
        not_(_kept_hot(ticket.id)),
    )


def _roots(cutoff: datetime) -> Select[tuple[int]]:
    """The masters (or unmerged tickets) that may go, each with every ticket merged into it."""
    child, grandchild = aliased(Ticket), aliased(Ticket)
    child_stays = (
        select(child.id)
        .where(
            child.merged_into_id == Ticket.id,
            or_(
                child.closed_at.is_(None),
                not_(_may_go(child, cutoff)),
                exists().where(grandchild.merged_into_id == child.id),  # a merge of a merge: left as it is
            ),
        )
        .exists()
    )
    return select(Ticket.id).where(Ticket.merged_into_id.is_(None), _may_go(Ticket, cutoff), not_(child_stays))


def would_archive(cutoff: datetime) -> int:
    """How many tickets ``archive_closed(cutoff)`` would move (the dry run)."""
    roots = _roots(cutoff).subquery()
    masters = db.session.execute(select(func.count()).select_from(roots)).scalar_one()
    merged = db.session.execute(
        select(func.count()).select_from(Ticket).where(Ticket.merged_into_id.in_(select(roots.c.id)))
    ).scalar_one()
    return int(masters + merged)


# --- archiving ------------------------------------------------------------------------------------------------


@dataclass
class ArchiveRun:
    archived: int = 0
    batches: int = 0
    kept: int = 0  # closed before the cutoff but kept in the working tables (cited, or merged with such)
    tracking_nos: list[str] = field(default_factory=list)  # the first few, for the operator's log


def _archive_group(ids: Sequence[int]) -> list[str]:
    payloads: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"format": PAYLOAD_FORMAT, "tables": defaultdict(list), "links": {}}
    )
    tickets: dict[int, Any] = {}
    for name in OWNED:
        table = _table(name)
        key = _ticket_key(table)
        for row in db.session.execute(select(table).where(key.in_(ids)).order_by(*table.primary_key.columns)):
            mapping = row._mapping
            if name == "ticket":
                tickets[mapping["id"]] = mapping
            payloads[mapping[key.name]]["tables"][name].append(encode_row(table, mapping))
    for name, column in DETACHED.items():
        table = _table(name)
        for row_id, ticket_id in db.session.execute(
            select(table.c.id, table.c[column]).where(table.c[column].in_(ids))
        ):
            payloads[ticket_id]["links"].setdefault(name, []).append(row_id)
    db.session.execute(
        insert(ArchivedTicket),
        [
            dict(
                ticket_id=tid,
                tracking_no=t["tracking_no"],
                status=t["status"],
                citizen_phone=t["citizen_phone"],
                citizen_user_id=t["citizen_user_id"],
                merged_into_id=t["merged_into_id"],
                created_at=t["created_at"],
                closed_at=t["closed_at"],
                last_changed_at=max(d for d in (t["updated_at"], t["closed_at"], t["rated_at"]) if d is not None),
                archived_at=utcnow(),
                payload=json.dumps(payloads[tid], ensure_ascii=False, separators=(",", ":")),
            )
            for tid, t in tickets.items()
        ],
    )
    counts.tickets_leaving(ids)
    for name, column in DETACHED.items():
        table = _table(name)
        db.session.execute(update(table).where(table.c[column].in_(ids)).values({column: None}))
    for name in DERIVED:
        table = _table(name)
        db.session.execute(delete(table).where(table.c.ticket_id.in_(ids)))
    for name in reversed(OWNED):  # one statement per table: a master and its merged tickets go together
        table = _table(name)
        db.session.execute(delete(table).where(_ticket_key(table).in_(ids)))
    return [t["tracking_no"] for t in tickets.values()]


def archive_closed(
    cutoff: datetime,
    *,
    batch: int = 500,
    limit: int | None = None,
    commit: Callable[[], None] | None = None,
    progress: Callable[[int], object] | None = None,
) -> ArchiveRun:
    """Archive the final tickets closed before ``cutoff`` (naive UTC), ``batch`` masters per transaction
    (``commit`` after each: an interrupted run keeps what it did and the next run goes on), oldest ids
    first; ``limit``: stop after about that many (a run that fits a maintenance window)."""
    if cutoff > utcnow():
        raise DomainError(_l("The cutoff lies in the future."), field="years")
    run, after = ArchiveRun(), 0
    query = _roots(cutoff).order_by(Ticket.id).limit(batch if limit is None else min(batch, limit))
    while roots := list(db.session.execute(query.where(Ticket.id > after)).scalars()):
        children = db.session.execute(select(Ticket.id).where(Ticket.merged_into_id.in_(roots))).scalars()
        numbers = _archive_group([*roots, *children])
        run.archived += len(numbers)
        run.batches += 1
        run.tracking_nos.extend(numbers[: max(0, 5 - len(run.tracking_nos))])
        after = roots[-1]
        if commit:
            commit()
        if progress:
            progress(run.archived)
        if limit is not None and run.archived >= limit:
            break
    run.kept = db.session.execute(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.status.in_([s.value for s in FINAL_STATUSES]), Ticket.closed_at < cutoff)
    ).scalar_one()
    return run


# --- restoring ------------------------------------------------------------------------------------------------


def _group_of(rows: Iterable[ArchivedTicket]) -> list[ArchivedTicket]:
    """The archived rows that must come back together with ``rows``: each one's master and its merged tickets."""
    masters = {row.merged_into_id or row.ticket_id for row in rows}
    return list(
        db.session.execute(
            select(ArchivedTicket)
            .where(or_(ArchivedTicket.ticket_id.in_(masters), ArchivedTicket.merged_into_id.in_(masters)))
            .order_by(ArchivedTicket.ticket_id)
        ).scalars()
    )


def _insert_rows(table: Table, rows: list[dict[str, Any]]) -> None:
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_shape[tuple(sorted(row))].append(row)
    for shaped in by_shape.values():  # rows stored under an older schema may lack a newer column
        db.session.execute(insert(table), shaped)


def _restore_group(group: Sequence[ArchivedTicket]) -> None:
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    links: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for archived in group:
        payload = json.loads(archived.payload)
        for name, rows in payload["tables"].items():
            tables[name].extend(decode_row(_table(name), row) for row in rows)
        for name, row_ids in payload["links"].items():
            links[name].extend((row_id, archived.ticket_id) for row_id in row_ids)
    merges = {row["id"]: row.pop("merged_into_id", None) for row in tables["ticket"]}
    for name in OWNED:
        rows = sorted(tables.get(name, []), key=lambda r: r.get("id") or 0)  # a pass-down after its parent
        if rows:
            _insert_rows(_table(name), rows)
    ticket = _table("ticket")
    for ticket_id, master in merges.items():
        if master is not None:
            db.session.execute(update(ticket).where(ticket.c.id == ticket_id).values(merged_into_id=master))
    for name, pairs in links.items():
        table, column = _table(name), DETACHED[name]
        for row_id, ticket_id in pairs:  # a link someone made since is not taken away
            db.session.execute(
                update(table).where(table.c.id == row_id, table.c[column].is_(None)).values({column: ticket_id})
            )
    db.session.execute(delete(ArchivedTicket).where(ArchivedTicket.ticket_id.in_([a.ticket_id for a in group])))
    db.session.flush()
    counts.tickets_restored([a.ticket_id for a in group])
    for archived in group:
        restored = db.session.get(Ticket, archived.ticket_id)
        if restored is not None:
            index_ticket(restored)
    db.session.flush()


def restore(tracking_nos: Sequence[str], actor: User | str = "cli") -> list[str]:
    """Put the archived tickets back (each with its merge group); returns the tracking numbers restored.
    Audited as ``archive.restore`` by ``actor`` (an admin on the archive's page, "cli" for the command)."""
    rows = list(
        db.session.execute(select(ArchivedTicket).where(ArchivedTicket.tracking_no.in_(tracking_nos))).scalars()
    )
    missing = sorted(set(tracking_nos) - {r.tracking_no for r in rows})
    if missing:
        raise NotFound(_l("Not in the archive: %(numbers)s.", numbers=", ".join(missing)), field="tracking_no")
    group = _group_of(rows)
    # SQLite (``make run``) reuses the id of a deleted newest row: a ticket filed after the archive took the
    # newest one may hold its id. Refused, and the file stays in the archive.
    held = select(Ticket.tracking_no).where(Ticket.id.in_([a.ticket_id for a in group])).order_by(Ticket.id)
    if taken := list(db.session.execute(held).scalars()):
        raise Conflict(
            _l("Cannot restore: its ticket id is now held by %(numbers)s.", numbers=", ".join(taken)),
            field="tracking_no",
        )
    _restore_group(group)
    restored = [a.tracking_no for a in group]
    record_audit(actor, "archive.restore", ", ".join(tracking_nos), {"restored": restored})
    return restored


def restore_closed_after(
    since: datetime, *, batch: int = 200, commit: Callable[[], None] | None = None, actor: User | str = "cli"
) -> int:
    """Restore every ticket archived that was closed on or after ``since`` (undoing a run with too short a
    period); ``commit`` after each batch, each batch audited as ``archive.restore``."""
    restored = 0
    while True:
        rows = list(
            db.session.execute(
                select(ArchivedTicket)
                .where(ArchivedTicket.closed_at >= since)
                .order_by(ArchivedTicket.ticket_id)
                .limit(batch)
            ).scalars()
        )
        if not rows:
            return restored
        group = _group_of(rows)
        _restore_group(group)
        restored += len(group)
        record_audit(actor, "archive.restore", f"closed after {since:%Y-%m-%d %H:%M}", {"restored": len(group)})
        if commit:
            commit()
