"""Opinion cases (舆情), the tickets linked to them and the notes written while they are handled."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model
from hotline.orgs.models import OrgUnit
from hotline.tickets.models import Category, Ticket


class CaseSource(enum.StrEnum):
    HOTSPOT = "hotspot"  # the same place and category three or more times in seven days
    NEWS = "news"  # a news report, by its link
    POST = "post"  # a social-media post staff saw


class CaseStage(enum.StrEnum):
    COLLECTED = "collected"  # 收集
    ANALYSED = "analysed"  # 研判
    HANDLING = "handling"  # 处置
    RESPONDED = "responded"  # 回应 (published)
    CLOSED = "closed"  # 办结 (reviewed)


class CaseLevel(enum.StrEnum):
    GENERAL = "general"  # 一般
    MAJOR = "major"  # 较大
    SERIOUS = "serious"  # 重大


OPEN_STAGES = (CaseStage.COLLECTED, CaseStage.ANALYSED, CaseStage.HANDLING, CaseStage.RESPONDED)


class OpinionCase(Model):
    __tablename__ = "opinion_case"
    __table_args__ = (
        enum_check("source", CaseSource),
        enum_check("stage", CaseStage),
        enum_check("level", CaseLevel),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = enum_column(CaseSource)
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(255))  # a hotspot's place key
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    url: Mapped[str | None] = mapped_column(String(1000))  # an outside item's link
    excerpt: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str] = enum_column(CaseStage, default=CaseStage.COLLECTED.value, index=True)
    level: Mapped[str | None] = enum_column(CaseLevel, nullable=True)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    deadline: Mapped[date | None] = mapped_column(Date)
    analysis: Mapped[str | None] = mapped_column(Text)
    response_title: Mapped[str | None] = mapped_column(String(200))  # published: already scrubbed
    response_body: Mapped[str | None] = mapped_column(Text)
    review: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    analysed_at: Mapped[datetime | None] = mapped_column(DateTime)
    handling_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    category: Mapped[Category | None] = relationship()
    lead_unit: Mapped[OrgUnit | None] = relationship()
    links: Mapped[list[OpinionCaseTicket]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="OpinionCaseTicket.linked_at"
    )
    notes: Mapped[list[OpinionNote]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="OpinionNote.id"
    )

    @property
    def is_open(self) -> bool:
        return CaseStage(self.stage) in OPEN_STAGES


class OpinionCaseTicket(Model):
    __tablename__ = "opinion_case_ticket"

    case_id: Mapped[int] = mapped_column(ForeignKey("opinion_case.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True, index=True)
    linked_at: Mapped[datetime] = created_at_column()
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    case: Mapped[OpinionCase] = relationship(back_populates="links")
    ticket: Mapped[Ticket] = relationship()


class OpinionNote(Model):
    """A handling note (处置记录) of the lead unit."""

    __tablename__ = "opinion_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("opinion_case.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    case: Mapped[OpinionCase] = relationship(back_populates="notes")
    unit: Mapped[OrgUnit | None] = relationship()
