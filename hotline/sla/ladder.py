"""The sweep: apply the escalation ladder to every ticket whose next step is due.

Each open ticket keeps ``next_deadline_at``, the time of its earliest pending step (partial index
``ix_ticket_next_deadline_open``), so a sweep reads only due tickets, in batches, with row locks
(``FOR NO KEY UPDATE SKIP LOCKED`` on PostgreSQL). A step is taken in the same transaction that moves the
ticket's ``SlaClock.stage`` up and bumps the ticket's version, so a rolled-back or killed sweep took
no step and a second sweep that read the same ticket fails its optimistic check and takes none:
every step happens exactly once. A lock (PostgreSQL advisory lock; a lease row on SQLite) keeps two
sweeps from running at the same time at all. A 督办单 the ladder issues records its stage and round (the
watched clock's kind and deadline); the database keeps one per ticket, stage and round
(``uq_supervision_order_ladder_round``) and the sweep skips a refused one, so a deadline watched again
(a reply sent back after it) never gets a second order.

The steps, by default (DESIGN.md): yellow card one working day (a quarter of an hour limit) before
the watched deadline; red card at it, with an automatic 督办单 to the unit; escalation one org level
up N working days later; the callback window closes as not reached; a suspension with a planned
end resumes; a supervision order or urging left unanswered past its response deadline is flagged.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, literal, select, true, union_all, update
from sqlalchemy.orm.exc import StaleDataError

from hotline.accounts.models import Role, User, UserRole
from hotline.core.clock import frozen_at, to_local, utcnow
from hotline.core.i18n import in_default_language
from hotline.core.models import rows_matched, table_of
from hotline.extensions import db
from hotline.notify.services import insert_notifications, notification_rows
from hotline.orgs.models import OrgUnit
from hotline.sla import bulk
from hotline.sla.deadlines import deadline_after, next_step_at
from hotline.sla.models import (
    ClockKind,
    LadderStage,
    SlaClock,
    SupervisionOrder,
    SupervisionSource,
    SweepLease,
    Urging,
    next_ladder_step,
)
from hotline.sla.policy import WD, setting
from hotline.tickets.models import EventActorKind, Ticket, TicketEvent, WarningLevel
from hotline.tickets.workflow import OPEN_STATUSES

log = logging.getLogger(__name__)
STEPS = ("yellow", "red", "supervision_order", "escalate", "callback", "resume", "supervision_overdue")
_ADVISORY_KEY = 0x12345  # pg_try_advisory_lock key of the sweep
LEASE_SECONDS = 300
_OPEN = frozenset(s.value for s in OPEN_STATUSES)


# --- the lock that keeps sweeps apart ----------------------------------------------------------------------


@contextmanager
def sweep_lock():
    """Yield True when this process holds the sweep lock, False when another sweep runs."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        # A session-level advisory lock on its own connection: released by the server if we die.
        with engine.connect() as conn:
            got = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({_ADVISORY_KEY})").scalar()
            conn.commit()
            try:
                yield bool(got)
            finally:
                if got:
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_ADVISORY_KEY})")
                    conn.commit()
        return
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    got = _take_lease(holder)
    try:
        yield got
    finally:
        if got:
            db.session.rollback()  # whatever the sweep left uncommitted holds SQLite's write lock
            with engine.begin() as conn:
                conn.execute(
                    update(SweepLease)
                    .where(SweepLease.name == "sla", SweepLease.holder == holder)
                    .values(holder=None, expires_at=None)
                )


def _take_lease(holder: str) -> bool:
    now = datetime.now(UTC).replace(tzinfo=None)  # wall time, even in a sweep "as of" another moment
    with db.engine.begin() as conn:
        if conn.execute(select(SweepLease.name).where(SweepLease.name == "sla")).first() is None:
            try:
                conn.execute(table_of(SweepLease).insert().values(name="sla", holder=None, expires_at=None))
            except Exception:  # another process inserted it first
                pass
        taken = conn.execute(
            update(SweepLease)
            .where(SweepLease.name == "sla", (SweepLease.holder.is_(None)) | (SweepLease.expires_at < now))
            .values(holder=holder, expires_at=now + timedelta(seconds=LEASE_SECONDS))
        ).rowcount
    return taken == 1


# --- the sweep ---------------------------------------------------------------------------------------------


