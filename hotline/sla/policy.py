"""The rules deadlines are computed with, as stored: time limits per appeal type and urgency (``sla_policy``),
the ladder's settings and the working-day calendar. Read-only; admins edit them through ``hotline.sla.admin``."""

from __future__ import annotations

import time as _time
from datetime import time
from typing import TypedDict

from flask import current_app
from sqlalchemy import select

from hotline.extensions import db
from hotline.sla.calendar import WARNING_SHARE, WARNING_WORKING_DAYS, WorkCalendar, complete_years
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


class Limits(TypedDict):
    """One policy's sign-for and answer limits (``LimitUnit`` values as units)."""

    sign_limit: float
    sign_unit: str
    answer_limit: float
    answer_unit: str


class PolicyRow(Limits):
    """A default policy: the limits and the appeal type × urgency they apply to."""

    appeal_type: str
    urgency: str


class _CalendarCache(TypedDict):
    calendar: WorkCalendar | None
    loaded: float


def setting(name: str) -> int:
    return int(current_app.config.get(name, LADDER_DEFAULTS[name]))


def warning_window() -> tuple[float, float]:
    """(share of the limit, most working days) left when the yellow card comes: ``SLA_WARNING_SHARE``
    (default 0.2) and ``SLA_WARNING_WORKING_DAYS`` (default 1)."""
    share = float(current_app.config.get("SLA_WARNING_SHARE", WARNING_SHARE))
    days = float(current_app.config.get("SLA_WARNING_WORKING_DAYS", WARNING_WORKING_DAYS))
    return min(max(share, 0.0), 0.9), max(days, 0.0)  # a share of 0.9 still leaves a tenth of the time unwarned


def default_policies() -> list[PolicyRow]:
    rows: list[PolicyRow] = []
    for appeal in Appeal:
        rows.append(
            PolicyRow(
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
                PolicyRow(
                    appeal_type=appeal.value,
                    urgency=urgency.value,
                    sign_limit=sign_h,
                    sign_unit=H,
                    answer_limit=answer_h,
                    answer_unit=H,
                )
            )
    return rows


def _limits(policy: SlaPolicy) -> Limits:
    return Limits(
        sign_limit=policy.sign_limit,
        sign_unit=policy.sign_unit,
        answer_limit=policy.answer_limit,
        answer_unit=policy.answer_unit,
    )


def policy_for(appeal_type: str, urgency: str) -> Limits:
    policy = db.session.execute(
        select(SlaPolicy).filter_by(appeal_type=appeal_type, urgency=urgency)
    ).scalar_one_or_none()
    if policy is not None:
        return _limits(policy)
    return next(p for p in default_policies() if p["appeal_type"] == appeal_type and p["urgency"] == urgency)


def policy_table() -> dict[tuple[str, str], Limits]:
    """Every (appeal type, urgency)'s limits, stored or default: for work over many tickets (one query)."""
    table: dict[tuple[str, str], Limits] = {(p["appeal_type"], p["urgency"]): p for p in default_policies()}
    table.update({(p.appeal_type, p.urgency): _limits(p) for p in db.session.execute(select(SlaPolicy)).scalars()})
    return table


# --- the working-day calendar, cached per process ------------------------------------------------------------

_cache: _CalendarCache = {"calendar": None, "loaded": 0.0}
_CACHE_SECONDS = 60  # other processes see an admin's calendar edit within a minute


def invalidate_calendar() -> None:
    _cache["calendar"] = None


def working_day_ends() -> time:
    """When a working day ends (``SLA_WORKDAY_ENDS``, ``HH:MM[:SS]`` Asia/Shanghai; default 23:59:59)."""
    value = current_app.config.get("SLA_WORKDAY_ENDS") or "23:59:59"
    return value if isinstance(value, time) else time.fromisoformat(value)


def current_calendar() -> WorkCalendar:
    calendar = _cache["calendar"]
    if calendar is None or _time.monotonic() - _cache["loaded"] > _CACHE_SECONDS:
        rows = db.session.execute(select(WorkCalendarDay.day, WorkCalendarDay.is_workday, WorkCalendarDay.source)).all()
        days = {d: w for d, w, src in rows if src != CalendarSource.WEEKDAY.value}
        calendar = WorkCalendar(days=days, known_years=complete_years(days), day_ends=working_day_ends())
        _cache["calendar"], _cache["loaded"] = calendar, _time.monotonic()
    return calendar
