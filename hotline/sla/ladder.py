"""The sweep: apply the escalation ladder to every ticket whose next step is due.

Each open ticket keeps ``next_deadline_at``, the time of its earliest pending step (partial index
``ix_ticket_next_deadline_open``), so a sweep reads only due tickets, in batches, with row locks
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL). A step is taken in the same transaction that moves the
ticket's ``SlaClock.stage`` up and bumps the ticket's version, so a rolled-back or killed sweep took
no step and a second sweep that read the same ticket fails its optimistic check and takes none:
every step happens exactly once. A lock (PostgreSQL advisory lock; a lease row on SQLite) keeps two
sweeps from running at the same time at all.

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
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from hotline.accounts.models import Role, User, UserRole
from hotline.core.clock import frozen_at, to_local, utcnow
from hotline.extensions import db
from hotline.notify.services import insert_notifications, notification_rows
from hotline.orgs.models import OrgUnit
from hotline.sla import bulk
from hotline.sla import services as sla
from hotline.sla.models import (LadderStage, SlaClock, SupervisionOrder, SupervisionSource, SweepLease,
                                Urging)
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
                conn.execute(update(SweepLease).where(SweepLease.name == "sla", SweepLease.holder == holder)
                             .values(holder=None, expires_at=None))


def _take_lease(holder: str) -> bool:
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # wall time, even in a sweep "as of" another moment
    with db.engine.begin() as conn:
        if conn.execute(select(SweepLease.name).where(SweepLease.name == "sla")).first() is None:
            try:
                conn.execute(SweepLease.__table__.insert().values(name="sla", holder=None, expires_at=None))
            except Exception:  # another process inserted it first
                pass
        taken = conn.execute(update(SweepLease).where(
            SweepLease.name == "sla",
            (SweepLease.holder.is_(None)) | (SweepLease.expires_at < now))
            .values(holder=holder, expires_at=now + timedelta(seconds=LEASE_SECONDS))).rowcount
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
        context = _Context()
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


def sweep_batch(now: datetime, batch_size: int, context: "_Context | None" = None) -> tuple[Counter, list[int]]:
    """Apply the due steps of up to ``batch_size`` due tickets; flushes, never commits.

    Yellow, red (with its 督办单), escalation and overdue supervision are written in bulk: one
    executemany per table for the tickets, their clocks, the supervision records, the events and the
    notifications. The two steps that change a ticket's status (callback timeout, planned resume) go
    through the workflow one by one."""
    context = context or _Context()
    tickets = list(db.session.execute(
        select(Ticket).where(Ticket.next_deadline_at <= now)
        .order_by(Ticket.next_deadline_at, Ticket.id).limit(batch_size)
        .with_for_update(skip_locked=True, of=Ticket)).scalars())
    counts: Counter = Counter()
    if not tickets:
        return counts, []
    ids = [t.id for t in tickets]
    clocks = {c.ticket_id: c for c in db.session.execute(select(SlaClock).where(bulk.among(SlaClock.ticket_id, ids))).scalars()}
    stages = {tid: c.stage for tid, c in clocks.items()}
    context.load_units({t.lead_unit_id for t in tickets if t.lead_unit_id})
    writes = _Writes(now)
    in_bulk: set[int] = set()  # tickets whose ladder steps are written in bulk (the rest went through the ORM)
    for ticket in tickets:
        _apply_due_steps(ticket, clocks.get(ticket.id), now, counts, context, in_bulk, writes)
    db.session.flush()  # the workflow's changes (callback timeout, resume)
    writes.insert_orders()  # before the next step times are read: a new 督办单 is the ticket's next step
    _overdue_supervision(ids, now, counts, context, in_bulk, writes)
    supervision = sla.open_supervision_deadline(ids)
    ticket_rows, clock_rows = [], []
    for ticket in tickets:
        if ticket.id in in_bulk and ticket.status in _OPEN:  # what next_step_at would say, without its lookups
            step = clocks[ticket.id].next_step() if ticket.id in clocks else None
            candidates = [t for t in (step[1] if step else None, supervision.get(ticket.id)) if t is not None]
            next_at = min(candidates) if candidates else None
        else:
            next_at = sla.next_step_at(ticket, supervision.get(ticket.id), refresh=False)
        if ticket.id in in_bulk:
            _set(ticket, next_deadline_at=next_at)
            ticket_rows.append({"b_id": ticket.id, "b_version": ticket.version, "b_new": ticket.version + 1,
                                "warning_level": ticket.warning_level, "escalation_level": ticket.escalation_level,
                                "next_deadline_at": next_at, "updated_at": now})
            clock = clocks.get(ticket.id)
            if clock is not None and clock.stage != stages[ticket.id]:
                clock_rows.append({"b_id": ticket.id, "b_old": stages[ticket.id], "stage": int(clock.stage)})
        else:
            ticket.next_deadline_at = next_at
    db.session.flush()
    _write_bulk(ticket_rows, clock_rows)  # the optimistic check first: a lost batch writes nothing else
    writes.insert_rest()
    return counts, ids


def _write_bulk(ticket_rows: list[dict], clock_rows: list[dict]) -> None:
    """One statement per table (``hotline.sla.bulk``). The WHERE on the version (and on the old stage) is the
    optimistic check: a row another sweep or a user changed meanwhile fails it, and the whole batch is
    rolled back."""
    if ticket_rows:
        matched = bulk.update_rows(Ticket.__table__, ticket_rows, where={"id": "b_id", "version": "b_version"},
                                   values={"version": "b_new", "warning_level": "warning_level",
                                           "escalation_level": "escalation_level",
                                           "next_deadline_at": "next_deadline_at", "updated_at": "updated_at"})
        if matched != len(ticket_rows):
            raise StaleDataError(f"{len(ticket_rows) - matched} tickets changed during the sweep")
        for row in ticket_rows:
            ticket = db.session.identity_map.get(db.session.identity_key(Ticket, row["b_id"]))
            if ticket is not None:
                set_committed_value(ticket, "version", row["b_new"])
    if clock_rows:
        matched = bulk.update_rows(SlaClock.__table__, clock_rows, where={"ticket_id": "b_id", "stage": "b_old"},
                                   values={"stage": "stage"})
        if matched != len(clock_rows):
            raise StaleDataError("a ladder clock changed during the sweep")


def _set(obj, **values) -> None:
    """Change loaded attributes without marking them for the ORM: the batch writes them in bulk."""
    for key, value in values.items():
        set_committed_value(obj, key, value)


class _Writes:
    """What one batch writes in bulk: 督办单, events and notifications, as plain rows.

    The rows are those ``record_event`` and ``notify_users`` would write for the system actor: events
    by the system with no user or unit, in-app notifications written as sent (the row is the delivery),
    e-mail ones pending and handed to the delivery task once the transaction commits."""

    def __init__(self, now: datetime):
        self.now = now
        self.orders: list[dict] = []
        self.events: list[dict] = []
        self.notes: list[dict] = []

    def event(self, ticket: Ticket, action: str, data: dict) -> None:
        from hotline.tickets.services import PUBLIC_ACTIONS
        self.events.append({"ticket_id": ticket.id, "action": action, "from_status": None, "to_status": None,
                            "actor_kind": EventActorKind.SYSTEM.value, "actor_id": None, "unit_id": None,
                            "note": None, "data": data, "public": action in PUBLIC_ACTIONS,
                            "created_at": self.now})

    def notify(self, users, template: str, ticket: Ticket, payload: dict, email: bool = False) -> None:
        self.notes.extend(notification_rows(users, template, ticket_id=ticket.id, payload=payload,
                                            email=email, now=self.now))

    def order(self, ticket: Ticket, unit: OrgUnit, message: str, due: datetime) -> None:
        self.orders.append({"ticket_id": ticket.id, "unit_id": unit.id, "issued_by_id": None, "message": message,
                            "source": SupervisionSource.LADDER.value, "response_deadline": due,
                            "responded_at": None, "response": None, "overdue_at": None, "created_at": self.now})

    def insert_orders(self) -> None:
        if self.orders:
            bulk.insert_rows(SupervisionOrder.__table__, self.orders)
            self.orders = []

    def insert_rest(self) -> None:
        if self.events:
            bulk.insert_rows(TicketEvent.__table__, self.events)
            self.events = []
        if self.notes:
            insert_notifications(self.notes)
            self.notes = []


def _apply_due_steps(ticket: Ticket, clock: SlaClock | None, now: datetime, counts: Counter,
                     context: "_Context", in_bulk: set, writes: _Writes) -> None:
    from hotline.tickets.services import SYSTEM, apply_transition

    if clock is None:
        return
    while True:
        step = clock.next_step()
        if step is None or step[1] > now:
            return
        name, due = step
        if name == "callback":
            clock.stage = LadderStage.DONE
            apply_transition(ticket, "close_unreached", SYSTEM,
                             note=None, expected_version=None)
            counts["callback_closed"] += 1
            return
        if name == "resume":
            clock.stage = LadderStage.DONE
            apply_transition(ticket, "resume", SYSTEM)
            counts["resumed"] += 1
            return
        unit = context.units.get(ticket.lead_unit_id)
        data = {"deadline": to_local(clock.deadline_at).isoformat(), "clock": clock.kind,
                "unit": unit.code if unit else None}
        payload = {"tracking_no": ticket.tracking_no, "title": ticket.title,
                   "deadline": to_local(clock.deadline_at).strftime("%Y-%m-%d %H:%M"),
                   "unit": unit.name if unit else ""}
        if name == "yellow":
            _set(clock, stage=LadderStage.YELLOW)
            _set(ticket, warning_level=WarningLevel.YELLOW.value)
            writes.event(ticket, "yellow_card", data)
            writes.notify(context.recipients(unit), "yellow_card", ticket, payload)
            counts["yellow"] += 1
        elif name == "red":
            _set(clock, stage=LadderStage.RED)
            _set(ticket, warning_level=WarningLevel.RED.value)
            writes.event(ticket, "red_card", data)
            writes.notify(context.recipients(unit), "red_card", ticket, payload, email=True)
            counts["red"] += 1
            if unit is not None:
                _ladder_order(ticket, unit, context, payload, writes)
                counts["supervision_order"] += 1
        elif name == "escalate":
            _set(clock, stage=LadderStage.ESCALATED)
            _set(ticket, escalation_level=ticket.escalation_level + 1)
            above = context.parent_of(unit)
            writes.event(ticket, "escalated", {**data, "level": ticket.escalation_level,
                                               "to_unit": above.code if above else None})
            writes.notify(context.recipients(above), "escalated", ticket, email=True,
                          payload={**payload, "level": ticket.escalation_level,
                                   "to_unit": above.name if above else ""})
            counts["escalate"] += 1
        in_bulk.add(ticket.id)


def _ladder_order(ticket: Ticket, unit: OrgUnit, context: "_Context", payload: dict, writes: _Writes) -> None:
    due = context.order_due(writes.now)
    writes.order(ticket, unit, f"工单{ticket.tracking_no}已超期，请立即办理并于期限内反馈。", due)
    writes.event(ticket, "supervision_order", {"unit": unit.code, "source": "ladder",
                                               "response_deadline": to_local(due).isoformat()})
    writes.notify(context.recipients(unit), "supervision_order", ticket,
                  {**payload, "response_deadline": to_local(due).strftime("%Y-%m-%d %H:%M")})


def _overdue_supervision(ids: list[int], now: datetime, counts: Counter, context: "_Context", in_bulk: set,
                         writes: _Writes) -> None:
    """A 督办单 or 催办 unanswered at its response deadline: flagged once (``overdue_at``), supervisors told."""
    tickets = {}
    for model, kind in ((SupervisionOrder, "order"), (Urging, "urging")):
        rows = db.session.execute(select(model.id, model.ticket_id, model.unit_id).where(
            bulk.among(model.ticket_id, ids), model.responded_at.is_(None), model.overdue_at.is_(None),
            model.response_deadline <= now)).all()
        if not rows:
            continue
        table = model.__table__
        flagged = db.session.execute(table.update().where(bulk.among(table.c.id, [r.id for r in rows]),
                                                          table.c.overdue_at.is_(None)).values(overdue_at=now))
        if flagged.rowcount not in (-1, len(rows)):
            raise StaleDataError("a supervision record changed during the sweep")
        context.load_units({r.unit_id for r in rows})
        for record_id, ticket_id, unit_id in rows:
            ticket = tickets.get(ticket_id) or db.session.get(Ticket, ticket_id)
            tickets[ticket_id] = ticket
            unit = context.units[unit_id]
            writes.event(ticket, "supervision_overdue", {"kind": kind, "record": record_id, "unit": unit.code})
            writes.notify(context.supervisors_over(unit), "supervision_overdue", ticket,
                          {"tracking_no": ticket.tracking_no, "unit": unit.name,
                           "kind": "督办单" if kind == "order" else "催办"})
            in_bulk.add(ticket_id)
            counts["supervision_overdue"] += 1


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


class _Context:
    """What one sweep looks up once: units, their staff and the supervisors over them.

    Kept as plain values, not ORM objects: those expire at every batch's commit and would be read
    again, one query each, in the next batch."""

    def __init__(self):
        self.units: dict[int, _Unit] = {}
        self._staff: dict[int, list[_Person]] = {}
        self._supervisors: list[tuple[str, _Person]] | None = None
        self._order_due: dict[datetime, datetime] = {}

    def order_due(self, now: datetime) -> datetime:
        """The response deadline of a 督办单 the ladder issues at ``now``."""
        if now not in self._order_due:
            self._order_due[now] = sla.deadline_after(now, sla.setting("SLA_ORDER_RESPONSE_WORKING_DAYS"), sla.WD).at
        return self._order_due[now]

    def load_units(self, ids) -> None:
        missing = set(ids) - set(self.units)
        if missing:
            for row in db.session.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.path,
                                                 OrgUnit.parent_id).where(OrgUnit.id.in_(missing))):
                self.units[row.id] = _Unit(*row)

    def parent_of(self, unit) -> _Unit | None:
        if unit is None or unit.parent_id is None:
            return None
        self.load_units([unit.parent_id])
        return self.units.get(unit.parent_id)

    def supervisors_over(self, unit) -> list[_Person]:
        if self._supervisors is None:
            rows = db.session.execute(
                select(OrgUnit.path, User.id, User.username, User.email)
                .select_from(UserRole).join(User, User.id == UserRole.user_id)
                .join(OrgUnit, OrgUnit.id == UserRole.scope_unit_id)
                .where(UserRole.role == Role.SUPERVISOR.value, User.active.is_(True))).all()
            self._supervisors = [(path, _Person(uid, username, email)) for path, uid, username, email in rows]
        if unit is None:
            return []
        return list({u.id: u for path, u in self._supervisors if unit.path.startswith(path)}.values())

    def recipients(self, unit) -> list[_Person]:
        """The unit's own staff and the supervisors whose scope covers it."""
        if unit is None:
            return []
        if unit.id not in self._staff:  # looked up once per unit and sweep
            staff = db.session.execute(select(User.id, User.username, User.email).where(
                User.org_unit_id == unit.id, User.active.is_(True)).order_by(User.id)).all()
            seen = {uid: _Person(uid, username, email) for uid, username, email in staff}
            for user in self.supervisors_over(unit):
                seen.setdefault(user.id, user)
            self._staff[unit.id] = list(seen.values())
        return self._staff[unit.id]