def run_sweep(now: datetime | None = None, batch_size: int = 500, commit=None) -> Counter:
    """Sweep until nothing is due. The boundary passes ``commit`` (a task or the CLI commits each batch)."""
    if now is not None:  # a sweep "as of" another moment (CLI --now, tests): every service sees that moment
        with frozen_at(now):
            return _run_sweep(now, batch_size, commit or db.session.commit)
    return _run_sweep(utcnow(), batch_size, commit or db.session.commit)


def _run_sweep(now: datetime, batch_size: int, commit) -> Counter:
    counts: Counter = Counter()
    if not anything_due(now):  # the common case: one index probe, no lock, no transaction
        return counts
    with sweep_lock() as acquired:
        if not acquired:
            counts["skipped_locked"] += 1
            return counts
        context = SweepContext()
        seen: set[int] = set()
        while True:
            try:
                batch_counts, ids = sweep_batch(now, batch_size, context)
                commit()
            except StaleDataError:  # another writer changed one of these tickets: take the batch again
                db.session.rollback()
                counts["retried_batches"] += 1
                if counts["retried_batches"] > 20:
                    log.error("sweep gave up after repeated conflicts; the next sweep goes on")
                    break
                continue
            counts.update(batch_counts)
            counts["tickets"] += len(ids)
            if len(ids) < batch_size or set(ids) <= seen:
                break
            seen.update(ids)
    return counts


def due_query(now: datetime):
    """``SELECT next_deadline_at FROM ticket WHERE next_deadline_at <= now LIMIT 1``: a probe of the partial
    index ``ix_ticket_next_deadline_open`` (index-only) that stops at the first due entry, whatever the
    number of open tickets."""
    return select(Ticket.next_deadline_at).where(Ticket.next_deadline_at <= now).limit(1)


def anything_due(now: datetime) -> bool:
    """Is any step due? On its own connection, in autocommit on PostgreSQL: no transaction to open or close."""
    conn = db.engine.connect()
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    with conn:
        return conn.execute(due_query(now)).first() is not None


def sweep_batch(now: datetime, batch_size: int, context: SweepContext | None = None) -> tuple[Counter, list[int]]:
    """Apply the due steps of up to ``batch_size`` due tickets; flushes, never commits.

    The tickets and their clocks are read as plain rows, in one statement. Yellow, red (with its 督办单),
    escalation and overdue supervision are written in bulk: one statement per table for the tickets,
    their clocks, the supervision records, the events and the notifications. The two steps that change
    a ticket's status (callback timeout, planned resume) go through the workflow one by one."""
    context = context or SweepContext()
    counts: Counter = Counter()
    batch = [_Due(row) for row in db.session.execute(_due_tickets(now, batch_size))]
    if not batch:
        return counts, []
    ids = [due.id for due in batch]
    context.load_units({due.lead_unit_id for due in batch if due.lead_unit_id})
    writes = _Writes(now)
    workflow = [due for due in batch if _take_ladder_steps(due, now, counts, context, writes)]
    supervision = _supervision({due.id: due.tracking_no for due in batch}, now, counts, context, writes)
    for ticket_id, due_at in writes.order_deadlines:
        supervision[ticket_id] = min(due_at, supervision.get(ticket_id, due_at))
    by_workflow = _workflow_steps(workflow, counts, supervision)
    ticket_rows, clock_rows = [], []
    for due in batch:
        if due.id in by_workflow:
            continue
        next_at = None
        if due.status in _OPEN:  # what next_step_at would say, without its lookups
            step = due.next_step()
            candidates = [t for t in (step[1] if step else None, supervision.get(due.id)) if t is not None]
            next_at = min(candidates) if candidates else None
        if due.stage != due.read_stage:
            clock_rows.append({"b_id": due.id, "b_old": due.read_stage, "stage": int(due.stage)})
        elif next_at == due.next_deadline_at and due.id not in writes.touched:
            continue  # nothing to write (the ticket was due with no step left: stale data)
        ticket_rows.append(
            {
                "b_id": due.id,
                "b_version": due.version,
                "b_new": due.version + 1,
                "warning_level": due.warning_level,
                "escalation_level": due.escalation_level,
                "next_deadline_at": next_at,
            }
        )
    _write_bulk(ticket_rows, clock_rows, now)  # the optimistic check first: a lost batch writes nothing else
    refused = writes.insert()
    if refused:
        counts["supervision_order"] -= refused
        counts["supervision_order_refused"] += refused
    _expire_loaded(ids)
    return counts, ids


