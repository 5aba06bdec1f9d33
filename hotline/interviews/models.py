"""Online interviews (在线访谈) and press conferences (新闻发布会) with a unit's head, and the citizens' questions.

A session is scheduled, goes live, ends and has its transcript published; a question is moderated (approved or
rejected), answered live, or, left unanswered when the session ends, turned into a ticket for the unit. The
asker's name and phone are staff-only: they are used for the follow-up ticket and never shown on the portal."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.accounts.models import User
from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model
from hotline.orgs.models import OrgUnit
from hotline.tickets.models import Ticket


class InterviewKind(enum.StrEnum):
    INTERVIEW = "interview"  # 在线访谈
    PRESS = "press"  # 新闻发布会


class InterviewStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # 预告: questions may be submitted
    LIVE = "live"  # 直播中: questions and answers, the page updates itself
    ENDED = "ended"  # 已结束: unanswered questions became tickets; the Q&A is public
    PUBLISHED = "published"  # 实录已发布: the transcript with its summary


class QuestionStatus(enum.StrEnum):
    PENDING = "pending"  # 待审核
    APPROVED = "approved"  # 已通过: shown (scrubbed), waiting for an answer
    REJECTED = "rejected"  # 未通过: never shown
    ANSWERED = "answered"  # 已答复


class InterviewSession(Model):
    __tablename__ = "interview_session"
    __table_args__ = (
        enum_check("kind", InterviewKind),
        enum_check("status", InterviewStatus),
        Index("ix_interview_session_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = enum_column(InterviewKind, default=InterviewKind.INTERVIEW.value)
    topic: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC, as planned
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    guests: Mapped[str] = mapped_column(Text)  # the unit's head and the other guests, as announced
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = enum_column(InterviewStatus, default=InterviewStatus.SCHEDULED.value)
    summary: Mapped[str | None] = mapped_column(Text)  # the transcript's summary, published with it
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime)

    unit: Mapped[OrgUnit] = relationship()
    questions: Mapped[list[InterviewQuestion]] = relationship(
        back_populates="session", order_by="InterviewQuestion.id", cascade="all, delete-orphan"
    )

    @property
    def open_for_questions(self) -> bool:
        return self.status in (InterviewStatus.SCHEDULED.value, InterviewStatus.LIVE.value)


class InterviewQuestion(Model):
    __tablename__ = "interview_question"
    __table_args__ = (
        enum_check("status", QuestionStatus),
        Index("ix_interview_question_session_status", "session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("interview_session.id"))
    text: Mapped[str] = mapped_column(Text)  # as the citizen wrote it: staff only
    public_text: Mapped[str | None] = mapped_column(Text)  # scrubbed (core.privacy) when approved: the portal's
    asker_name: Mapped[str | None] = mapped_column(String(32))  # private: the follow-up ticket only
    asker_phone: Mapped[str | None] = mapped_column(String(20))  # private: the follow-up ticket only
    status: Mapped[str] = enum_column(QuestionStatus, default=QuestionStatus.PENDING.value)
    created_at: Mapped[datetime] = created_at_column()
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), unique=True)  # the follow-up ticket
    # Why an approved question left unanswered got no ticket at the end (a code, worded by the page): "no_phone".
    no_ticket_reason: Mapped[str | None] = mapped_column(String(16))

    session: Mapped[InterviewSession] = relationship(back_populates="questions")
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    ticket: Mapped[Ticket | None] = relationship()
