"""Reads for the assessment pages and the public statistics page; nothing here writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hotline.accounts.models import User
from hotline.assessment import services
from hotline.assessment.models import AssessmentObjection, AssessmentPeriod, PeriodStatus
from hotline.core.stats import enough_answers, published_rate
from hotline.extensions import db
from hotline.permissions import sees_assessment_of


def periods() -> list[AssessmentPeriod]:
    return list(
        db.session.execute(
            select(AssessmentPeriod).order_by(AssessmentPeriod.start.desc(), AssessmentPeriod.kind)
        ).scalars()
    )


def visible_rows(user: User, rows: list[services.ScoreRow]) -> list[services.ScoreRow]:
    """The rows ``user`` may see: every unit for supervisors and admins, a handler's own units."""
    return [row for row in rows if sees_assessment_of(user, row.unit)]


def objections(period: AssessmentPeriod, user: User) -> list[AssessmentObjection]:
    """The period's objections of the units ``user`` sees, newest first."""
    found = db.session.execute(
        select(AssessmentObjection)
        .options(
            selectinload(AssessmentObjection.unit),
            selectinload(AssessmentObjection.ticket),
            selectinload(AssessmentObjection.filed_by),
            selectinload(AssessmentObjection.decided_by),
        )
        .where(AssessmentObjection.period_id == period.id)
        .order_by(AssessmentObjection.filed_at.desc(), AssessmentObjection.id.desc())
    ).scalars()
    return [o for o in found if sees_assessment_of(user, o.unit)]


def released_period() -> AssessmentPeriod | None:
    """The latest released period (by its end, a month before a quarter ending the same day)."""
    return (
        db.session.execute(
            select(AssessmentPeriod)
            .where(AssessmentPeriod.status == PeriodStatus.RELEASED.value)
            .order_by(AssessmentPeriod.end.desc(), AssessmentPeriod.start.desc())
        )
        .scalars()
        .first()
    )


def public_ranking() -> dict[str, Any] | None:
    """The released period's ranking per level for the public page: unit names, rates, score and rank only.
    A satisfaction rate resting on fewer than ``PUBLIC_MIN_ANSWERS`` ratings is not shown (None, with
    ``satisfaction_sample_small``)."""
    period = released_period()
    if period is None:
        return None
    levels = {}
    for level, rows in services.by_level(services.stored_rows(period)).items():
        levels[level] = [
            {
                "unit": row.unit.name,
                "rank": row.rank,
                "score": row.score,
                "on_time_rate": row.rates["on_time_rate"],
                "return_rate": row.rates["return_rate"],
                "redo_rate": row.rates["redo_rate"],
                "satisfaction_rate": published_rate(row.rates["satisfaction_rate"], row.figures.counts.rated),
                "satisfaction_sample_small": not enough_answers(row.figures.counts.rated),
                "supervision_rate": row.rates["supervision_rate"],
            }
            for row in rows
        ]
    return {"label": period.label, "kind": period.kind, "start": period.start, "end": period.end, "levels": levels}
