"""Deadlines for tickets: the stored calendar and policies applied to the pure rules."""

from __future__ import annotations

import time as _time
from datetime import date, datetime, time

from flask import current_app
from sqlalchemy import select

from hotline.core.clock import LOCAL_TZ, to_local, to_utc_naive
from hotline.extensions import db
from hotline.sla.calendar import Deadline, WorkCalendar, add_hours, complete_years
from hotline.sla.models import CalendarSource, LimitUnit, SlaPolicy, WorkCalendarDay
from hotline.tickets.workflow import Appeal, Urgency

WD, H = LimitUnit.WORKING_DAYS.value, LimitUnit.HOURS.value
# Defaults (admins edit them in sla_policy): answer limits per appeal type; urgent work in hours.
DEFAULT_ANSWER_DAYS = {
    Appeal.CONSULTATION: 3,
    Appeal.HELP: 10,
    Appeal.COMPLAINT: 10,
    Appeal.REPORT: 10,
    Appeal.SUGGESTION: 15,
    Appeal.PRAISE: 15,
}
DEFAULT_URGENT = {Urgency.URGENT: (1, 24), Urgency.CRITICAL: (0.5, 2)}  # (sign hours, answer hours)
REDO_WORKING_DAYS = 3
# Ladder defaults (config keys override them).
LADDER_DEFAULTS = {
    "SLA_ESCALATION_WORKING_DAYS": 5,  # still overdue this many working days after red → one level up
    "SLA_CALLBACK_WORKING_DAYS": 3,  # no rating this many working days after release → not reached
    "SLA_ORDER_RESPONSE_WORKING_DAYS": 1,  # a 督办单 is answered within
    "SLA_URGING_RESPONSE_WORKING_DAYS": 1,  # a 催办 is answered within
}


def setting(name: str) -> int:
    return int(current_app.config.get(name, LADDER_DEFAULTS[name]))


def warning_window() -> tuple[float, float]:
    """(share of the limit, most working days) left when the yellow card comes: ``SLA_WARNING_SHARE``
    (default 0.2) and ``SLA_WARNING_WORKING_DAYS`` (default 1)."""
    from hotline.sla.calendar import WARNING_SHARE, WARNING_WORKING_DAYS

    share = float(current_app.config.get("SLA_WARNING_SHARE", WARNING_SHARE))
    days = float(current_app.config.get("SLA_WARNING_WORKING_DAYS", WARNING_WORKING_DAYS))
    return min(max(share, 0.0), 0.9), max(days, 0.0)  # a share of 0.9 still leaves a tenth of the time unwarned


def default_policies() -> list[dict]:
    rows = []
    for appeal in Appeal:
        rows.append(
            dict(
                appeal_type=appeal.value,
                urgency=Urgency.NORMAL.value,
                sign_limit=1,
                sign_unit=WD,
                answer_limit=DEFAULT_ANSWER_DAYS[appeal],
                answer_unit=WD,
            )
        )
        for urgency, (sign_h, answer_h) in DEFAULT_URGENT.items():
            rows.append(
                dict(
                    appeal_type=appeal.value,
                    urgency=urgency.value,
                    sign_limit=sign_h,
                    sign_unit=H,
                    answer_limit=answer_h,
                    answer_unit=H,
                )
            )
    return rows


def seed_default_policies() -> int:
    existing = {(p.appeal_type, p.urgency) for p in db.session.execute(select(SlaPolicy)).scalars()}
    added = 0
    for row in default_policies():
        if (row["appeal_type"], row["urgency"]) not in existing:
            db.session.add(SlaPolicy(**row))
            added += 1
    return added


def seed_calendar_from_package() -> int:
    """Copy the chinesecalendar package's days into the table; admin edits are kept."""
    from hotline.sla.calendar import from_chinesecalendar

    known = set(db.session.execute(select(WorkCalendarDay.day)).scalars())
    package = from_chinesecalendar()
    new_rows = [
        {"day": d, "is_workday": w, "source": CalendarSource.PACKAGE.value}
        for d, w in package.days.items()
        if d not in known
    ]
    if new_rows:
        db.session.execute(WorkCalendarDay.__table__.insert(), new_rows)
    invalidate_calendar()
    return len(new_rows)