def _due_tickets(now: datetime, batch_size: int):
    """The first due tickets in the order of the partial index (the scan stops at ``batch_size``),
    locked (``FOR NO KEY UPDATE``: the sweep changes no key, so rows that reference a ticket can still
    be inserted meanwhile) and skipping those another sweep or a user holds; then each one's clock."""
    due = (
        select(*_Due.ticket_columns)
        .where(Ticket.next_deadline_at <= now)
        .order_by(Ticket.next_deadline_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True, key_share=True, of=Ticket)
        .cte("due")
    )
    order = (due.c.next_deadline_at, due.c.id)
    if db.session.get_bind().dialect.name == "postgresql":
        # One primary-key probe per ticket. As a plain join the planner may hash the whole clock table
        # when it expects many due tickets; LIMIT 1 keeps it from flattening the lateral into that join.
        clock = select(*_Due.clock_columns).where(SlaClock.ticket_id == due.c.id).limit(1).lateral("clock")
        return select(due, clock).outerjoin(clock, true()).order_by(*order)
    return select(due, *_Due.clock_columns).outerjoin(SlaClock, SlaClock.ticket_id == due.c.id).order_by(*order)


class _Due:
    """A due ticket and its ladder clock as plain values: the bulk steps change these and write them."""

    ticket_columns = (
        Ticket.id,
        Ticket.version,
        Ticket.status,
        Ticket.lead_unit_id,
        Ticket.tracking_no,
        Ticket.title,
        Ticket.warning_level,
        Ticket.escalation_level,
        Ticket.next_deadline_at,
    )
    clock_columns = (SlaClock.kind, SlaClock.deadline_at, SlaClock.warn_at, SlaClock.escalate_at, SlaClock.stage)
    __slots__ = (
        "id",
        "version",
        "status",
        "lead_unit_id",
        "tracking_no",
        "title",
        "warning_level",
        "escalation_level",
        "next_deadline_at",
        "kind",
        "deadline_at",
        "warn_at",
        "escalate_at",
        "stage",
        "read_stage",
    )
    id: int
    version: int
    status: str
    lead_unit_id: int | None
    tracking_no: str
    title: str
    warning_level: str
    escalation_level: int
    next_deadline_at: datetime | None
    kind: str | None  # the clock's columns: None for a ticket with no clock
    deadline_at: datetime | None
    warn_at: datetime | None
    escalate_at: datetime | None
    stage: int
    read_stage: int

    def __init__(self, row: Row[Any]) -> None:
        (
            self.id,
            self.version,
            self.status,
            self.lead_unit_id,
            self.tracking_no,
            self.title,
            self.warning_level,
            self.escalation_level,
            self.next_deadline_at,
            self.kind,
            self.deadline_at,
            self.warn_at,
            self.escalate_at,
            self.stage,
        ) = row
        self.read_stage = self.stage

    def next_step(self) -> tuple[str, datetime] | None:
        """The clock's own rule (``SlaClock.next_step``), on these values (a ticket with no clock has none)."""
        return next_ladder_step(self)


def _write_bulk(ticket_rows: list[dict], clock_rows: list[dict], now: datetime) -> None:
    """One statement per table (``hotline.sla.bulk``). The WHERE on the version (and on the old stage) is the
    optimistic check: a row another sweep or a user changed meanwhile fails it, and the whole batch is
    rolled back."""
    if ticket_rows:
        matched = bulk.update_rows(
            table_of(Ticket),
            ticket_rows,
            where={"id": "b_id", "version": "b_version"},
            values={
                "version": "b_new",
                "warning_level": "warning_level",
                "escalation_level": "escalation_level",
                "next_deadline_at": "next_deadline_at",
            },
            constants={"updated_at": now},
        )
        if matched != len(ticket_rows):
            raise StaleDataError(f"{len(ticket_rows) - matched} tickets changed during the sweep")
    if clock_rows:
        matched = bulk.update_rows(
            table_of(SlaClock), clock_rows, where={"ticket_id": "b_id", "stage": "b_old"}, values={"stage": "stage"}
        )
        if matched != len(clock_rows):
            raise StaleDataError("a ladder clock changed during the sweep")


def _expire_loaded(ids: list[int]) -> None:
    """Tickets and clocks of the batch that the session holds (the caller's own, the workflow's) were
    written behind the ORM's back: read them again when next used."""
    batch = set(ids)
    identity_map = db.session.identity_map
    for key in list(identity_map.keys()):  # by key: an expired object would be loaded to read its id
        obj = identity_map.get(key)
        if key[0] in (Ticket, SlaClock) and key[1][0] in batch and obj is not None:
            db.session.expire(obj)


