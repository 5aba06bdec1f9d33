"""The telephone figures of a period for the supervisor dashboard (docs/telephony.md, "Figures"): calls
received, answered, abandoned, the time to answer, and how many became a ticket. Calls are the hotline
centre's; a period is a range of Asia/Shanghai days, as every dashboard figure."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from hotline.core.clock import LOCAL_TZ, to_local
from hotline.cti.models import Call
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.tickets.services import hotline_centre_id


@dataclass
class CallFigures:
    received: int = 0
    answered: int = 0
    abandoned: int = 0
    with_ticket: int = 0
    without_ticket: int = 0
    median_answer_seconds: float | None = None
    p90_answer_seconds: float | None = None
    # per local day of the period: (day, received, answered, abandoned)
    days: list[tuple[date, int, int, int]] = field(default_factory=list)

    @property
    def abandonment_rate(self) -> float | None:
        """Abandoned / received; None when no call came."""
        return self.abandoned / self.received if self.received else None


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def p90(values: list[float]) -> float | None:
    """Nearest rank: the smallest value that at least 90 % of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def call_figures(start: date, end: date) -> CallFigures:
    """The calls that came in from ``start`` to ``end`` (local days, both included). A call came in when it
    first rang (or, reported without a ringing event, was answered, else was first heard of). One read of
    the period's calls; the answer times are a few numbers per call."""
    came_in = func.coalesce(Call.ringing_at, Call.answered_at, Call.created_at)
    rows = db.session.execute(
        select(came_in, Call.ringing_at, Call.answered_at, Call.ended_at, Call.ticket_id).where(
            came_in >= _utc_start(start), came_in < _utc_start(end + timedelta(days=1))
        )
    ).all()
    figures = CallFigures()
    per_day = {start + timedelta(days=n): [0, 0, 0] for n in range((end - start).days + 1)}
    waits = []
    for arrived, ringing_at, answered_at, ended_at, ticket_id in rows:
        day = per_day[to_local(arrived).date()]
        figures.received += 1
        day[0] += 1
        if answered_at is not None:
            figures.answered += 1
            day[1] += 1
            if ringing_at is not None:
                waits.append(max((answered_at - ringing_at).total_seconds(), 0.0))
        elif ended_at is not None:
            figures.abandoned += 1
            day[2] += 1
        if ticket_id is not None:
            figures.with_ticket += 1
        else:
            figures.without_ticket += 1
    figures.median_answer_seconds = statistics.median(waits) if waits else None
    figures.p90_answer_seconds = p90(waits)
    figures.days = [(d, received, answered, abandoned) for d, (received, answered, abandoned) in per_day.items()]
    return figures


def call_figures_for(unit: OrgUnit, start: date, end: date) -> CallFigures | None:
    """The figures for a dashboard scoped to ``unit``: the centre's calls when the unit holds the hotline
    centre (the city, the centre), None for a district or department, which take no calls."""
    if not unit.contains(db.session.get(OrgUnit, hotline_centre_id())):
        return None
    return call_figures(start, end)