_cache: dict = {"calendar": None, "loaded": 0.0}
_CACHE_SECONDS = 60  # other processes see an admin's calendar edit within a minute


def invalidate_calendar() -> None:
    _cache["calendar"] = None


def working_day_ends() -> time:
    """When a working day ends (``SLA_WORKDAY_ENDS``, ``HH:MM[:SS]`` Asia/Shanghai; default 23:59:59)."""
    value = current_app.config.get("SLA_WORKDAY_ENDS") or "23:59:59"
    return value if isinstance(value, time) else time.fromisoformat(value)


def current_calendar() -> WorkCalendar:
    if _cache["calendar"] is None or _time.monotonic() - _cache["loaded"] > _CACHE_SECONDS:
        rows = db.session.execute(select(WorkCalendarDay.day, WorkCalendarDay.is_workday, WorkCalendarDay.source)).all()
        days = {d: w for d, w, src in rows if src != CalendarSource.WEEKDAY.value}
        _cache.update(
            calendar=WorkCalendar(days=days, known_years=complete_years(days), day_ends=working_day_ends()),
            loaded=_time.monotonic(),
        )
    return _cache["calendar"]


def policy_for(appeal_type: str, urgency: str) -> dict:
    policy = db.session.execute(
        select(SlaPolicy).filter_by(appeal_type=appeal_type, urgency=urgency)
    ).scalar_one_or_none()
    if policy is not None:
        return dict(
            sign_limit=policy.sign_limit,
            sign_unit=policy.sign_unit,
            answer_limit=policy.answer_limit,
            answer_unit=policy.answer_unit,
        )
    return next(p for p in default_policies() if p["appeal_type"] == appeal_type and p["urgency"] == urgency)


def deadline_after(start_utc: datetime, limit: float, unit: str) -> Deadline:
    """A deadline ``limit`` working days or hours after ``start_utc`` (naive UTC in, naive UTC out)."""
    local_start = to_local(start_utc)
    if unit == H:
        result = add_hours(local_start, limit)
    else:
        result = current_calendar().add_working_days(local_start, int(limit))
    return Deadline(to_utc_naive(result.at), result.provisional)


# --- the calendar, edited by admins --------------------------------------------------------------------


def calendar_year(year: int) -> list[WorkCalendarDay]:
    return list(
        db.session.execute(
            select(WorkCalendarDay)
            .where(WorkCalendarDay.day >= date(year, 1, 1), WorkCalendarDay.day <= date(year, 12, 31))
            .order_by(WorkCalendarDay.day)
        ).scalars()
    )


def set_calendar_day(day: date, is_workday: bool, note: str | None = None) -> WorkCalendarDay:
    """An admin's edit of one day. Deadlines computed from now on use it; provisional ones are redone
    once the year is complete."""
    row = db.session.get(WorkCalendarDay, day)
    if row is None:
        row = WorkCalendarDay(day=day)
        db.session.add(row)
    row.is_workday, row.source, row.note = bool(is_workday), CalendarSource.ADMIN.value, (note or None)
    db.session.flush()
    invalidate_calendar()
    recompute_provisional_deadlines()
    return row


def import_calendar_year(parsed) -> dict:
    """Store every day of a parsed year (``hotline.sla.notice.CalendarYear``) as an admin entry."""
    existing = {r.day: r for r in calendar_year(parsed.year)}
    changed = 0
    for day, (is_workday, note) in sorted(parsed.days.items()):
        row = existing.get(day)
        if row is None:
            db.session.add(
                WorkCalendarDay(day=day, is_workday=is_workday, source=CalendarSource.ADMIN.value, note=note)
            )
            changed += 1
        elif row.is_workday != is_workday or row.note != note or row.source != CalendarSource.ADMIN.value:
            changed += row.is_workday != is_workday
            row.is_workday, row.note, row.source = is_workday, note, CalendarSource.ADMIN.value
    db.session.flush()
    invalidate_calendar()
    recomputed = recompute_provisional_deadlines()
    return {"year": parsed.year, "days": len(parsed.days), "changed": changed, "recomputed": recomputed}


