"""The assessment's rules: periods, their weights, closing (freezing), recomputing, releasing, objections.

Counts come from the dashboard (``dashboard.queries.unit_table`` over the rollups, ``dashboard.services.
count_facts`` for one ticket's share) and rates from ``dashboard.kpis``; ``scoring`` weighs them. A closed
period's figures are rows of ``assessment_score``: nothing a ticket does later changes them, only an admin's
recompute (with a reason, audited). Services flush, the caller commits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from hotline.accountability.services import case_counts
from hotline.accounts.models import User
from hotline.assessment import scoring
from hotline.assessment.models import (
    AssessmentObjection,
    AssessmentPeriod,
    AssessmentScore,
    ObjectionStatus,
    PeriodKind,
    PeriodStatus,
)
from hotline.core.audit import record_audit
from hotline.core.clock import utcnow
from hotline.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from hotline.dashboard import kpis
from hotline.dashboard import queries as dashboard_queries
from hotline.dashboard import services as dashboard_services
from hotline.dashboard.models import KpiRollupRun
from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.permissions import can_decide_objection, can_object_for, can_run_assessment
from hotline.sla.models import SupervisionOrder
from hotline.tickets.models import Assignment, AssignmentRole, Ticket

# The levels ranked, in the order the pages show them.
LEVELS = (UnitKind.DEPARTMENT.value, UnitKind.DISTRICT.value, UnitKind.STREET.value)

# --- periods ------------------------------------------------------------------------------------------------

_LABELS = (
    (PeriodKind.MONTH, re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")),
    (PeriodKind.QUARTER, re.compile(r"^(\d{4})-Q([1-4])$")),
    (PeriodKind.YEAR, re.compile(r"^(\d{4})$")),
)


def parse_label(label: str) -> tuple[PeriodKind, date, date]:
    """``2026-03`` (a month), ``2026-Q1`` (a quarter) or ``2026`` (a year) → kind, first and last day."""
    text = (label or "").strip().upper()
    for kind, pattern in _LABELS:
        match = pattern.match(text)
        if not match:
            continue
        year = int(match.group(1))
        if not 2000 <= year <= 2100:
            break
        if kind is PeriodKind.MONTH:
            first, last = int(match.group(2)), int(match.group(2))
        elif kind is PeriodKind.QUARTER:
            first = 3 * int(match.group(2)) - 2
            last = first + 2
        else:
            first, last = 1, 12
        return kind, date(year, first, 1), dashboard_queries.month_bounds(year, last)[1]
    raise ValidationFailed(_l("Write the period as 2026-03, 2026-Q1 or 2026."), field="label")


def _require_admin(actor: User | None) -> None:
    """``None`` is the command line (``flask assessment``), which an operator of the server runs."""
    if actor is not None and not can_run_assessment(actor):
        raise PermissionDenied()


def _target(period: AssessmentPeriod) -> str:
    return f"assessment:{period.label}"


def create_period(actor: User | None, label: str) -> AssessmentPeriod:
    _require_admin(actor)
    kind, start, end = parse_label(label)
    label = (label or "").strip().upper()
    clash = db.session.execute(
        select(AssessmentPeriod.id).where(AssessmentPeriod.kind == kind.value, AssessmentPeriod.start == start)
    ).first()
    if clash is not None:
        raise ValidationFailed(_l("That period exists already."), field="label")
    period = AssessmentPeriod(
        kind=kind.value,
        label=label,
        start=start,
        end=end,
        status=PeriodStatus.OPEN.value,
        weights=dict(scoring.DEFAULT_WEIGHTS),
        created_at=utcnow(),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(period)
    db.session.flush()
    record_audit(actor, "assessment.create", _target(period), {"start": start, "end": end})
    return period


def get_period(period_id: int) -> AssessmentPeriod:
    period = db.session.get(AssessmentPeriod, period_id)
    if period is None:
        raise NotFound(_l("No such assessment period."))
    return period


def find_period(label: str) -> AssessmentPeriod:
    kind, start, _end = parse_label(label)
    period = db.session.execute(
        select(AssessmentPeriod).where(AssessmentPeriod.kind == kind.value, AssessmentPeriod.start == start)
    ).scalar_one_or_none()
    if period is None:
        raise NotFound(_l("No such assessment period."), field="label")
    return period


_WEIGHT_PROBLEMS = {
    "number": _l("Enter a number."),
    "range": _l("Enter a number from 0 to 1000."),
    "sum": _l("At least one of the five weights must be above 0."),
}


def set_weights(actor: User, period: AssessmentPeriod, values: Mapping[str, object]) -> dict[str, float]:
    """The period's weights; only while it is open (a closed period keeps the weights it was scored with)."""
    _require_admin(actor)
    if not period.is_open:
        raise InvalidTransition(_l("The weights of a closed period cannot change."))
    weights, problems = scoring.check_weights(values)
    if problems:
        raise ValidationFailed(fields={k: _WEIGHT_PROBLEMS[v] for k, v in problems.items()})
    before = dict(period.weights)
    period.weights = weights
    db.session.flush()
    record_audit(actor, "assessment.weights", _target(period), {"before": before, "after": weights})
    return weights