class _Writes:
    """What one batch writes in bulk: 督办单, events and notifications, as plain rows.

    The rows are those ``record_event`` and ``notify_users`` would write for the system actor: events
    by the system with no user or unit, in-app notifications written as sent (the row is the delivery),
    e-mail ones pending and handed to the delivery task once the transaction commits."""

    def __init__(self, now: datetime):
        from hotline.tickets.services import PUBLIC_ACTIONS

        self.now = now
        self.public = PUBLIC_ACTIONS
        self.orders: list[dict] = []
        self.order_deadlines: list[tuple[int, datetime]] = []
        self.events: list[dict] = []
        self.notes: list[dict] = []
        self.order_effects: dict[int, tuple[dict, list[dict]]] = {}  # ticket → its order's event, notifications
        self.touched: set[int] = set()  # tickets with a step written here
        self._local: dict[datetime, tuple[str, str]] = {}

    def local_times(self, moment: datetime) -> tuple[str, str]:
        """``moment`` in Asia/Shanghai for an event (ISO) and a message (minutes); many tickets share a
        deadline (the end of a working day)."""
        if moment not in self._local:
            local = to_local(moment)
            self._local[moment] = (local.isoformat(), local.strftime("%Y-%m-%d %H:%M"))
        return self._local[moment]

    def event(self, ticket_id: int, action: str, data: dict) -> dict:
        self.touched.add(ticket_id)
        row = {"ticket_id": ticket_id, "action": action, "data": data, "public": action in self.public}
        self.events.append(row)
        return row

    def notify(self, users, template: str, ticket_id: int, payload: dict, email: bool = False) -> list[dict]:
        rows = notification_rows(users, template, ticket_id=ticket_id, payload=payload, email=email)
        self.notes.extend(rows)
        return rows

    def order(
        self, due: _Due, unit: _Unit, message: str, response_deadline: datetime, event: dict, notes: list[dict]
    ) -> None:
        """A ladder 督办单 for ``due``'s stage and round, with its event and notifications: written only if
        the round has no order yet (``insert``)."""
        self.orders.append(
            {
                "ticket_id": due.id,
                "unit_id": unit.id,
                "message": message,
                "response_deadline": response_deadline,
                "ladder_stage": int(due.stage),
                "clock_kind": due.kind,
                "clock_deadline_at": due.deadline_at,
            }
        )
        self.order_deadlines.append((due.id, response_deadline))
        self.order_effects[due.id] = (event, notes)

    def insert(self) -> int:
        """Write the batch's rows; returns the number of 督办单 refused because their stage and round
        already had one (``uq_supervision_order_ladder_round``): those leave no event and tell nobody."""
        issued = set(
            bulk.insert_rows(
                table_of(SupervisionOrder),
                self.orders,
                constants={
                    "issued_by_id": None,
                    "source": SupervisionSource.LADDER.value,
                    "responded_at": None,
                    "response": None,
                    "overdue_at": None,
                    "created_at": self.now,
                },
                skip_conflicts=(SupervisionOrder.LADDER_ROUND, f"source = '{SupervisionSource.LADDER.value}'"),
                returning="ticket_id",
            )
        )
        dropped = {
            id(row)
            for ticket_id, (event, notes) in self.order_effects.items()
            if ticket_id not in issued
            for row in (event, *notes)
        }
        refused = len(self.order_effects) - len(issued)
        if refused:
            log.warning("the sweep refused %d supervision orders already issued for their stage and round", refused)
            self.events = [row for row in self.events if id(row) not in dropped]
            self.notes = [row for row in self.notes if id(row) not in dropped]
        bulk.insert_rows(
            table_of(TicketEvent),
            self.events,
            constants={
                "from_status": None,
                "to_status": None,
                "actor_kind": EventActorKind.SYSTEM.value,
                "actor_id": None,
                "unit_id": None,
                "note": None,
                "created_at": self.now,
            },
        )
        insert_notifications(self.notes, now=self.now)
        return refused