def recompute_provisional_deadlines() -> int:
    """Redo every open ticket's provisional deadlines with the calendar as it is now.

    The deadlines are replayed from the ticket's history (``hotline.sla.services.replay_deadlines``): the
    last dispatch gives the sign and answer limits, a 不满意 rating the redo limit, an approved extension
    its requested day, and every suspension gives back the working days (or hours) it paused. A deadline
    stays provisional only if it still depends on a year the calendar does not know.
    """
    from hotline.tickets.models import ACTIVE_ASSIGNMENT_STATUSES, Ticket
    from hotline.tickets.services import _refresh_next_deadline
    from hotline.tickets.workflow import OPEN_STATUSES

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
        _refresh_next_deadline(ticket)
        count += 1
    db.session.flush()
    return count


DEADLINE_ACTIONS = ("dispatch", "rate_unsatisfied", "extension_approved", "suspend", "resume")


def _deadline_histories(ticket_ids: list[int]) -> dict[int, list]:
    """The events that set or move deadlines, per ticket, oldest first (one query)."""
    from hotline.tickets.models import TicketEvent

    if not ticket_ids:
        return {}
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.action, TicketEvent.created_at, TicketEvent.data)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.action.in_(DEADLINE_ACTIONS))
        .order_by(TicketEvent.ticket_id, TicketEvent.id)
    ).all()
    histories: dict[int, list] = {}
    for ticket_id, action, created_at, data in rows:
        histories.setdefault(ticket_id, []).append((action, created_at, data or {}))
    return histories


def replay_deadlines(ticket, history: list[tuple[str, datetime, dict]]) -> dict | None:
    """The sign and answer deadlines ``ticket`` has after ``history`` ((action, when, data), oldest
    first), with the calendar as it is now. None when the ticket was never dispatched.

    A suspension still running is not counted: resuming applies it, as it always does."""
    policy = policy_for(ticket.appeal_type, ticket.urgency)
    sign = answer = None
    unit, paused_at = policy["answer_unit"], None
    if not any(action == "dispatch" for action, _, _ in history):
        if ticket.dispatched_at is None:
            return None
        history = [("dispatch", ticket.dispatched_at, {})] + list(history)  # rows loaded without events
    for action, when, data in history:
        if action == "dispatch":
            sign = deadline_after(when, policy["sign_limit"], policy["sign_unit"])
            answer = deadline_after(when, policy["answer_limit"], policy["answer_unit"])
            unit, paused_at = policy["answer_unit"], None
        elif action == "rate_unsatisfied" and answer is not None:
            answer, unit = deadline_after(when, REDO_WORKING_DAYS, WD), WD
        elif action == "extension_approved" and answer is not None and data.get("deadline"):
            answer = extension_deadline(_asked_day(data))
        elif action == "suspend":
            paused_at = when
        elif action == "resume" and paused_at is not None and answer is not None:
            at, provisional = pause_deadline(answer.at, unit, paused_at, when)
            answer, paused_at = Deadline(at, provisional), None
    if answer is None:
        return None
    return {
        "sign": sign.at if sign else None,
        "answer": answer.at,
        "provisional": bool((sign.provisional if sign else False) or answer.provisional),
    }


def extension_deadline(day: date) -> Deadline:
    """An extension's deadline: the end of the ``day`` asked for (a day off moves it to the next working
    day), with today's calendar. Always from the day asked for: a weekend day that was moved to Monday
    while its year was unknown is a working day again once the notice makes it a make-up workday."""
    result = current_calendar().deadline_on(day, LOCAL_TZ)
    return Deadline(to_utc_naive(result.at), result.provisional)


def _asked_day(data: dict) -> date:
    """The day an extension event asked for; events from before it was recorded give their deadline's."""
    if data.get("day"):
        return date.fromisoformat(data["day"])
    return datetime.fromisoformat(data["deadline"]).astimezone(LOCAL_TZ).date()