# --- computing ----------------------------------------------------------------------------------------------


@dataclass
class ScoreRow:
    """One unit's figures, computed now (an open period's preview) or read back from ``assessment_score``."""

    unit: OrgUnit
    figures: scoring.UnitFigures
    rates: dict[str, float | None]
    deduction: float
    score: float | None
    rank: int | None = None

    @property
    def level(self) -> str:
        return self.unit.kind


def _bounds(period: AssessmentPeriod) -> tuple[datetime, datetime]:
    lo, _hi = dashboard_services.day_bounds(period.start)
    _lo, hi = dashboard_services.day_bounds(period.end)
    return lo, hi


def _finish_rollups(period: AssessmentPeriod) -> None:
    """Count every day of the period the rollup has not finalised yet (the worker may be behind)."""
    final = set(
        db.session.execute(
            select(KpiRollupRun.day).where(
                KpiRollupRun.final.is_(True), KpiRollupRun.day >= period.start, KpiRollupRun.day <= period.end
            )
        ).scalars()
    )
    day = period.start
    while day <= period.end:
        if day not in final:
            dashboard_services.rollup_day(day, final=True)
        day += timedelta(days=1)


def upheld_exclusions(period: AssessmentPeriod) -> set[tuple[int, int]]:
    """(unit_id, ticket_id) of the period's upheld objections."""
    return {
        (u, t)
        for u, t in db.session.execute(
            select(AssessmentObjection.unit_id, AssessmentObjection.ticket_id).where(
                AssessmentObjection.period_id == period.id,
                AssessmentObjection.status == ObjectionStatus.UPHELD.value,
            )
        ).tuples()
    }


