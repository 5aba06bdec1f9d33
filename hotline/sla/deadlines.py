"""A ticket's deadlines and the ladder's next step.

The deadline rules are written once, here: ``start`` (dispatch), ``redo`` (a 不满意 rating), ``extend`` (an
approved 延期) and ``resume`` (the end of a 挂起). The live actions apply them to the ticket
(``hotline.tickets.services``, ``hotline.sla.clock``); ``replay_deadlines`` applies the same functions to the
ticket's history when the calendar changes. Nothing here imports the ticket services: they import this."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Literal, Protocol, TypedDict

from sqlalchemy import func, select, union_all

from hotline.core.clock import LOCAL_TZ, to_local, to_utc_naive
from hotline.extensions import db
from hotline.sla.bulk import among
from hotline.sla.calendar import Deadline, add_hours, yellow_card_at
from hotline.sla.models import ClockKind, LadderStage, SlaClock, SupervisionOrder, Urging
from hotline.sla.policy import (
    REDO_WORKING_DAYS,
    WD,
    H,
    Limits,
    current_calendar,
    policy_for,
    policy_table,
    setting,
    warning_window,
)
from hotline.tickets.models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    SuspensionRequest,
    Ticket,
    TicketEvent,
    WarningLevel,
)
from hotline.tickets.workflow import OPEN_STATUSES, Status

# An event's (action, when, data), oldest first: what ``replay_deadlines`` reads.
History = list[tuple[str, datetime, dict[str, Any]]]


class AssignmentDeadline(Protocol):
    answer_deadline_at: datetime | None


class DeadlineHolder(Protocol):
    """What the deadline rules read and set: a ``Ticket``, or the copy ``replay_deadlines`` rebuilds from
    its history."""

    appeal_type: str
    urgency: str
    redo_count: int
    sign_deadline_at: datetime | None
    answer_deadline_at: datetime | None
    deadline_provisional: bool
    suspended_at: datetime | None

    def active_assignments(self) -> Sequence[AssignmentDeadline]: ...


class ReplayedDeadlines(TypedDict):
    sign: datetime | None
    answer: datetime | None
    provisional: bool


def deadline_after(start_utc: datetime, limit: float, unit: str) -> Deadline:
    """A deadline ``limit`` working days or hours after ``start_utc`` (naive UTC in, naive UTC out)."""
    local_start = to_local(start_utc)
    if unit == H:
        result = add_hours(local_start, limit)
    else:
        result = current_calendar().add_working_days(local_start, int(limit))
    return Deadline(to_utc_naive(result.at), result.provisional)


def extension_deadline(day: date) -> Deadline:
    """An extension's deadline: the end of the ``day`` asked for (a day off moves it to the next working
    day), with today's calendar. Always from the day asked for: a weekend day that was moved to Monday
    while its year was unknown is a working day again once the notice makes it a make-up workday."""
    result = current_calendar().deadline_on(day, LOCAL_TZ)
    return Deadline(to_utc_naive(result.at), result.provisional)


def pause_deadline(
    deadline: datetime | None, unit: str, paused_at: datetime, resumed_at: datetime
) -> tuple[datetime | None, bool]:
    """A deadline after a pause: hour limits move by the paused clock time, working-day limits by the
    working days the pause took."""
    if deadline is None:
        return None, False
    if unit == H:
        return deadline + (resumed_at - paused_at), False
    result = current_calendar().resume_deadline(to_local(deadline), to_local(paused_at), to_local(resumed_at))
    return to_utc_naive(result.at), result.provisional


def callback_deadline(released_at: datetime) -> datetime:
    """The end of the callback window after an answer's release: no rating by then → not reached."""
    return deadline_after(released_at, setting("SLA_CALLBACK_WORKING_DAYS"), WD).at


def answer_limit(ticket: DeadlineHolder, policy: Limits | None = None) -> tuple[float, str]:
    """(limit, unit) of the answer deadline running now: a redo's working days, else the policy's."""
    if ticket.redo_count:
        return REDO_WORKING_DAYS, WD
    policy = policy or policy_for(ticket.appeal_type, ticket.urgency)
    return policy["answer_limit"], policy["answer_unit"]


# --- the rules: each sets the ticket's deadlines and its active assignments' ------------------------------


def start(ticket: DeadlineHolder, now: datetime) -> None:
    """Dispatch: the policy's sign-for and answer limits, counted from now."""
    policy = policy_for(ticket.appeal_type, ticket.urgency)
    sign = deadline_after(now, policy["sign_limit"], policy["sign_unit"])
    answer = deadline_after(now, policy["answer_limit"], policy["answer_unit"])
    ticket.sign_deadline_at, ticket.answer_deadline_at = sign.at, answer.at
    ticket.deadline_provisional = sign.provisional or answer.provisional


