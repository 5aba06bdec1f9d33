"""What the case lists show: cases in the reader's scope (``permissions.case_scope``), filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import selectinload

from hotline import permissions
from hotline.accountability.models import AWAITING_REPORT, AccountabilityCase, CaseStatus
from hotline.accounts.models import User
from hotline.extensions import db
from hotline.orgs.models import OrgUnit


@dataclass
class CaseFilters:
    unit_id: int | None = None
    status: str | None = None
    measure: str | None = None
    overdue: bool = False


def overdue_condition(now: datetime):
    """A report or a review past its deadline."""
    return or_(
        and_(AccountabilityCase.status.in_(AWAITING_REPORT), AccountabilityCase.report_due_at < now),
        and_(AccountabilityCase.status == CaseStatus.REPORT_SUBMITTED.value, AccountabilityCase.review_due_at < now),
    )


def cases_query(user: User, filters: CaseFilters, now: datetime) -> Select:
    query = select(AccountabilityCase).options(
        selectinload(AccountabilityCase.unit), selectinload(AccountabilityCase.ticket)
    )
    scope = permissions.case_scope(user)
    if scope is not None:
        query = query.where(scope)
    if filters.unit_id:
        query = query.where(AccountabilityCase.unit_id == filters.unit_id)
    if filters.status:
        query = query.where(AccountabilityCase.status == filters.status)
    if filters.measure:
        query = query.where(AccountabilityCase.measure == filters.measure)
    if filters.overdue:
        query = query.where(overdue_condition(now))
    return query.order_by(AccountabilityCase.created_at.desc(), AccountabilityCase.id.desc())


def units_with_cases(user: User) -> list[OrgUnit]:
    """The units filter's choices: units of the cases the user may list."""
    query = select(OrgUnit).where(OrgUnit.id.in_(select(AccountabilityCase.unit_id).distinct()))
    scope = permissions.case_scope(user)
    if scope is not None:
        query = query.where(OrgUnit.id.in_(select(AccountabilityCase.unit_id).where(scope)))
    return list(db.session.execute(query.order_by(OrgUnit.path)).scalars())


def cases_of_ticket(ticket_id: int) -> list[AccountabilityCase]:
    return list(
        db.session.execute(
            select(AccountabilityCase)
            .options(selectinload(AccountabilityCase.unit))
            .where(AccountabilityCase.ticket_id == ticket_id)
            .order_by(AccountabilityCase.id)
        ).scalars()
    )