def compute(period: AssessmentPeriod, *, finish_rollups: bool = False) -> list[ScoreRow]:
    """Every department, district and street with work in the period: figures, score and rank per level."""
    weights = {**scoring.DEFAULT_WEIGHTS, **(period.weights or {})}
    satisfaction_weights = dashboard_services.weights()
    if finish_rollups:
        _finish_rollups(period)
    city = db.session.execute(
        select(OrgUnit).where(OrgUnit.kind == UnitKind.CITY.value).order_by(OrgUnit.id)
    ).scalar_one_or_none()
    if city is None:
        return []
    table, _total = dashboard_queries.unit_table(city, period.start, period.end, satisfaction_weights)
    figures: dict[int, scoring.UnitFigures] = {
        row.unit.id: scoring.UnitFigures(counts=row.counts) for row in table if row.unit.kind in LEVELS
    }
    units = {row.unit.id: row.unit for row in table}
    lo, hi = _bounds(period)
    excluded = upheld_exclusions(period)
    for unit_id, ticket_id in sorted(excluded):
        if unit_id in figures:
            share = dashboard_services.count_facts(lo, hi, [ticket_id])[0].get(unit_id)
            if share is not None:
                figures[unit_id].counts = scoring.minus(figures[unit_id].counts, share)
            figures[unit_id].excluded += 1
    for unit_id, ticket_id, deadline, responded_at in db.session.execute(
        select(
            SupervisionOrder.unit_id,
            SupervisionOrder.ticket_id,
            SupervisionOrder.response_deadline,
            SupervisionOrder.responded_at,
        ).where(SupervisionOrder.created_at >= lo, SupervisionOrder.created_at < hi)
    ).tuples():
        if (unit_id, ticket_id) in excluded:
            continue
        if unit_id not in figures:
            unit = units.get(unit_id) or db.session.get(OrgUnit, unit_id)
            if unit is None or unit.kind not in LEVELS:
                continue
            units[unit_id] = unit
            figures[unit_id] = scoring.UnitFigures(counts=kpis.UnitCounts())
        figures[unit_id].orders += 1
        figures[unit_id].orders_on_time += kpis.is_on_time(responded_at, deadline)
    # Accountability cases (问责) opened against a unit in the period cost ``case_points`` each.
    for unit_id, n in case_counts(sorted(figures), lo, hi).items():
        figures[unit_id].cases += n
    rows = []
    for unit_id, f in figures.items():
        r = scoring.rates(f, satisfaction_weights)
        points = scoring.deduction(f.cases, weights)
        rows.append(ScoreRow(units[unit_id], f, r, points, scoring.score(scoring.components(r), weights, points)))
    for level in LEVELS:
        ranked = scoring.ranks((row.unit.id, row.score) for row in rows if row.level == level)
        for row in rows:
            if row.level == level:
                row.rank = ranked.get(row.unit.id)
    rows.sort(key=lambda row: (LEVELS.index(row.level), row.rank or 10**9, row.unit.path))
    return rows


def _store(period: AssessmentPeriod, rows: list[ScoreRow]) -> None:
    db.session.execute(delete(AssessmentScore).where(AssessmentScore.period_id == period.id))
    for row in rows:
        c = row.figures.counts
        db.session.add(
            AssessmentScore(
                period_id=period.id,
                unit_id=row.unit.id,
                level=row.level,
                dispatched=c.dispatched,
                returned=c.returned,
                answered=c.answered,
                answered_on_time=c.answered_on_time,
                redone=c.redone,
                rated_satisfied=c.rated_satisfied,
                rated_basically=c.rated_basically,
                rated_unsatisfied=c.rated_unsatisfied,
                orders=row.figures.orders,
                orders_on_time=row.figures.orders_on_time,
                cases=row.figures.cases,
                deduction=row.deduction,
                score=row.score,
                rank=row.rank,
                excluded=row.figures.excluded,
                **row.rates,
            )
        )
    period.computed_at = utcnow()
    db.session.flush()


def close_period(actor: User | None, period: AssessmentPeriod, now: datetime | None = None) -> list[ScoreRow]:
    """Freeze the period: compute every unit's figures and store them. Only after its last day."""
    _require_admin(actor)
    if not period.is_open:
        raise InvalidTransition(_l("The period is closed already."))
    now = now or utcnow()
    if period.end >= dashboard_services.local_today(now):
        raise InvalidTransition(_l("A period can be closed only after its last day."))
    with db.session.no_autoflush:
        rows = compute(period, finish_rollups=True)
    _store(period, rows)
    period.status, period.closed_at, period.closed_by_id = PeriodStatus.CLOSED.value, now, actor.id if actor else None
    db.session.flush()
    record_audit(
        actor, "assessment.close", _target(period), {"units": len(rows), "excluded": len(upheld_exclusions(period))}
    )
    return rows