def _take_ladder_steps(due: _Due, now: datetime, counts: Counter, context: SweepContext, writes: _Writes) -> bool:
    """Take the due yellow, red and escalation steps of one ticket (in bulk). True when its due step is
    one that changes its status instead: the workflow takes that one."""
    while True:
        step = due.next_step()
        if step is None or step[1] > now:
            return False
        name = step[0]
        if name in ("callback", "resume"):
            return True
        assert due.deadline_at is not None, "next_ladder_step gives a step only while a deadline is watched"
        unit = context.units.get(due.lead_unit_id) if due.lead_unit_id is not None else None
        deadline_iso, deadline_text = writes.local_times(due.deadline_at)
        data = {"deadline": deadline_iso, "clock": due.kind, "unit": unit.code if unit else None}
        payload = {
            "tracking_no": due.tracking_no,
            "title": due.title,
            "deadline": deadline_text,
            "unit": unit.name if unit else "",
        }
        if name == "yellow":
            due.stage, due.warning_level = LadderStage.YELLOW, WarningLevel.YELLOW.value
            writes.event(due.id, "yellow_card", data)
            writes.notify(context.recipients(unit), "yellow_card", due.id, payload)
            counts["yellow"] += 1
        elif name == "red":
            due.stage, due.warning_level = LadderStage.RED, WarningLevel.RED.value
            writes.event(due.id, "red_card", data)
            writes.notify(context.recipients(unit), "red_card", due.id, payload, email=True)
            counts["red"] += 1
            if unit is not None:
                _ladder_order(due, unit, context, payload, writes)
                counts["supervision_order"] += 1
        elif name == "escalate":
            due.stage = LadderStage.ESCALATED
            due.escalation_level += 1
            above = context.parent_of(unit)
            writes.event(
                due.id, "escalated", {**data, "level": due.escalation_level, "to_unit": above.code if above else None}
            )
            writes.notify(
                context.recipients(above),
                "escalated",
                due.id,
                email=True,
                payload={**payload, "level": due.escalation_level, "to_unit": above.name if above else ""},
            )
            counts["escalate"] += 1


def _ladder_order(due: _Due, unit: _Unit, context: SweepContext, payload: dict, writes: _Writes) -> None:
    response_deadline = context.order_due(writes.now)
    deadline_iso, deadline_text = writes.local_times(response_deadline)
    event = writes.event(
        due.id, "supervision_order", {"unit": unit.code, "source": "ladder", "response_deadline": deadline_iso}
    )
    notes = writes.notify(
        context.recipients(unit), "supervision_order", due.id, {**payload, "response_deadline": deadline_text}
    )
    message = _l(
        "Ticket %(tracking_no)s is overdue: handle it at once and report back in time.", tracking_no=due.tracking_no
    )
    writes.order(due, unit, in_default_language(message), response_deadline, event, notes)


def _workflow_steps(batch: list[_Due], counts: Counter, supervision: dict) -> set[int]:
    """Callback timeout and planned resume: through the workflow, as a user's action would go. Returns
    the ids of these tickets (the ORM wrote them)."""
    from hotline.tickets.services import SYSTEM, apply_transition

    if not batch:
        return set()
    ids = [due.id for due in batch]
    tickets = {t.id: t for t in db.session.execute(select(Ticket).where(bulk.among(Ticket.id, ids))).scalars()}
    clocks = {
        c.ticket_id: c
        for c in db.session.execute(select(SlaClock).where(bulk.among(SlaClock.ticket_id, ids))).scalars()
    }
    for due in batch:
        ticket = tickets[due.id]
        clocks[due.id].stage = LadderStage.DONE
        if due.kind == ClockKind.CALLBACK.value:
            apply_transition(ticket, "close_unreached", SYSTEM)
            counts["callback_closed"] += 1
        else:
            apply_transition(ticket, "resume", SYSTEM)
            counts["resumed"] += 1
    for ticket_id in ids:
        tickets[ticket_id].next_deadline_at = next_step_at(
            tickets[ticket_id], supervision.get(ticket_id), refresh=False
        )
    db.session.flush()
    return set(ids)