# --- policies, edited by admins ------------------------------------------------------------------------


def all_policies() -> list[SlaPolicy]:
    order = {a.value: i for i, a in enumerate(Appeal)}
    urg = {u.value: i for i, u in enumerate(Urgency)}
    rows = list(db.session.execute(select(SlaPolicy)).scalars())
    return sorted(rows, key=lambda p: (order[p.appeal_type], urg[p.urgency]))


def update_policy(
    policy: SlaPolicy, *, sign_limit: float, sign_unit: str, answer_limit: float, answer_unit: str
) -> SlaPolicy:
    from flask_babel import lazy_gettext as _l

    from hotline.core.errors import ValidationFailed

    for limit, unit, field in ((sign_limit, sign_unit, "sign_limit"), (answer_limit, answer_unit, "answer_limit")):
        if unit not in (WD, H):
            raise ValidationFailed(_l("Invalid value."), field=field)
        if limit is None or limit <= 0 or (unit == WD and float(limit) != int(limit)):
            raise ValidationFailed(_l("A limit is a positive number (whole days for working days)."), field=field)
    policy.sign_limit, policy.sign_unit = sign_limit, sign_unit
    policy.answer_limit, policy.answer_unit = answer_limit, answer_unit
    db.session.flush()
    return policy


# --- the ladder's clock for one ticket -----------------------------------------------------------------


def _watched_deadline(ticket) -> tuple[str | None, datetime | None]:
    """Which deadline of ``ticket`` runs now, by its status."""
    from hotline.sla.models import ClockKind
    from hotline.tickets.models import SuspensionRequest
    from hotline.tickets.workflow import Status

    status = Status(ticket.status)
    if status is Status.DISPATCHED:
        return ClockKind.SIGN.value, ticket.sign_deadline_at
    if status in (Status.IN_PROGRESS, Status.RETURN_REQUESTED):
        return ClockKind.ANSWER.value, ticket.answer_deadline_at
    if status is Status.PENDING_CALLBACK:
        released = ticket.answered_at or ticket.updated_at
        return ClockKind.CALLBACK.value, deadline_after(released, setting("SLA_CALLBACK_WORKING_DAYS"), WD).at
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


def refresh_clock(ticket) -> datetime | None:
    """Point the ladder at the deadline that runs now and return the ladder's next due step time.

    A new deadline (another phase, an extension, a resume, a redo) starts the ladder afresh;
    the same deadline keeps the steps already taken.
    """
    from hotline.sla.models import ClockKind, LadderStage, SlaClock
    from hotline.tickets.models import WarningLevel

    kind, deadline = _watched_deadline(ticket)
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


def ladder_times(ticket, kind: str, deadline: datetime, policy: dict | None = None) -> tuple[datetime, datetime]:
    """(yellow card time, escalation time) for a working-day or hour deadline (naive UTC)."""
    from hotline.sla.calendar import yellow_card_at
    from hotline.sla.models import ClockKind

    policy = policy or policy_for(ticket.appeal_type, ticket.urgency)
    limit, unit = (
        (policy["sign_limit"], policy["sign_unit"])
        if kind == ClockKind.SIGN.value
        else (policy["answer_limit"], policy["answer_unit"])
    )
    if kind == ClockKind.ANSWER.value and ticket.redo_count:
        limit, unit = REDO_WORKING_DAYS, WD
    calendar = current_calendar()
    local = to_local(deadline)
    warn = to_utc_naive(yellow_card_at(local, limit, unit, calendar, *warning_window()))
    escalate = to_utc_naive(calendar.add_working_days(local, setting("SLA_ESCALATION_WORKING_DAYS")).at)
    return warn, escalate


