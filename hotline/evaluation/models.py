"""Questionnaires, their questions, and the responses citizens and evaluators give about one unit."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model


class QuestionnaireStatus(str, enum.Enum):
    DRAFT = "draft"  # questions may be added, reordered and removed
    OPEN = "open"  # answers are taken (between opens_on and closes_on)
    CLOSED = "closed"  # no more answers; results for staff
    PUBLISHED = "published"  # results on the public statistics page


class QuestionKind(str, enum.Enum):
    SCORE = "score"  # 1 to 5
    CHOICE = "choice"  # 满意 (3) / 基本满意 (2) / 不满意 (1)


class RespondentKind(str, enum.Enum):
    CITIZEN = "citizen"
    EVALUATOR = "evaluator"


class Questionnaire(Model):
    __tablename__ = "eval_questionnaire"
    __table_args__ = (enum_check("status", QuestionnaireStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = enum_column(QuestionnaireStatus, default=QuestionnaireStatus.DRAFT.value)
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()
    published_at: Mapped[datetime | None] = mapped_column(DateTime)

    questions: Mapped[list[Question]] = relationship(
        back_populates="questionnaire", order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(Model):
    __tablename__ = "eval_question"
    __table_args__ = (enum_check("kind", QuestionKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("eval_questionnaire.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = enum_column(QuestionKind)
    position: Mapped[int] = mapped_column(Integer, default=0)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="questions")


class EvaluationResponse(Model):
    """One respondent's answers about one unit: once per signed-in account, once per ticket's link."""

    __tablename__ = "eval_response"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "unit_id", "user_id", name="uq_eval_response_user"),
        UniqueConstraint("questionnaire_id", "unit_id", "ticket_id", name="uq_eval_response_ticket"),
        enum_check("respondent_kind", RespondentKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("eval_questionnaire.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    respondent_kind: Mapped[str] = enum_column(RespondentKind)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    created_at: Mapped[datetime] = created_at_column()

    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class Answer(Model):
    __tablename__ = "eval_answer"
    __table_args__ = (UniqueConstraint("response_id", "question_id", name="uq_eval_answer_question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("eval_response.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("eval_question.id", ondelete="CASCADE"), index=True)
    value: Mapped[int] = mapped_column(Integer)

    response: Mapped[EvaluationResponse] = relationship(back_populates="answers")