def recompute_period(actor: User | None, period: AssessmentPeriod, reason: str) -> list[ScoreRow]:
    """Compute a closed (or released) period again from today's data, e.g. after an objection was upheld.
    A reason is required; the audit row keeps every changed score before and after."""
    _require_admin(actor)
    if period.is_open:
        raise InvalidTransition(_l("An open period is computed when it closes."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Say why the period is recomputed."), field="reason")
    before = {
        s.unit_id: s.score
        for s in db.session.execute(select(AssessmentScore).where(AssessmentScore.period_id == period.id)).scalars()
    }
    with db.session.no_autoflush:
        rows = compute(period, finish_rollups=True)
    _store(period, rows)
    after = {row.unit.id: row.score for row in rows}
    changed = {
        str(unit_id): [before.get(unit_id), after.get(unit_id)]
        for unit_id in sorted(set(before) | set(after))
        if before.get(unit_id) != after.get(unit_id)
    }
    record_audit(actor, "assessment.recompute", _target(period), {"reason": reason, "changed": changed})
    return rows


def release_period(actor: User | None, period: AssessmentPeriod) -> None:
    """Publish a closed period's ranking on the public statistics page."""
    _require_admin(actor)
    if period.status != PeriodStatus.CLOSED.value:
        raise InvalidTransition(_l("Only a closed period can be released."))
    period.status, period.released_at = PeriodStatus.RELEASED.value, utcnow()
    period.released_by_id = actor.id if actor else None
    db.session.flush()
    record_audit(actor, "assessment.release", _target(period))


# --- objections (申诉) ----------------------------------------------------------------------------------------


def objection_deadline(period: AssessmentPeriod) -> datetime | None:
    """Until when units may object: while open, and ``ASSESSMENT_OBJECTION_DAYS`` days after the close,
    unless the period is released before."""
    if period.is_open:
        return None
    if period.status == PeriodStatus.RELEASED.value or period.closed_at is None:
        return period.closed_at
    return period.closed_at + timedelta(days=int(current_app.config.get("ASSESSMENT_OBJECTION_DAYS", 5)))


def objections_open(period: AssessmentPeriod, now: datetime | None = None) -> bool:
    if period.is_open:
        return True
    deadline = objection_deadline(period)
    return period.status == PeriodStatus.CLOSED.value and deadline is not None and (now or utcnow()) <= deadline


def _counts_for(period: AssessmentPeriod, unit: OrgUnit, ticket: Ticket) -> bool:
    """The ticket can count for ``unit`` in the period: it was dispatched to it as lead before the period
    ended, or the unit was sent a 督办单 about it in the period."""
    lo, hi = _bounds(period)
    led = db.session.execute(
        select(Assignment.id).where(
            Assignment.ticket_id == ticket.id,
            Assignment.unit_id == unit.id,
            Assignment.role == AssignmentRole.LEAD.value,
            Assignment.parent_id.is_(None),
            Assignment.dispatched_at < hi,
        )
    ).first()
    if led is not None:
        return True
    ordered = db.session.execute(
        select(SupervisionOrder.id).where(
            SupervisionOrder.ticket_id == ticket.id,
            SupervisionOrder.unit_id == unit.id,
            SupervisionOrder.created_at >= lo,
            SupervisionOrder.created_at < hi,
        )
    ).first()
    return ordered is not None


def file_objection(
    actor: User, period: AssessmentPeriod, unit: OrgUnit | None, tracking_no: str, reason: str
) -> AssessmentObjection:
    if unit is None or not can_object_for(actor, unit):
        raise PermissionDenied(_l("You may object only for your own units."))
    if not objections_open(period):
        raise InvalidTransition(_l("Objections to this period are closed."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Give the reason for the objection."), field="reason")
    with db.session.no_autoflush:
        ticket = db.session.execute(
            select(Ticket).where(Ticket.tracking_no == (tracking_no or "").strip())
        ).scalar_one_or_none()
        if ticket is None or not _counts_for(period, unit, ticket):
            raise ValidationFailed(_l("That ticket does not count for this unit in the period."), field="tracking_no")
        clash = db.session.execute(
            select(AssessmentObjection.id).where(
                AssessmentObjection.period_id == period.id,
                AssessmentObjection.unit_id == unit.id,
                AssessmentObjection.ticket_id == ticket.id,
            )
        ).first()
    if clash is not None:
        raise ValidationFailed(_l("This unit has objected to that ticket already."), field="tracking_no")
    objection = AssessmentObjection(
        period_id=period.id,
        unit_id=unit.id,
        ticket_id=ticket.id,
        reason=reason,
        filed_by_id=actor.id,
        filed_at=utcnow(),
        status=ObjectionStatus.PENDING.value,
    )
    db.session.add(objection)
    db.session.flush()
    record_audit(
        actor,
        "assessment.objection",
        _target(period),
        {"unit": unit.code, "ticket": ticket.tracking_no, "id": objection.id},
    )
    return objection


def decide_objection(actor: User, objection: AssessmentObjection, uphold: bool, note: str) -> None:
    """A supervisor upholds (the ticket stops counting for the unit in the period; a closed period applies it
    at its next recompute) or rejects it, with a note. Audited."""
    if not can_decide_objection(actor):
        raise PermissionDenied()
    if objection.status != ObjectionStatus.PENDING.value:
        raise InvalidTransition(_l("This objection has been decided already."))
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_l("Say why."), field="note")
    objection.status = (ObjectionStatus.UPHELD if uphold else ObjectionStatus.REJECTED).value
    objection.decided_by_id, objection.decided_at, objection.decision_note = actor.id, utcnow(), note
    db.session.flush()
    period = db.session.get(AssessmentPeriod, objection.period_id)
    record_audit(
        actor,
        "assessment.objection_decided",
        _target(period) if period else "",
        {"id": objection.id, "decision": objection.status, "note": note, "ticket": objection.ticket_id},
    )


def pending_application(period: AssessmentPeriod) -> int:
    """Objections upheld after the period's figures were frozen: a recompute applies them."""
    if period.is_open or period.computed_at is None:
        return 0
    return len(
        db.session.execute(
            select(AssessmentObjection.id).where(
                AssessmentObjection.period_id == period.id,
                AssessmentObjection.status == ObjectionStatus.UPHELD.value,
                AssessmentObjection.decided_at > period.computed_at,
            )
        ).all()
    )


def stored_rows(period: AssessmentPeriod) -> list[ScoreRow]:
    """A closed period's frozen figures, as ``compute`` gives them."""
    scores = db.session.execute(select(AssessmentScore).where(AssessmentScore.period_id == period.id)).scalars().all()
    units = (
        {
            u.id: u
            for u in db.session.execute(select(OrgUnit).where(OrgUnit.id.in_([s.unit_id for s in scores]))).scalars()
        }
        if scores
        else {}
    )
    rows = []
    for s in scores:
        counts = kpis.UnitCounts(
            dispatched=s.dispatched,
            returned=s.returned,
            answered=s.answered,
            answered_on_time=s.answered_on_time,
            redone=s.redone,
            rated_satisfied=s.rated_satisfied,
            rated_basically=s.rated_basically,
            rated_unsatisfied=s.rated_unsatisfied,
        )
        f = scoring.UnitFigures(counts, s.orders, s.orders_on_time, s.cases, s.excluded)
        r = {
            "on_time_rate": s.on_time_rate,
            "return_rate": s.return_rate,
            "redo_rate": s.redo_rate,
            "satisfaction_rate": s.satisfaction_rate,
            "supervision_rate": s.supervision_rate,
        }
        rows.append(ScoreRow(units[s.unit_id], f, r, s.deduction, s.score, s.rank))
    rows.sort(key=lambda row: (LEVELS.index(row.level) if row.level in LEVELS else 9, row.rank or 10**9, row.unit.path))
    return rows


def period_rows(period: AssessmentPeriod) -> list[ScoreRow]:
    """What the period page shows: the frozen figures once closed, a live preview while open."""
    return compute(period) if period.is_open else stored_rows(period)


def by_level(rows: list[ScoreRow]) -> dict[str, list[ScoreRow]]:
    grouped: dict[str, list[ScoreRow]] = defaultdict(list)
    for row in rows:
        grouped[row.level].append(row)
    return {level: grouped[level] for level in LEVELS if grouped.get(level)}