def redo(ticket: DeadlineHolder, now: datetime) -> None:
    """重办 after a 不满意 rating: every active assignment answers again within the redo limit."""
    deadline = deadline_after(now, REDO_WORKING_DAYS, WD)
    ticket.answer_deadline_at, ticket.deadline_provisional = deadline.at, deadline.provisional
    for a in ticket.active_assignments():
        a.answer_deadline_at = deadline.at


def extend(ticket: DeadlineHolder, day: date) -> Deadline:
    """An approved 延期: the answer deadline becomes the end of ``day`` (with the calendar of now)."""
    deadline = extension_deadline(day)
    old = ticket.answer_deadline_at
    ticket.answer_deadline_at, ticket.deadline_provisional = deadline.at, deadline.provisional
    for a in ticket.active_assignments():
        if a.answer_deadline_at == old:
            a.answer_deadline_at = deadline.at
    return deadline


def resume(ticket: DeadlineHolder, now: datetime) -> int:
    """The end of a 挂起: suspended time does not count. Working-day deadlines keep the working days they had
    left, hour deadlines the hours. Returns the seconds the ticket was paused."""
    paused_at = ticket.suspended_at or now
    unit = answer_limit(ticket)[1]
    old = ticket.answer_deadline_at
    ticket.answer_deadline_at, provisional = pause_deadline(old, unit, paused_at, now)
    ticket.deadline_provisional = bool(ticket.deadline_provisional or provisional)
    for a in ticket.active_assignments():
        if a.answer_deadline_at == old:
            a.answer_deadline_at = ticket.answer_deadline_at
        elif a.answer_deadline_at:
            a.answer_deadline_at = pause_deadline(a.answer_deadline_at, unit, paused_at, now)[0]
    ticket.suspended_at = None
    return int((now - paused_at).total_seconds())


def asked_day(data: dict[str, Any]) -> date:
    """The day an extension event asked for; events from before it was recorded give their deadline's."""
    if data.get("day"):
        return date.fromisoformat(data["day"])
    return datetime.fromisoformat(data["deadline"]).astimezone(LOCAL_TZ).date()


# --- replaying the rules over a ticket's history -----------------------------------------------------------


class _Replay:
    """A ticket's deadline fields, rebuilt from its history by the same rules the live actions apply."""

    def __init__(self, ticket: Ticket) -> None:
        self.appeal_type, self.urgency = ticket.appeal_type, ticket.urgency
        self.sign_deadline_at: datetime | None = None
        self.answer_deadline_at: datetime | None = None
        self.suspended_at: datetime | None = None
        self.deadline_provisional, self.redo_count = False, 0

    def active_assignments(self) -> tuple[()]:
        return ()  # the caller moves the assignments' deadlines with the ticket's

    def dispatch(self, when: datetime, data: dict[str, Any]) -> None:
        start(self, when)
        self.suspended_at = None

    def rate_unsatisfied(self, when: datetime, data: dict[str, Any]) -> None:
        self.redo_count += 1
        redo(self, when)

    def extension_approved(self, when: datetime, data: dict[str, Any]) -> None:
        if data.get("deadline"):
            extend(self, asked_day(data))

    def suspend(self, when: datetime, data: dict[str, Any]) -> None:
        self.suspended_at = when

    def resume(self, when: datetime, data: dict[str, Any]) -> None:
        if self.suspended_at is not None:
            resume(self, when)


DEADLINE_ACTIONS = ("dispatch", "rate_unsatisfied", "extension_approved", "suspend", "resume")


def replay_deadlines(ticket: Ticket, history: History) -> ReplayedDeadlines | None:
    """The sign and answer deadlines ``ticket`` has after ``history`` ((action, when, data), oldest
    first), with the calendar as it is now. None when the ticket was never dispatched.

    A suspension still running is not counted: resuming applies it, as it always does."""
    if not any(action == "dispatch" for action, _, _ in history):
        if ticket.dispatched_at is None:
            return None
        history = [("dispatch", ticket.dispatched_at, {}), *history]  # rows loaded without events
    replay = _Replay(ticket)
    for action, when, data in history:
        getattr(replay, action)(when, data)
    return {
        "sign": replay.sign_deadline_at,
        "answer": replay.answer_deadline_at,
        "provisional": replay.deadline_provisional,
    }


