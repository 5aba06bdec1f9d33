"""Keeping the KPI rollups, the hotspot alerts, projects and the export log.

``rollup_day`` reads one day's facts from the history (dispatches, signs, released answers, approved
returns, ratings, registrations) with a handful of set queries, counts them with the formulas of
``hotline.dashboard.kpis`` and replaces that day's rollup rows. Celery runs it every few minutes for
today and once after midnight for the day that just ended (then the day is final). Services flush,
the caller commits.
"""

from __future__ import annotations

import time as _time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Label, Row, and_, delete, func, insert, select

from hotline.archive.queries import archived_until
from hotline.core.clock import LOCAL_TZ, to_local, to_utc_naive, utcnow
from hotline.core.errors import DomainError, NotFound
from hotline.dashboard import kpis
from hotline.dashboard.models import (
    ExportRecord,
    HotspotAlertRow,
    KpiIntakeDay,
    KpiRollupRun,
    KpiSnapshot,
    KpiUnitDay,
    LivelihoodProject,
    project_ticket,
)
from hotline.extensions import db
from hotline.tickets.models import Assignment, AssignmentRole, Reply, ReplyState, Ticket, TicketEvent

if TYPE_CHECKING:
    from hotline.accounts.models import User

CATCH_UP_DAYS = 62  # how far back the nightly run fills days it never finalised
# History rows the rollup reads: (ticket_id, action, data, created_at); a day's events add the lead_unit_id.
_ClockEvent = Row[tuple[int, str, dict[str, Any] | None, datetime]]
_DayEvent = Row[tuple[int, str, dict[str, Any] | None, datetime, int | None]]
_IntakeKey = tuple[str, int, int]  # channel, category_id (0: none), district_id (0: none)


def weights() -> dict[str, float]:
    return {**kpis.DEFAULT_SATISFACTION_WEIGHTS, **(current_app.config.get("KPI_SATISFACTION_WEIGHTS") or {})}