def recompute_warnings(now: datetime, batch_size: int = 500, commit=None) -> dict[str, int]:
    """Put every open ticket's sign-for or answer clock on the yellow-card rule in force (``yellow_card_at``,
    ``SLA_WARNING_SHARE``, ``SLA_WARNING_WORKING_DAYS``): run once after the rule or those settings change
    (``flask sla rewarn``). A yellow card shown before the time the rule now gives is taken back and comes
    again at that time. In batches by ticket id; the boundary passes ``commit`` (the CLI commits each)."""
    from hotline.sla.models import ClockKind, LadderStage, SlaClock
    from hotline.tickets.models import Ticket, WarningLevel
    from hotline.tickets.services import _refresh_next_deadline
    from hotline.tickets.workflow import OPEN_STATUSES

    policies = {(p["appeal_type"], p["urgency"]): p for p in default_policies()}
    policies.update(
        {
            (p.appeal_type, p.urgency): dict(
                sign_limit=p.sign_limit, sign_unit=p.sign_unit, answer_limit=p.answer_limit, answer_unit=p.answer_unit
            )
            for p in all_policies()
        }
    )
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
            warn = ladder_times(ticket, clock.kind, clock.deadline_at, policies[(ticket.appeal_type, ticket.urgency)])[
                0
            ]
            withdraw = clock.stage == LadderStage.YELLOW and now < warn
            if warn == clock.warn_at and not withdraw:
                continue
            clock.warn_at = warn
            counts["moved"] += 1
            if withdraw:
                clock.stage, ticket.warning_level = LadderStage.NONE, WarningLevel.NONE.value
                counts["withdrawn"] += 1
            _refresh_next_deadline(ticket)
        db.session.flush()
        last = rows[-1][0].ticket_id
        if commit is not None:
            commit()


def open_supervision_deadline(ticket_ids) -> dict[int, datetime]:
    """The earliest unanswered, not yet overdue response deadline of each ticket's 督办单 and 催办."""
    from sqlalchemy import func, union_all

    from hotline.sla.bulk import among
    from hotline.sla.models import SupervisionOrder, Urging

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
    return dict(db.session.execute(select(both.c.ticket_id, func.min(both.c.due)).group_by(both.c.ticket_id)).all())


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


_UNSET = object()


def next_step_at(ticket, supervision_due=_UNSET, *, refresh: bool = True) -> datetime | None:
    """The earliest pending ladder step of ``ticket``: its clock's next step or an unanswered
    supervision record's response deadline. None once the ticket is finished."""
    from hotline.sla.models import SlaClock
    from hotline.tickets.workflow import OPEN_STATUSES, Status

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


# --- supervision by hand: 催办 and 督办单 -------------------------------------------------------------------


def _require_supervisor(ticket, actor):
    from flask_babel import lazy_gettext as _l

    from hotline.accounts.models import Role
    from hotline.core.errors import PermissionDenied

    units = [ticket.intake_unit, *(a.unit for a in ticket.active_assignments())]
    if not (actor.has_role(Role.SUPERVISOR) and any(actor.in_scope(u, Role.SUPERVISOR) for u in units)):
        raise PermissionDenied(_l("Only a supervisor over this ticket may do this."))


def _supervise(model, ticket, actor, message: str, action: str, template: str, days_setting: str):
    from flask_babel import lazy_gettext as _l

    from hotline.core.clock import utcnow
    from hotline.core.errors import InvalidTransition, ValidationFailed
    from hotline.notify.services import notify_users
    from hotline.sla.ladder import _Context
    from hotline.sla.models import SupervisionSource
    from hotline.tickets.services import _refresh_next_deadline, record_event
    from hotline.tickets.workflow import OPEN_STATUSES, Status

    _require_supervisor(ticket, actor)
    if Status(ticket.status) not in OPEN_STATUSES or ticket.lead_unit is None:
        raise InvalidTransition(_l("Only an open ticket at a unit can be pressed."))
    if not (message or "").strip():
        raise ValidationFailed(_l("A message is required."), field="message")
    now = utcnow()
    due = deadline_after(now, setting(days_setting), WD).at
    record = model(
        ticket_id=ticket.id,
        unit=ticket.lead_unit,
        issued_by_id=actor.id,
        message=message.strip(),
        source=SupervisionSource.MANUAL.value,
        response_deadline=due,
        created_at=now,
    )
    db.session.add(record)
    record_event(
        ticket,
        action,
        actor,
        note=message.strip(),
        at=now,
        data={"unit": ticket.lead_unit.code, "response_deadline": to_local(due).isoformat()},
    )
    context = _Context()
    notify_users(
        context.recipients(ticket.lead_unit),
        template,
        ticket=ticket,
        email=True,
        payload={
            "tracking_no": ticket.tracking_no,
            "unit": ticket.lead_unit.name,
            "response_deadline": to_local(due).strftime("%Y-%m-%d %H:%M"),
        },
    )
    ticket.updated_at = now  # every act on a ticket bumps its version
    db.session.flush()
    _refresh_next_deadline(ticket)
    db.session.flush()
    return record