def _supervision(
    tracking_nos: dict[int, str], now: datetime, counts: Counter, context: SweepContext, writes: _Writes
) -> dict[int, datetime]:
    """The batch's unanswered 督办单 and 催办, in one statement. One unanswered at its response deadline is
    flagged once (``overdue_at``) and supervisors are told; returns the earliest response deadline still
    open per ticket."""
    parts = [
        select(literal(kind).label("kind"), model.id, model.ticket_id, model.unit_id, model.response_deadline).where(
            bulk.among(model.ticket_id, tracking_nos),
            model.responded_at.is_(None),
            model.overdue_at.is_(None),
            model.response_deadline.isnot(None),
        )
        for model, kind in ((SupervisionOrder, "order"), (Urging, "urging"))
    ]
    records = db.session.execute(union_all(*parts)).all()
    open_until: dict[int, datetime] = {}
    overdue = []
    for record in records:
        if record.response_deadline <= now:
            overdue.append(record)
        elif record.ticket_id not in open_until or record.response_deadline < open_until[record.ticket_id]:
            open_until[record.ticket_id] = record.response_deadline
    if not overdue:
        return open_until
    overdue.sort(key=lambda r: (r.kind != "order", r.id))
    for model, kind in ((SupervisionOrder, "order"), (Urging, "urging")):
        record_ids = [r.id for r in overdue if r.kind == kind]
        if not record_ids:
            continue
        table = table_of(model)
        flagged = rows_matched(
            db.session.execute(
                table.update()
                .where(bulk.among(table.c.id, record_ids), table.c.overdue_at.is_(None))
                .values(overdue_at=now)
            )
        )
        if flagged not in (-1, len(record_ids)):
            raise StaleDataError("a supervision record changed during the sweep")
    context.load_units({r.unit_id for r in overdue})
    for record in overdue:
        unit = context.units[record.unit_id]
        writes.event(
            record.ticket_id, "supervision_overdue", {"kind": record.kind, "record": record.id, "unit": unit.code}
        )
        writes.notify(
            context.supervisors_over(unit),
            "supervision_overdue",
            record.ticket_id,
            {"tracking_no": tracking_nos[record.ticket_id], "unit": unit.name, "kind": record.kind},
        )  # "order" or "urging": worded by the template
        counts["supervision_overdue"] += 1
    return open_until


class _Unit(NamedTuple):
    """An org unit as the sweep needs it: plain values that outlive the batch's commit."""

    id: int
    code: str
    name: str
    path: str
    parent_id: int | None


class _Person(NamedTuple):
    """A recipient as notify_users needs it."""

    id: int
    username: str
    email: str | None


class SweepContext:
    """What one sweep looks up once: units, their staff and the supervisors over them.

    Kept as plain values, not ORM objects: those expire at every batch's commit and would be read
    again, one query each, in the next batch."""

    def __init__(self) -> None:
        self.units: dict[int, _Unit] = {}
        self._staff: dict[int, list[_Person]] = {}
        self._supervisors: list[tuple[str, _Person]] | None = None
        self._order_due: dict[datetime, datetime] = {}

    def order_due(self, now: datetime) -> datetime:
        """The response deadline of a 督办单 the ladder issues at ``now``."""
        if now not in self._order_due:
            self._order_due[now] = deadline_after(now, setting("SLA_ORDER_RESPONSE_WORKING_DAYS"), WD).at
        return self._order_due[now]

    def load_units(self, ids: Iterable[int]) -> None:
        missing = set(ids) - set(self.units)
        if missing:
            for row in db.session.execute(
                select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.path, OrgUnit.parent_id).where(
                    OrgUnit.id.in_(missing)
                )
            ):
                self.units[row.id] = _Unit(*row)

    def parent_of(self, unit: _Unit | OrgUnit | None) -> _Unit | None:
        if unit is None or unit.parent_id is None:
            return None
        self.load_units([unit.parent_id])
        return self.units.get(unit.parent_id)

    def supervisors_over(self, unit: _Unit | OrgUnit | None) -> list[_Person]:
        if self._supervisors is None:
            rows = db.session.execute(
                select(OrgUnit.path, User.id, User.username, User.email)
                .select_from(UserRole)
                .join(User, User.id == UserRole.user_id)
                .join(OrgUnit, OrgUnit.id == UserRole.scope_unit_id)
                .where(UserRole.role == Role.SUPERVISOR.value, User.active.is_(True))
            ).all()
            self._supervisors = [(path, _Person(uid, username, email)) for path, uid, username, email in rows]
        if unit is None:
            return []
        return list({u.id: u for path, u in self._supervisors if unit.path.startswith(path)}.values())

    def recipients(self, unit: _Unit | OrgUnit | None) -> list[_Person]:
        """The unit's own staff and the supervisors whose scope covers it."""
        if unit is None:
            return []
        if unit.id not in self._staff:  # looked up once per unit and sweep
            staff = db.session.execute(
                select(User.id, User.username, User.email)
                .where(User.org_unit_id == unit.id, User.active.is_(True))
                .order_by(User.id)
            ).all()
            seen = {uid: _Person(uid, username, email) for uid, username, email in staff}
            for user in self.supervisors_over(unit):
                seen.setdefault(user.id, user)
            self._staff[unit.id] = list(seen.values())
        return self._staff[unit.id]