def local_today(now: datetime | None = None) -> date:
    return to_local(now or utcnow()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local day as naive UTC."""
    start = datetime.combine(day, time.min, tzinfo=LOCAL_TZ)
    return to_utc_naive(start), to_utc_naive(start + timedelta(days=1))


def _is_workday() -> Callable[[date], bool]:
    from hotline.sla.policy import current_calendar

    calendar = current_calendar()
    return lambda d: calendar.is_workday(d)[0]


# --- the rollup ----------------------------------------------------------------------------------------------


def rollup_day(day: date, *, final: bool = False) -> dict[str, object]:
    """Recount ``day`` and replace its rollup rows. Idempotent."""
    started = _time.monotonic()
    lo, hi = day_bounds(day)
    units, intake, registered = count_facts(lo, hi)
    _replace_day(day, units, intake)
    db.session.execute(delete(KpiSnapshot))  # computed from the rows just replaced: gone until refreshed
    run = db.session.get(KpiRollupRun, day) or KpiRollupRun(day=day)
    run.computed_at, run.final = utcnow(), final or run.final
    run.seconds = round(_time.monotonic() - started, 3)
    db.session.add(run)
    db.session.flush()
    return {"day": day.isoformat(), "units": len(units), "registered": registered, "seconds": run.seconds}


def count_facts(
    lo: datetime, hi: datetime, ticket_ids: Sequence[int] | None = None
) -> tuple[dict[int, kpis.UnitCounts], dict[_IntakeKey, list[int]], int]:
    """Per unit, the facts that became final in [lo, hi) (naive UTC): the rollup's counting, read only.
    ``ticket_ids``: only those tickets' facts (an assessment takes one ticket's share out of a unit's period).
    Returns the units' counts, the intake counts and how many tickets were registered."""
    is_workday = _is_workday()

    def only(column: Any) -> list[Any]:
        return [] if ticket_ids is None else [column.in_(list(ticket_ids))]

    units: dict[int, kpis.UnitCounts] = defaultdict(kpis.UnitCounts)
    intake: dict[_IntakeKey, list[int]] = defaultdict(lambda: [0, 0, 0])

    # Registrations (intake unit), direct answers and repeat appeals.
    registered = db.session.execute(
        select(
            Ticket.id,
            Ticket.channel,
            Ticket.category_id,
            Ticket.district_id,
            Ticket.intake_unit_id,
            Ticket.status,
            _repeat_flag(),
        ).where(Ticket.created_at >= lo, Ticket.created_at < hi, *only(Ticket.id))
    ).all()
    direct_ids = set(
        db.session.execute(
            select(TicketEvent.ticket_id).where(
                TicketEvent.action == "answer_directly",
                TicketEvent.created_at >= lo,
                TicketEvent.created_at < hi,
                *only(TicketEvent.ticket_id),
            )
        ).scalars()
    )
    repeat_ids = set()
    for tid, channel, category_id, district_id, intake_unit_id, _status, repeat in registered:
        c = units[intake_unit_id]
        c.registered += 1
        c.direct_answered += tid in direct_ids
        c.repeat += bool(repeat)
        if repeat:
            repeat_ids.add(tid)
        row = intake[(channel, category_id or 0, district_id or 0)]
        row[0] += 1
        row[1] += tid in direct_ids
        row[2] += bool(repeat)

    # Dispatches to lead units (the top of any pass-down chain is accountable).
    top_lead = and_(Assignment.role == AssignmentRole.LEAD.value, Assignment.parent_id.is_(None))
    for unit_id, count in db.session.execute(
        select(Assignment.unit_id, func.count())
        .where(top_lead, Assignment.dispatched_at >= lo, Assignment.dispatched_at < hi, *only(Assignment.ticket_id))
        .group_by(Assignment.unit_id)
    ).all():
        units[unit_id].dispatched += count

    # Signs: on time against the assignment's sign deadline; time since dispatch in working hours.
    for unit_id, dispatched_at, signed_at, deadline in db.session.execute(
        select(Assignment.unit_id, Assignment.dispatched_at, Assignment.signed_at, Assignment.sign_deadline_at).where(
            top_lead, Assignment.signed_at >= lo, Assignment.signed_at < hi, *only(Assignment.ticket_id)
        )
    ).all():
        units[unit_id].record_sign(
            kpis.working_hours(to_local(dispatched_at), to_local(signed_at), is_workday),
            kpis.is_on_time(signed_at, deadline),
        )

    # Answers released today (after review; a sent-back answer never counts).
    released = db.session.execute(
        select(
            Reply.ticket_id,
            Reply.submitted_at,
            Assignment.unit_id,
            Assignment.dispatched_at,
            Assignment.answer_deadline_at,
        )
        .join(Assignment, Assignment.id == Reply.assignment_id)
        .where(
            Reply.state == ReplyState.APPROVED.value,
            Reply.released_at >= lo,
            Reply.released_at < hi,
            *only(Reply.ticket_id),
        )
    ).all()
    history = _clock_events({r.ticket_id for r in released})
    for ticket_id, submitted_at, unit_id, dispatched_at, current_deadline in released:
        start, pauses, deadline = _answer_clock(
            history.get(ticket_id, []), dispatched_at, submitted_at, current_deadline
        )
        hours = kpis.working_hours(
            to_local(start), to_local(submitted_at), is_workday, [(to_local(a), to_local(b)) for a, b in pauses]
        )
        units[unit_id].record_answer(hours, kpis.is_on_time(submitted_at, deadline))

    # Approved returns, redos and callbacks: counted for the unit that held the ticket.
    actions = ("approve_return", "rate_satisfied", "rate_unsatisfied", "close_unreached")
    events = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.action, TicketEvent.data, TicketEvent.created_at, Ticket.lead_unit_id)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.action.in_(actions),
            TicketEvent.created_at >= lo,
            TicketEvent.created_at < hi,
            *only(TicketEvent.ticket_id),
        )
    ).all()
    returned_units = _returning_units([e for e in events if e.action == "approve_return"])
    for ticket_id, action, data, at, lead_unit_id in events:
        if action == "approve_return":
            unit_id = returned_units.get((ticket_id, at))
            if unit_id:
                units[unit_id].returned += 1
        elif lead_unit_id:
            c = units[lead_unit_id]
            if action == "rate_satisfied":
                c.record_rating((data or {}).get("satisfaction", "satisfied"))
            elif action == "rate_unsatisfied":
                c.record_rating("unsatisfied")
                c.redone += 1
            else:
                c.record_rating("not_reached")
    return units, intake, len(registered)


