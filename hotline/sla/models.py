"""Calendar days, SLA policies, and the supervision records (催办, 督办单)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model
from hotline.orgs.models import OrgUnit
from hotline.tickets.workflow import Appeal, Urgency


class CalendarSource(str, enum.Enum):
    PACKAGE = "package"  # seeded from chinesecalendar
    ADMIN = "admin"  # entered or imported by an admin
    WEEKDAY = "weekday"  # fallback: Monday–Friday


class WorkCalendarDay(Model):
    __tablename__ = "work_calendar_day"
    __table_args__ = (enum_check("source", CalendarSource),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column()
    source: Mapped[str] = enum_column(CalendarSource)
    note: Mapped[str | None] = mapped_column(String(64))


class LimitUnit(str, enum.Enum):
    WORKING_DAYS = "working_days"
    HOURS = "hours"


class SlaPolicy(Model):
    """Sign and answer limits for one appeal type × urgency."""

    __tablename__ = "sla_policy"
    __table_args__ = (
        UniqueConstraint("appeal_type", "urgency", name="uq_sla_policy_appeal_urgency"),
        enum_check("appeal_type", Appeal),
        enum_check("urgency", Urgency),
        enum_check("sign_unit", LimitUnit),
        enum_check("answer_unit", LimitUnit),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_type: Mapped[str] = enum_column(Appeal)
    urgency: Mapped[str] = enum_column(Urgency)
    sign_limit: Mapped[float] = mapped_column()
    sign_unit: Mapped[str] = enum_column(LimitUnit)
    answer_limit: Mapped[float] = mapped_column()
    answer_unit: Mapped[str] = enum_column(LimitUnit)


class SupervisionSource(str, enum.Enum):
    MANUAL = "manual"  # issued by a supervisor
    LADDER = "ladder"  # issued by the escalation ladder


class _SupervisionRecord:
    """Pressure on a unit about one ticket, with the unit's response."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = enum_column(SupervisionSource, default=SupervisionSource.MANUAL.value)
    response_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    response: Mapped[str | None] = mapped_column(Text)
    # Set by the sweep when the response deadline passed unanswered: that ladder step is done.
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()

    @declared_attr
    def unit(cls) -> Mapped[OrgUnit]:
        return relationship(OrgUnit)


class SupervisionOrder(_SupervisionRecord, Model):
    """督办单: a formal order to a unit, with a response deadline.

    One the ladder issues records the step and the round it belongs to: the stage (red) and the clock's
    kind and deadline at that moment. A ticket has at most one ladder order per stage and round (a
    partial unique index): a reply sent back, or a suspension that gave no time back, watches the same
    deadline again and may show its red card again, never a second order. A new deadline (an extension,
    a redo, another phase) is a new round. A supervisor's own order records the round too (no ``ladder_stage``);
    ``issue_supervision_order`` refuses one while an order of the round waits for the unit's answer."""

    __tablename__ = "supervision_order"
    __table_args__ = (
        enum_check("source", SupervisionSource),
        Index(
            "uq_supervision_order_ladder_round",
            "ticket_id",
            "ladder_stage",
            "clock_kind",
            "clock_deadline_at",
            unique=True,
            sqlite_where=text("source = 'ladder'"),
            postgresql_where=text("source = 'ladder'"),
        ),
    )

    ladder_stage: Mapped[int | None] = mapped_column(SmallInteger)
    clock_kind: Mapped[str | None] = mapped_column(String(16))
    clock_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)

    LADDER_ROUND = ("ticket_id", "ladder_stage", "clock_kind", "clock_deadline_at")


class Urging(_SupervisionRecord, Model):
    """催办: a reminder pressing a unit on a late ticket."""

    __tablename__ = "urging"
    __table_args__ = (enum_check("source", SupervisionSource),)


class ClockKind(str, enum.Enum):
    """Which deadline of a ticket the ladder is watching."""

    SIGN = "sign"  # 签收 deadline of a dispatched ticket
    ANSWER = "answer"  # 答复 deadline (also the redo and extended deadlines)
    CALLBACK = "callback"  # 回访 window: no rating by then → closed as not reached
    RESUME = "resume"  # a suspension's planned end: the ticket resumes by itself


class LadderStage(enum.IntEnum):
    """How far the ladder has gone for the watched deadline. Only ever moves up, one step at a time."""

    NONE = 0
    YELLOW = 1  # 黄牌: the deadline is near
    RED = 2  # 红牌 + automatic 督办单: the deadline has passed
    ESCALATED = 3  # still overdue N working days later: one org level up
    DONE = 9  # a one-shot step (callback timeout, auto resume) has run


class LadderState(Protocol):
    """The values the ladder's next step is read from: a ``SlaClock``, or the sweep's plain copy of one."""

    kind: str | None
    deadline_at: datetime | None
    warn_at: datetime | None
    escalate_at: datetime | None
    stage: int


def next_ladder_step(clock: LadderState) -> tuple[str, datetime] | None:
    """(step name, when it is due) for the watched deadline, or None when nothing is left."""
    if clock.deadline_at is None:
        return None
    if clock.kind in (ClockKind.CALLBACK.value, ClockKind.RESUME.value):
        return None if clock.stage == LadderStage.DONE else (clock.kind, clock.deadline_at)
    if clock.stage == LadderStage.NONE:
        return ("yellow", clock.warn_at or clock.deadline_at)
    if clock.stage == LadderStage.YELLOW:
        return ("red", clock.deadline_at)
    if clock.stage == LadderStage.RED and clock.escalate_at is not None:
        return ("escalate", clock.escalate_at)
    return None


class SlaClock(Model):
    """The ladder's state for one ticket: the deadline it watches and the steps already taken.

    ``Ticket.next_deadline_at`` is the earliest pending step over this clock and the ticket's
    unanswered supervision records; the sweep takes a step only together with moving
    ``stage`` up, in one transaction, so a step is never taken twice.
    """

    __tablename__ = "sla_clock"
    __table_args__ = (
        enum_check("kind", ClockKind),
        CheckConstraint("stage IN (0, 1, 2, 3, 9)", name="stage_valid"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str | None] = enum_column(ClockKind, nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    warn_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalate_at: Mapped[datetime | None] = mapped_column(DateTime)
    stage: Mapped[int] = mapped_column(SmallInteger, default=0)

    ticket = relationship("Ticket")

    def next_step(self) -> tuple[str, datetime] | None:
        """(step name, when it is due) for the watched deadline, or None when nothing is left."""
        return next_ladder_step(self)


class SweepLease(Model):
    """A named lease so that two sweeps never overlap (SQLite; PostgreSQL uses an advisory lock).

    A holder that dies leaves the lease to expire by itself.
    """

    __tablename__ = "sweep_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