def urge_ticket(ticket, actor, message: str):
    """催办: press the lead unit; it answers by the urging's response deadline."""
    from hotline.sla.models import Urging

    return _supervise(Urging, ticket, actor, message, "urged", "urging", "SLA_URGING_RESPONSE_WORKING_DAYS")


def issue_supervision_order(ticket, actor, message: str):
    """督办单: a formal order to the lead unit, with its own response deadline on the ladder.

    One per ticket and stage (the deadline watched now): while an order of that stage, the ladder's or a
    supervisor's, waits for the unit's answer, another is refused. A new deadline (an extension, a redo,
    signing) is a new stage."""
    from flask_babel import lazy_gettext as _l

    from hotline.core.errors import InvalidTransition
    from hotline.sla.models import SupervisionOrder

    _require_supervisor(ticket, actor)
    kind, deadline = _watched_deadline(ticket)
    waiting = db.session.execute(
        select(SupervisionOrder)
        .where(
            SupervisionOrder.ticket_id == ticket.id,
            SupervisionOrder.responded_at.is_(None),
            (SupervisionOrder.clock_kind.is_(None))  # an order from before stages were recorded
            | ((SupervisionOrder.clock_kind == kind) & (SupervisionOrder.clock_deadline_at == deadline)),
        )
        .order_by(SupervisionOrder.id)
        .limit(1)
    ).scalar()
    if waiting is not None:
        raise InvalidTransition(
            _l(
                "A supervision order issued %(issued)s is still waiting for %(unit)s's answer (due %(due)s): no second "
                "order for this deadline. Urge the unit instead, or wait for its answer.",
                issued=to_local(waiting.created_at).strftime("%Y-%m-%d %H:%M"),
                unit=waiting.unit.name,
                due=to_local(waiting.response_deadline).strftime("%Y-%m-%d %H:%M")
                if waiting.response_deadline
                else "—",
            )
        )
    record = _supervise(
        SupervisionOrder,
        ticket,
        actor,
        message,
        "supervision_order",
        "supervision_order",
        "SLA_ORDER_RESPONSE_WORKING_DAYS",
    )
    record.clock_kind, record.clock_deadline_at = kind, deadline
    return record


def respond_to_supervision(record, actor, response: str):
    """The unit's answer to a 催办 or 督办单: the record leaves the ladder."""
    from flask_babel import lazy_gettext as _l

    from hotline.accounts.models import Role
    from hotline.core.clock import utcnow
    from hotline.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
    from hotline.tickets.services import _refresh_next_deadline, record_event

    if not actor.in_scope(record.unit, Role.HANDLER):
        raise PermissionDenied(_l("This ticket is outside your units."))
    if record.responded_at is not None:
        raise InvalidTransition(_l("This has already been answered."))
    if not (response or "").strip():
        raise ValidationFailed(_l("A response is required."), field="response")
    now = utcnow()
    record.response, record.responded_at = response.strip(), now
    record_event(
        record_ticket(record),
        "supervision_answered",
        actor,
        note=response.strip(),
        at=now,
        data={"record": record.id, "kind": record.__tablename__},
    )
    record_ticket(record).updated_at = now
    db.session.flush()
    _refresh_next_deadline(record_ticket(record))
    db.session.flush()
    return record


