"""Deadlines for tickets: the stored calendar and policies applied to the pure rules."""
from __future__ import annotations

import time as _time
from datetime import datetime

from sqlalchemy import select

from hotline.core.clock import to_local, to_utc_naive
from hotline.extensions import db
from hotline.sla.calendar import Deadline, WorkCalendar, add_hours, complete_years
from hotline.sla.models import CalendarSource, LimitUnit, SlaPolicy, WorkCalendarDay
from hotline.tickets.workflow import Appeal, Urgency

WD, H = LimitUnit.WORKING_DAYS.value, LimitUnit.HOURS.value
# Defaults (admins edit them in sla_policy): answer limits per appeal type; urgent work in hours.
DEFAULT_ANSWER_DAYS = {Appeal.CONSULTATION: 3, Appeal.HELP: 10, Appeal.COMPLAINT: 10, Appeal.REPORT: 10,
                       Appeal.SUGGESTION: 15, Appeal.PRAISE: 15}
DEFAULT_URGENT = {Urgency.URGENT: (1, 24), Urgency.CRITICAL: (0.5, 2)}  # (sign hours, answer hours)
REDO_WORKING_DAYS = 3


def default_policies() -> list[dict]:
    rows = []
    for appeal in Appeal:
        rows.append(dict(appeal_type=appeal.value, urgency=Urgency.NORMAL.value, sign_limit=1, sign_unit=WD,
                         answer_limit=DEFAULT_ANSWER_DAYS[appeal], answer_unit=WD))
        for urgency, (sign_h, answer_h) in DEFAULT_URGENT.items():
            rows.append(dict(appeal_type=appeal.value, urgency=urgency.value, sign_limit=sign_h, sign_unit=H,
                             answer_limit=answer_h, answer_unit=H))
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
    new_rows = [{"day": d, "is_workday": w, "source": CalendarSource.PACKAGE.value}
                for d, w in package.days.items() if d not in known]
    if new_rows:
        db.session.execute(WorkCalendarDay.__table__.insert(), new_rows)
    invalidate_calendar()
    return len(new_rows)


_cache: dict = {"calendar": None, "loaded": 0.0}
_CACHE_SECONDS = 60  # other processes see an admin's calendar edit within a minute


def invalidate_calendar() -> None:
    _cache["calendar"] = None


def current_calendar() -> WorkCalendar:
    if _cache["calendar"] is None or _time.monotonic() - _cache["loaded"] > _CACHE_SECONDS:
        rows = db.session.execute(select(WorkCalendarDay.day, WorkCalendarDay.is_workday,
                                         WorkCalendarDay.source)).all()
        days = {d: w for d, w, src in rows if src != CalendarSource.WEEKDAY.value}
        _cache.update(calendar=WorkCalendar(days=days, known_years=complete_years(days)), loaded=_time.monotonic())
    return _cache["calendar"]


def policy_for(appeal_type: str, urgency: str) -> dict:
    policy = db.session.execute(select(SlaPolicy).filter_by(appeal_type=appeal_type, urgency=urgency)
                                ).scalar_one_or_none()
    if policy is not None:
        return dict(sign_limit=policy.sign_limit, sign_unit=policy.sign_unit,
                    answer_limit=policy.answer_limit, answer_unit=policy.answer_unit)
    return next(p for p in default_policies() if p["appeal_type"] == appeal_type and p["urgency"] == urgency)


def deadline_after(start_utc: datetime, limit: float, unit: str) -> Deadline:
    """A deadline ``limit`` working days or hours after ``start_utc`` (naive UTC in, naive UTC out)."""
    local_start = to_local(start_utc)
    if unit == H:
        result = add_hours(local_start, limit)
    else:
        result = current_calendar().add_working_days(local_start, int(limit))
    return Deadline(to_utc_naive(result.at), result.provisional)