def _repeat_flag() -> Label[bool]:
    """True when the same phone filed in the same category within the repeat window before."""
    earlier = Ticket.__table__.alias("earlier")
    return (
        select(earlier.c.id)
        .where(
            earlier.c.citizen_phone == Ticket.citizen_phone,
            earlier.c.category_id == Ticket.category_id,
            earlier.c.created_at < Ticket.created_at,
            earlier.c.created_at >= Ticket.created_at - timedelta(days=kpis.REPEAT_WINDOW_DAYS),
            earlier.c.id != Ticket.id,
        )
        .exists()
        .label("repeat")
    )


def _clock_events(ticket_ids: set[int]) -> dict[int, list[_ClockEvent]]:
    if not ticket_ids:
        return {}
    history: dict[int, list[_ClockEvent]] = defaultdict(list)
    for chunk in _chunks(ticket_ids):
        for row in db.session.execute(
            select(TicketEvent.ticket_id, TicketEvent.action, TicketEvent.data, TicketEvent.created_at)
            .where(
                TicketEvent.ticket_id.in_(chunk),
                TicketEvent.action.in_(("suspend", "resume", "rate_unsatisfied", "extension_approved")),
            )
            .order_by(TicketEvent.ticket_id, TicketEvent.id)
        ).all():
            history[row.ticket_id].append(row)
    return history


IN_CHUNK = 10_000  # ids per IN list (PostgreSQL takes at most 65,535 parameters a statement)


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[i : i + IN_CHUNK] for i in range(0, len(ordered), IN_CHUNK)]


def _answer_clock(
    events: Sequence[_ClockEvent], dispatched_at: datetime, submitted_at: datetime, current_deadline: datetime | None
) -> tuple[datetime, list[tuple[datetime, datetime]], datetime | None]:
    """(clock start, suspended intervals, deadline in force) for an answer submitted at ``submitted_at``.

    A redo restarts the clock at the 不满意 rating. The deadline in force is the current one unless the
    ticket was redone after this answer: then it is the deadline before the redo (the one recorded by
    a later pause or extension, else the current one).
    """
    start, paused_at = dispatched_at, None
    pauses: list[tuple[datetime, datetime]] = []
    for e in events:
        if e.created_at > submitted_at:
            break
        if e.action == "rate_unsatisfied":
            start, pauses = e.created_at, []
        elif e.action == "suspend":
            paused_at = e.created_at
        elif e.action == "resume" and paused_at is not None:
            if paused_at >= start:
                pauses.append((paused_at, e.created_at))
            paused_at = None
    if paused_at is not None:
        pauses.append((paused_at, submitted_at))
    deadline = current_deadline
    later_redo = any(e.action == "rate_unsatisfied" and e.created_at > submitted_at for e in events)
    if later_redo:
        before = [
            e
            for e in events
            if e.created_at <= submitted_at
            and e.action in ("resume", "extension_approved")
            and (e.data or {}).get("answer_deadline" if e.action == "resume" else "deadline")
        ]
        if before:
            deadline = _deadline_from(before[-1])
    return start, pauses, deadline


def _deadline_from(event: _ClockEvent) -> datetime | None:
    value = event.data.get("answer_deadline" if event.action == "resume" else "deadline")
    moment = datetime.fromisoformat(value)
    return to_utc_naive(moment) if moment.tzinfo else moment  # resume stores naive UTC, extensions local


def _returning_units(events: Sequence[_DayEvent]) -> dict[tuple[int, datetime], int]:
    """The lead unit whose return was approved at each approve_return event."""
    if not events:
        return {}
    by_ticket: dict[int, list[Row[tuple[int, int, datetime]]]] = defaultdict(list)
    for chunk in _chunks({e.ticket_id for e in events}):
        for row in db.session.execute(
            select(Assignment.ticket_id, Assignment.unit_id, Assignment.dispatched_at)
            .where(
                Assignment.ticket_id.in_(chunk),
                Assignment.role == AssignmentRole.LEAD.value,
                Assignment.parent_id.is_(None),
                Assignment.status == "returned",
            )
            .order_by(Assignment.dispatched_at)
        ).all():
            by_ticket[row.ticket_id].append(row)
    result: dict[tuple[int, datetime], int] = {}
    for e in events:
        before = [a for a in by_ticket.get(e.ticket_id, []) if a.dispatched_at <= e.created_at]
        if before:
            result[(e.ticket_id, e.created_at)] = before[-1].unit_id
    return result