def record_ticket(record):
    from hotline.tickets.models import Ticket

    return db.session.get(Ticket, record.ticket_id)


# --- extension (延期) and suspension (挂起) requests ---------------------------------------------------------


def request_extension(ticket, actor, new_deadline_utc: datetime, reason: str):
    """A lead-unit handler asks, before the answer deadline, for a later one."""
    from flask_babel import lazy_gettext as _l

    from hotline.core.clock import utcnow
    from hotline.core.errors import InvalidTransition, ValidationFailed
    from hotline.tickets.models import ExtensionRequest, RequestState
    from hotline.tickets.services import _lead_assignment_for, record_event
    from hotline.tickets.workflow import Status

    if ticket.status != Status.IN_PROGRESS.value:
        raise InvalidTransition(_l("An extension can only be asked while the ticket is in progress."))
    assignment = _lead_assignment_for(ticket, actor)
    now = utcnow()
    if not (reason or "").strip():
        raise ValidationFailed(_l("A reason is required."), field="reason")
    if ticket.answer_deadline_at and now > ticket.answer_deadline_at:
        raise ValidationFailed(_l("An extension must be asked before the deadline passes."), field="deadline")
    if ticket.answer_deadline_at and new_deadline_utc <= ticket.answer_deadline_at:
        raise ValidationFailed(_l("The new deadline must be later than the current one."), field="deadline")
    if any(r.state == RequestState.PENDING.value for r in _requests(ExtensionRequest, ticket)):
        raise InvalidTransition(_l("An extension request is already waiting for a decision."))
    day = to_local(new_deadline_utc).date()
    req = ExtensionRequest(
        ticket_id=ticket.id,
        unit_id=assignment.unit_id,
        requested_by_id=actor.id,
        reason=reason.strip(),
        requested_deadline=extension_deadline(day).at,
        created_at=now,
    )
    db.session.add(req)
    # The event keeps the day asked for: the deadline is computed from it again when decided.
    record_event(
        ticket,
        "extension_requested",
        actor,
        note=reason.strip(),
        at=now,
        data={"deadline": to_local(req.requested_deadline).isoformat(), "day": day.isoformat()},
    )
    _notify_supervisors(
        ticket, "extension_requested", {"deadline": to_local(req.requested_deadline).strftime("%Y-%m-%d %H:%M")}
    )
    db.session.flush()
    return req


def _requested_day(req) -> date:
    """The day ``req`` asked for, from its request event (written in the same flush, same time)."""
    from hotline.tickets.models import TicketEvent

    data = db.session.execute(
        select(TicketEvent.data)
        .where(
            TicketEvent.ticket_id == req.ticket_id,
            TicketEvent.action == "extension_requested",
            TicketEvent.created_at == req.created_at,
        )
        .order_by(TicketEvent.id.desc())
        .limit(1)
    ).scalar()
    return _asked_day(data or {"deadline": to_local(req.requested_deadline).isoformat()})


def decide_extension(req, actor, approve: bool, note: str | None = None):
    from flask_babel import lazy_gettext as _l

    from hotline.core.clock import utcnow
    from hotline.core.errors import InvalidTransition
    from hotline.tickets.models import RequestState
    from hotline.tickets.services import _refresh_next_deadline, record_event

    ticket = record_ticket(req)
    _require_supervisor(ticket, actor)
    if req.state != RequestState.PENDING.value:
        raise InvalidTransition(_l("This request has already been decided."))
    now = utcnow()
    req.state = (RequestState.APPROVED if approve else RequestState.DENIED).value
    req.decided_by_id, req.decided_at, req.decision_note = actor.id, now, note
    day = _requested_day(req)
    if approve:
        # With the calendar of now: the year's notice may have come in since the request.
        deadline = extension_deadline(day)
        old, req.requested_deadline = ticket.answer_deadline_at, deadline.at
        ticket.answer_deadline_at, ticket.deadline_provisional = deadline.at, deadline.provisional
        for a in ticket.active_assignments():
            if a.answer_deadline_at == old:
                a.answer_deadline_at = deadline.at
    record_event(
        ticket,
        "extension_approved" if approve else "extension_denied",
        actor,
        note=note,
        at=now,
        data={"deadline": to_local(req.requested_deadline).isoformat(), "day": day.isoformat()},
    )
    ticket.updated_at = now
    _notify_unit(ticket, "extension_decided", {"decision": "approved" if approve else "denied"})
    db.session.flush()
    _refresh_next_deadline(ticket)
    db.session.flush()
    return req