def _deadline_histories(ticket_ids: list[int]) -> dict[int, History]:
    """The events that set or move deadlines, per ticket, oldest first (one query)."""
    if not ticket_ids:
        return {}
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.action, TicketEvent.created_at, TicketEvent.data)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.action.in_(DEADLINE_ACTIONS))
        .order_by(TicketEvent.ticket_id, TicketEvent.id)
    ).all()
    histories: dict[int, History] = {}
    for ticket_id, action, created_at, data in rows:
        histories.setdefault(ticket_id, []).append((action, created_at, data or {}))
    return histories


def recompute_provisional_deadlines() -> int:
    """Redo every open ticket's provisional deadlines with the calendar as it is now (``replay_deadlines``).
    A deadline stays provisional only if it still depends on a year the calendar does not know."""
    tickets = list(
        db.session.execute(
            select(Ticket).where(
                Ticket.deadline_provisional.is_(True), Ticket.status.in_([s.value for s in OPEN_STATUSES])
            )
        ).scalars()
    )
    histories = _deadline_histories([t.id for t in tickets])
    count = 0
    for ticket in tickets:
        replayed = replay_deadlines(ticket, histories.get(ticket.id, []))
        if replayed is None:
            continue
        old_sign, old_answer = ticket.sign_deadline_at, ticket.answer_deadline_at
        if old_sign:  # the sign-for deadline is kept only while it is still there
            ticket.sign_deadline_at = replayed["sign"]
        ticket.answer_deadline_at = replayed["answer"]
        ticket.deadline_provisional = replayed["provisional"]
        for a in ticket.assignments:
            if a.status in ACTIVE_ASSIGNMENT_STATUSES:
                if old_sign and a.sign_deadline_at == old_sign:
                    a.sign_deadline_at = ticket.sign_deadline_at
                if a.answer_deadline_at == old_answer:
                    a.answer_deadline_at = ticket.answer_deadline_at
        refresh_next_deadline(ticket)
        count += 1
    db.session.flush()
    return count


# --- the ladder's clock for one ticket -----------------------------------------------------------------


def watched_deadline(ticket: Ticket) -> tuple[str | None, datetime | None]:
    """Which deadline of ``ticket`` runs now, by its status."""
    status = Status(ticket.status)
    if status is Status.DISPATCHED:
        return ClockKind.SIGN.value, ticket.sign_deadline_at
    if status in (Status.IN_PROGRESS, Status.RETURN_REQUESTED):
        return ClockKind.ANSWER.value, ticket.answer_deadline_at
    if status is Status.PENDING_CALLBACK:
        return ClockKind.CALLBACK.value, callback_deadline(ticket.answered_at or ticket.updated_at)
    if status is Status.SUSPENDED and ticket.id is not None:
        resume_by = db.session.execute(
            select(SuspensionRequest.resume_by)
            .where(SuspensionRequest.ticket_id == ticket.id, SuspensionRequest.state == "approved")
            .order_by(SuspensionRequest.id.desc())
            .limit(1)
        ).scalar()
        if resume_by and ticket.suspended_at and resume_by > ticket.suspended_at:
            return ClockKind.RESUME.value, resume_by
    return None, None


def refresh_clock(ticket: Ticket) -> datetime | None:
    """Point the ladder at the deadline that runs now and return the ladder's next due step time.

    A new deadline (another phase, an extension, a resume, a redo) starts the ladder afresh;
    the same deadline keeps the steps already taken.
    """
    kind, deadline = watched_deadline(ticket)
    with db.session.no_autoflush:
        clock = db.session.get(SlaClock, ticket.id) if ticket.id is not None else None
    if clock is None:
        if deadline is None:
            return None
        clock = SlaClock(ticket=ticket, stage=LadderStage.NONE)
        db.session.add(clock)
    if clock.kind != kind or clock.deadline_at != deadline:
        clock.kind, clock.deadline_at, clock.stage = kind, deadline, LadderStage.NONE
        clock.warn_at = clock.escalate_at = None
        ticket.warning_level = WarningLevel.NONE.value
        if kind in (ClockKind.SIGN.value, ClockKind.ANSWER.value) and deadline is not None:
            clock.warn_at, clock.escalate_at = ladder_times(ticket, kind, deadline)
    step = clock.next_step()
    return step[1] if step else None