def _replace_day(day: date, units: dict[int, kpis.UnitCounts], intake: dict[_IntakeKey, list[int]]) -> None:
    db.session.execute(delete(KpiUnitDay).where(KpiUnitDay.day == day))
    db.session.execute(delete(KpiIntakeDay).where(KpiIntakeDay.day == day))
    unit_rows = []
    for unit_id, c in units.items():
        row = c.as_row()
        row.update(day=day, unit_id=unit_id, sign_hist=c.sign_hist or None, answer_hist=c.answer_hist or None)
        unit_rows.append(row)
    if unit_rows:
        db.session.execute(insert(KpiUnitDay), unit_rows)
    intake_rows = [
        dict(
            day=day,
            channel=channel,
            category_id=category_id,
            district_id=district_id,
            registered=n,
            direct_answered=direct,
            repeat=repeat,
        )
        for (channel, category_id, district_id), (n, direct, repeat) in intake.items()
    ]
    if intake_rows:
        db.session.execute(insert(KpiIntakeDay), intake_rows)


def rollup_today(now: datetime | None = None) -> dict[str, object]:
    """Today's running figures and the hotspot alerts (every few minutes)."""
    now = now or utcnow()
    rollup_closed_days(now)  # nothing to do unless a day ended (or the worker was down)
    result = rollup_day(local_today(now))
    result["hotspots"] = refresh_hotspots(now)
    result["snapshots"] = refresh_snapshots(now)
    return result


PUBLIC_MONTHS = 6  # the public page's category trend, and the months it offers


def preset_periods(today: date) -> list[tuple[str, date, date]]:
    """The period picker's presets (the default, the last 30 days, second)."""
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return [
        ("last_7_days", today - timedelta(days=6), today),
        ("last_30_days", today - timedelta(days=29), today),
        ("this_month", month_start, today),
        ("last_month", last_month_end.replace(day=1), last_month_end),
    ]


def refresh_snapshots(now: datetime | None = None) -> int:
    """Compute the figures pages ask for most into ``kpi_snapshot`` rows: the preset periods for every
    unit a supervisor or admin watches, and the public page's months and trend. Returns the count."""
    from hotline.dashboard import queries

    now = now or utcnow()
    today, w = local_today(now), weights()
    payloads: dict[str, object] = {}
    for scope in queries.snapshot_scopes():
        for _name, start, end in preset_periods(today):
            key = queries.period_key(scope.id, start, end, w)
            if key not in payloads:
                payloads[key] = queries.compute_period(scope, start, end, w)
    months = queries.last_months(today, PUBLIC_MONTHS)
    for start, end in months:
        payloads[queries.public_key(start, end, w)] = queries.public_unit_month(start, end, w)
    payloads[queries.trend_key(months)] = queries.category_trend(months)
    public = queries.project_boards([p.id for p in queries.projects(public_only=True)])
    payloads[queries.PUBLIC_PROJECTS_KEY] = {str(pid): board for pid, board in public.items()}
    db.session.execute(delete(KpiSnapshot))
    db.session.execute(insert(KpiSnapshot), [dict(key=k, payload=v, computed_at=now) for k, v in payloads.items()])
    db.session.flush()
    return len(payloads)


def rollup_closed_days(
    now: datetime | None = None, commit: Callable[[], None] | None = None
) -> list[dict[str, object]]:
    """Finalise every ended day not final yet (yesterday, and any the worker missed), oldest first."""
    now = now or utcnow()
    today = local_today(now)
    first = today - timedelta(days=CATCH_UP_DAYS)
    earliest = db.session.execute(select(func.min(Ticket.created_at))).scalar()
    if earliest is None:
        return []
    first = max(first, local_today(earliest))
    done = set(
        db.session.execute(
            select(KpiRollupRun.day).where(KpiRollupRun.final.is_(True), KpiRollupRun.day >= first)
        ).scalars()
    )
    results: list[dict[str, object]] = []
    day = first
    while day < today:
        if day not in done:
            results.append(rollup_day(day, final=True))
            if commit:
                commit()
        day += timedelta(days=1)
    return results