def request_suspension(ticket, actor, reason: str, resume_by_utc: datetime | None = None):
    from flask_babel import lazy_gettext as _l

    from hotline.core.clock import utcnow
    from hotline.core.errors import InvalidTransition, ValidationFailed
    from hotline.tickets.models import RequestState, SuspensionRequest
    from hotline.tickets.services import _lead_assignment_for, record_event
    from hotline.tickets.workflow import Status

    if ticket.status != Status.IN_PROGRESS.value:
        raise InvalidTransition(_l("A suspension can only be asked while the ticket is in progress."))
    assignment = _lead_assignment_for(ticket, actor)
    if not (reason or "").strip():
        raise ValidationFailed(_l("A reason is required."), field="reason")
    now = utcnow()
    if resume_by_utc is not None and resume_by_utc <= now:
        raise ValidationFailed(_l("The planned end must lie in the future."), field="resume_by")
    if any(r.state == RequestState.PENDING.value for r in _requests(SuspensionRequest, ticket)):
        raise InvalidTransition(_l("A suspension request is already waiting for a decision."))
    req = SuspensionRequest(
        ticket_id=ticket.id,
        unit_id=assignment.unit_id,
        requested_by_id=actor.id,
        reason=reason.strip(),
        resume_by=resume_by_utc,
        created_at=now,
    )
    db.session.add(req)
    record_event(ticket, "suspension_requested", actor, note=reason.strip(), at=now)
    _notify_supervisors(ticket, "suspension_requested", {})
    db.session.flush()
    return req


def decide_suspension(req, actor, approve: bool, note: str | None = None):
    """Approval suspends the ticket through the workflow (the clock stops); denial records the decision."""
    from flask_babel import lazy_gettext as _l

    from hotline.core.clock import utcnow
    from hotline.core.errors import InvalidTransition
    from hotline.tickets.models import RequestState
    from hotline.tickets.services import apply_transition, record_event

    ticket = record_ticket(req)
    _require_supervisor(ticket, actor)
    if req.state != RequestState.PENDING.value:
        raise InvalidTransition(_l("This request has already been decided."))
    now = utcnow()
    req.decided_by_id, req.decided_at, req.decision_note = actor.id, now, note
    if approve:
        req.state = RequestState.APPROVED.value
        db.session.flush()
        apply_transition(ticket, "suspend", actor, note=req.reason)
    else:
        req.state = RequestState.DENIED.value
        record_event(ticket, "suspension_denied", actor, note=note, at=now)
        ticket.updated_at = now
    _notify_unit(ticket, "suspension_decided", {"decision": "approved" if approve else "denied"})
    db.session.flush()
    return req


def _requests(model, ticket) -> list:
    return list(db.session.execute(select(model).where(model.ticket_id == ticket.id)).scalars())


def _notify_supervisors(ticket, template: str, extra: dict) -> None:
    from hotline.notify.services import notify_users
    from hotline.sla.ladder import _Context

    unit = ticket.lead_unit
    notify_users(
        _Context().supervisors_over(ticket.intake_unit),
        template,
        ticket=ticket,
        payload={"tracking_no": ticket.tracking_no, "unit": unit.name if unit else "", **extra},
    )


def _notify_unit(ticket, template: str, extra: dict) -> None:
    from hotline.notify.services import notify_users
    from hotline.sla.ladder import _Context

    unit = ticket.lead_unit
    notify_users(
        _Context().recipients(unit),
        template,
        ticket=ticket,
        payload={"tracking_no": ticket.tracking_no, "unit": unit.name if unit else "", **extra},
    )
