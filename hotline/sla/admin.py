"""What admins change: the time-limit policies and the working-day calendar. A calendar edit redoes the
provisional deadlines of open tickets (``hotline.sla.deadlines.recompute_provisional_deadlines``)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from hotline.core.errors import ValidationFailed
from hotline.extensions import db
from hotline.sla.calendar import from_chinesecalendar
from hotline.sla.deadlines import recompute_provisional_deadlines
from hotline.sla.models import CalendarSource, SlaPolicy, WorkCalendarDay
from hotline.sla.notice import CalendarYear
from hotline.sla.policy import WD, H, default_policies, invalidate_calendar
from hotline.tickets.workflow import Appeal, Urgency

# --- policies ----------------------------------------------------------------------------------------------


def seed_default_policies() -> int:
    existing = {(p.appeal_type, p.urgency) for p in db.session.execute(select(SlaPolicy)).scalars()}
    added = 0
    for row in default_policies():
        if (row["appeal_type"], row["urgency"]) not in existing:
            db.session.add(SlaPolicy(**row))
            added += 1
    return added


def all_policies() -> list[SlaPolicy]:
    order = {a.value: i for i, a in enumerate(Appeal)}
    urg = {u.value: i for i, u in enumerate(Urgency)}
    rows = list(db.session.execute(select(SlaPolicy)).scalars())
    return sorted(rows, key=lambda p: (order[p.appeal_type], urg[p.urgency]))


def update_policy(
    policy: SlaPolicy, *, sign_limit: float, sign_unit: str, answer_limit: float, answer_unit: str
) -> SlaPolicy:
    for limit, unit, field in ((sign_limit, sign_unit, "sign_limit"), (answer_limit, answer_unit, "answer_limit")):
        if unit not in (WD, H):
            raise ValidationFailed(_l("Invalid value."), field=field)
        if limit is None or limit <= 0 or (unit == WD and float(limit) != int(limit)):
            raise ValidationFailed(_l("A limit is a positive number (whole days for working days)."), field=field)
    policy.sign_limit, policy.sign_unit = sign_limit, sign_unit
    policy.answer_limit, policy.answer_unit = answer_limit, answer_unit
    db.session.flush()
    return policy


# --- the calendar --------------------------------------------------------------------------------------------


def seed_calendar_from_package() -> int:
    """Copy the chinesecalendar package's days into the table; admin edits are kept."""
    known = set(db.session.execute(select(WorkCalendarDay.day)).scalars())
    package = from_chinesecalendar()
    new_rows = [
        {"day": d, "is_workday": w, "source": CalendarSource.PACKAGE.value}
        for d, w in package.days.items()
        if d not in known
    ]
    if new_rows:
        db.session.execute(insert(WorkCalendarDay), new_rows)
    invalidate_calendar()
    return len(new_rows)


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


def import_calendar_year(parsed: CalendarYear) -> dict[str, int]:
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