def rebuild(start: date, end: date, commit: Callable[[], None] | None = None) -> int:
    """Recount every day of [start, end] (an admin's repair after a calendar correction). Days whose facts
    are partly in the archive are refused: recounting them from the working tables would lose those."""
    horizon = archived_until()
    if horizon is not None and start <= local_today(horizon):
        raise DomainError(
            _l(
                "Days up to %(day)s include archived tickets: restore them first (flask archive restore "
                "--closed-after) or rebuild from a later day.",
                day=local_today(horizon).isoformat(),
            ),
            field="from",
        )
    today, day, n = local_today(), start, 0
    while day <= end:
        rollup_day(day, final=day < today)
        if commit:
            commit()
        day, n = day + timedelta(days=1), n + 1
    return n


def refresh_hotspots(now: datetime | None = None) -> int:
    now = now or utcnow()
    since = now - timedelta(days=kpis.HOTSPOT_WINDOW_DAYS)
    rows = db.session.execute(
        select(Ticket.id, Ticket.created_at, Ticket.address, Ticket.category_id, Ticket.district_id).where(
            Ticket.created_at >= since, Ticket.merged_into_id.is_(None)
        )
    ).tuples()
    alerts = kpis.hotspot_alerts(rows.all())
    db.session.execute(delete(HotspotAlertRow))
    if alerts:
        db.session.execute(
            insert(HotspotAlertRow),
            [
                dict(
                    place=a.place[:255],
                    category_id=a.category_id,
                    district_id=a.district_id or 0,
                    ticket_count=a.count,
                    ticket_ids=list(a.ticket_ids),
                    first_at=a.first_at,
                    last_at=a.last_at,
                    computed_at=now,
                )
                for a in alerts
            ],
        )
    db.session.flush()
    return len(alerts)


# --- projects -------------------------------------------------------------------------------------------------


def save_project(
    actor: User,
    *,
    project: LivelihoodProject | None = None,
    year: int,
    name: str,
    description: str | None = None,
    lead_unit_id: int | None = None,
    public: bool = False,
    active: bool = True,
) -> LivelihoodProject:
    from flask_babel import lazy_gettext as _l

    from hotline.core.errors import PermissionDenied, ValidationFailed
    from hotline.permissions import can_administer

    if not can_administer(actor):
        raise PermissionDenied()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("A name is required."), field="name")
    clash = db.session.execute(select(LivelihoodProject).filter_by(year=year, name=name)).scalar_one_or_none()
    if clash is not None and clash is not project:
        raise ValidationFailed(_l("A project of that name exists for that year."), field="name")
    project = project or LivelihoodProject()
    project.year, project.name, project.description = year, name, (description or "").strip() or None
    project.lead_unit_id, project.public, project.active = lead_unit_id, public, active
    db.session.add(project)
    db.session.flush()
    return project


def tag_ticket(project: LivelihoodProject | None, ticket: Ticket, actor: User) -> None:
    """Tag ``ticket`` to ``project`` (None: untag). A ticket belongs to at most one project. Acting on a
    ticket by its number needs the same scope as reading it: another district's ticket is not found."""
    from hotline.permissions import can_read

    if not can_read(actor, ticket):
        raise NotFound(_l("No ticket has that tracking number."), field="tracking_no")
    db.session.execute(delete(project_ticket).where(project_ticket.c.ticket_id == ticket.id))
    if project is not None:
        db.session.execute(
            insert(project_ticket).values(
                ticket_id=ticket.id, project_id=project.id, tagged_at=utcnow(), tagged_by_id=actor.id
            )
        )
    from hotline.tickets.services import record_event

    record_event(
        ticket,
        "project_tagged",
        actor,
        note=project.name if project else None,
        data={"project": project.id if project else None},
    )
    db.session.flush()


# --- exports ------------------------------------------------------------------------------------------------


def record_export(user: User, kind: str, file_format: str, params: dict[str, Any], row_count: int) -> ExportRecord:
    record = ExportRecord(
        user_id=user.id, kind=kind, file_format=file_format, params=params, row_count=row_count, created_at=utcnow()
    )
    db.session.add(record)
    db.session.flush()
    current_app.logger.info("export %s.%s by %s: %d rows %s", kind, file_format, user.username, row_count, params)
    return record
