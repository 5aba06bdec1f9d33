"""Assessment periods, the scores frozen when a period closes, and the units' objections (申诉)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.accounts.models import User
from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model
from hotline.orgs.models import OrgUnit
from hotline.tickets.models import Ticket


class PeriodKind(str, enum.Enum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class PeriodStatus(str, enum.Enum):
    OPEN = "open"  # weights may change; units may object; figures are computed live, nothing is stored
    CLOSED = "closed"  # scores frozen; only an audited recompute changes them
    RELEASED = "released"  # frozen and shown on the public statistics page


class ObjectionStatus(str, enum.Enum):
    PENDING = "pending"
    UPHELD = "upheld"  # the ticket does not count for the unit in the period
    REJECTED = "rejected"


class AssessmentPeriod(Model):
    __tablename__ = "assessment_period"
    __table_args__ = (
        UniqueConstraint("kind", "start", name="uq_assessment_period_kind_start"),
        enum_check("kind", PeriodKind),
        enum_check("status", PeriodStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = enum_column(PeriodKind)
    label: Mapped[str] = mapped_column(String(16))  # 2026-03, 2026-Q1, 2026
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)  # inclusive, Asia/Shanghai days
    status: Mapped[str] = enum_column(PeriodStatus, default=PeriodStatus.OPEN.value)
    weights: Mapped[dict] = mapped_column(JSON)  # scoring.DEFAULT_WEIGHTS' keys
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    computed_at: Mapped[datetime | None] = mapped_column(DateTime)  # the close or the latest recompute
    released_at: Mapped[datetime | None] = mapped_column(DateTime)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def is_open(self) -> bool:
        return self.status == PeriodStatus.OPEN.value


class AssessmentScore(Model):
    """One unit's frozen figures for a closed period: the counts, the rates, the score and its rank."""

    __tablename__ = "assessment_score"
    __table_args__ = (UniqueConstraint("period_id", "unit_id", name="uq_assessment_score_period_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("assessment_period.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))  # the unit's kind: department, district or street
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    answered_on_time: Mapped[int] = mapped_column(Integer, default=0)
    redone: Mapped[int] = mapped_column(Integer, default=0)
    rated_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    rated_basically: Mapped[int] = mapped_column(Integer, default=0)
    rated_unsatisfied: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)  # 督办单 issued to the unit in the period
    orders_on_time: Mapped[int] = mapped_column(Integer, default=0)  # answered by their response deadline
    on_time_rate: Mapped[float | None] = mapped_column(Float)
    return_rate: Mapped[float | None] = mapped_column(Float)
    redo_rate: Mapped[float | None] = mapped_column(Float)
    satisfaction_rate: Mapped[float | None] = mapped_column(Float)
    supervision_rate: Mapped[float | None] = mapped_column(Float)
    cases: Mapped[int] = mapped_column(
        Integer, default=0
    )  # accountability cases opened in the period (case_points each)
    deduction: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float | None] = mapped_column(Float)  # None: nothing to assess
    rank: Mapped[int | None] = mapped_column(Integer)  # within the level; None without a score
    excluded: Mapped[int] = mapped_column(Integer, default=0)  # tickets taken out by upheld objections

    unit: Mapped[OrgUnit] = relationship()

    @property
    def rated(self) -> int:
        return self.rated_satisfied + self.rated_basically + self.rated_unsatisfied


class AssessmentObjection(Model):
    """申诉: a unit asks that one ticket not count against it in the period; a supervisor decides."""

    __tablename__ = "assessment_objection"
    __table_args__ = (
        UniqueConstraint("period_id", "unit_id", "ticket_id", name="uq_assessment_objection_period_unit_ticket"),
        enum_check("status", ObjectionStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("assessment_period.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    filed_at: Mapped[datetime] = created_at_column()
    status: Mapped[str] = enum_column(ObjectionStatus, default=ObjectionStatus.PENDING.value)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[OrgUnit] = relationship()
    ticket: Mapped[Ticket] = relationship()
    filed_by: Mapped[User] = relationship(foreign_keys=[filed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