def ladder_times(
    ticket: DeadlineHolder, kind: str, deadline: datetime, policy: Limits | None = None
) -> tuple[datetime, datetime]:
    """(yellow card time, escalation time) for a working-day or hour deadline (naive UTC)."""
    policy = policy or policy_for(ticket.appeal_type, ticket.urgency)
    if kind == ClockKind.SIGN.value:
        limit, unit = policy["sign_limit"], policy["sign_unit"]
    else:
        limit, unit = answer_limit(ticket, policy)
    calendar = current_calendar()
    local = to_local(deadline)
    warn = to_utc_naive(yellow_card_at(local, limit, unit, calendar, *warning_window()))
    escalate = to_utc_naive(calendar.add_working_days(local, setting("SLA_ESCALATION_WORKING_DAYS")).at)
    return warn, escalate


def recompute_warnings(
    now: datetime, batch_size: int = 500, commit: Callable[[], None] | None = None
) -> dict[str, int]:
    """Put every open ticket's sign-for or answer clock on the yellow-card rule in force (``yellow_card_at``,
    ``SLA_WARNING_SHARE``, ``SLA_WARNING_WORKING_DAYS``): run once after the rule or those settings change
    (``flask sla rewarn``). A yellow card shown before the time the rule now gives is taken back and comes
    again at that time. In batches by ticket id; the boundary passes ``commit`` (the CLI commits each)."""
    policies = policy_table()
    counts, last = {"moved": 0, "withdrawn": 0}, 0
    while True:
        rows = db.session.execute(
            select(SlaClock, Ticket)
            .join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(
                SlaClock.ticket_id > last,
                SlaClock.kind.in_([ClockKind.SIGN.value, ClockKind.ANSWER.value]),
                SlaClock.stage.in_([LadderStage.NONE, LadderStage.YELLOW]),
                SlaClock.deadline_at.isnot(None),
                Ticket.status.in_([s.value for s in OPEN_STATUSES]),
            )
            .order_by(SlaClock.ticket_id)
            .limit(batch_size)
        ).all()
        if not rows:
            return counts
        for clock, ticket in rows:
            policy = policies[(ticket.appeal_type, ticket.urgency)]
            warn = ladder_times(ticket, clock.kind, clock.deadline_at, policy)[0]
            withdraw = clock.stage == LadderStage.YELLOW and now < warn
            if warn == clock.warn_at and not withdraw:
                continue
            clock.warn_at = warn
            counts["moved"] += 1
            if withdraw:
                clock.stage, ticket.warning_level = LadderStage.NONE, WarningLevel.NONE.value
                counts["withdrawn"] += 1
            refresh_next_deadline(ticket)
        db.session.flush()
        last = rows[-1][0].ticket_id
        if commit is not None:
            commit()


def open_supervision_deadline(ticket_ids: Iterable[int]) -> dict[int, datetime]:
    """The earliest unanswered, not yet overdue response deadline of each ticket's 督办单 and 催办."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    parts = [
        select(m.ticket_id, m.response_deadline.label("due")).where(
            among(m.ticket_id, ids), m.responded_at.is_(None), m.overdue_at.is_(None), m.response_deadline.isnot(None)
        )
        for m in (SupervisionOrder, Urging)
    ]
    both = union_all(*parts).subquery()
    rows = db.session.execute(select(both.c.ticket_id, func.min(both.c.due)).group_by(both.c.ticket_id))
    return {ticket_id: due for ticket_id, due in rows}


class _Unset(enum.Enum):
    UNSET = enum.auto()  # next_step_at looks the supervision deadline up itself


_UNSET: Literal[_Unset.UNSET] = _Unset.UNSET


def next_step_at(
    ticket: Ticket, supervision_due: datetime | None | _Unset = _UNSET, *, refresh: bool = True
) -> datetime | None:
    """The earliest pending ladder step of ``ticket``: its clock's next step or an unanswered
    supervision record's response deadline. None once the ticket is finished."""
    with db.session.no_autoflush:  # a flush here would bump the ticket's version a second time
        if refresh:
            clock_next = refresh_clock(ticket)
        else:
            clock = db.session.get(SlaClock, ticket.id)
            step = clock.next_step() if clock is not None else None
            clock_next = step[1] if step else None
        if Status(ticket.status) not in OPEN_STATUSES:
            return None
        if supervision_due is _UNSET:
            supervision_due = open_supervision_deadline([ticket.id]).get(ticket.id) if ticket.id else None
    candidates = [t for t in (clock_next, supervision_due) if t is not None]
    return min(candidates) if candidates else None


def refresh_next_deadline(ticket: Ticket) -> None:
    """Keep ``next_deadline_at`` the earliest pending ladder step of an open ticket (yellow, red, escalation,
    callback timeout, planned resume, a supervision response): every act on a ticket calls it."""
    ticket.next_deadline_at = next_step_at(ticket)
