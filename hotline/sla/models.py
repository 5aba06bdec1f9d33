"""Calendar days, SLA policies, and the supervision records (催办, 督办单)."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.tickets.workflow import Appeal, Urgency


class CalendarSource(str, enum.Enum):
    PACKAGE = "package"   # seeded from chinesecalendar
    ADMIN = "admin"       # entered or imported by an admin
    WEEKDAY = "weekday"   # fallback: Monday–Friday


class WorkCalendarDay(db.Model):
    __tablename__ = "work_calendar_day"
    __table_args__ = (enum_check("source", CalendarSource),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column()
    source: Mapped[str] = enum_column(CalendarSource)
    note: Mapped[Optional[str]] = mapped_column(String(64))


class LimitUnit(str, enum.Enum):
    WORKING_DAYS = "working_days"
    HOURS = "hours"


class SlaPolicy(db.Model):
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
    issued_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = enum_column(SupervisionSource, default=SupervisionSource.MANUAL.value)
    response_deadline: Mapped[Optional[datetime]] = mapped_column(DateTime)
    responded_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    response: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    @declared_attr
    def unit(cls) -> Mapped[OrgUnit]:
        return relationship(OrgUnit)


class SupervisionOrder(_SupervisionRecord, db.Model):
    """督办单: a formal order to a unit, with a response deadline."""
    __tablename__ = "supervision_order"
    __table_args__ = (enum_check("source", SupervisionSource),)


class Urging(_SupervisionRecord, db.Model):
    """催办: a reminder pressing a unit on a late ticket."""
    __tablename__ = "urging"
    __table_args__ = (enum_check("source", SupervisionSource),)
