"""Accountability cases (责任追究): a supervisor holds a unit (and optionally a named official) to account for
one ticket's red card, unsatisfied redo or supervision order; the unit reports its rectification, the
supervisor reviews it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.accounts.models import User
from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model
from hotline.orgs.models import OrgUnit
from hotline.sla.models import SupervisionOrder
from hotline.tickets.models import Ticket


class CaseOrigin(enum.StrEnum):
    RED_CARD = "red_card"  # the ticket's deadline passed (红牌)
    REDO = "redo"  # the citizen was unsatisfied: a redo (不满意重办)
    SUPERVISION_ORDER = "supervision_order"  # a 督办单 to the unit


class CaseMeasure(enum.StrEnum):
    INTERVIEW = "interview"  # 约谈
    CRITICISM = "criticism"  # 通报批评
    DISCIPLINE = "discipline"  # 移送纪检


class CaseStatus(enum.StrEnum):
    OPENED = "opened"  # waiting for the unit's rectification report
    REPORT_SUBMITTED = "report_submitted"  # waiting for the supervisor's review
    RETURNED = "returned"  # the report was not accepted: a new one is due
    CLOSED = "closed"  # the report was accepted


# The unit owes a report in these states; the supervisor owes a review in REPORT_SUBMITTED.
AWAITING_REPORT = (CaseStatus.OPENED.value, CaseStatus.RETURNED.value)


class AccountabilityCase(Model):
    __tablename__ = "accountability_case"
    __table_args__ = (
        enum_check("origin", CaseOrigin),
        enum_check("measure", CaseMeasure),
        enum_check("status", CaseStatus),
        CheckConstraint("ticket_id IS NOT NULL OR supervision_order_id IS NOT NULL", name="has_origin"),
        Index("ix_accountability_case_unit_opened", "unit_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    # The official held to account, if named: personal data, shown to hotline staff only.
    official_name: Mapped[str | None] = mapped_column(String(80))
    origin: Mapped[str] = enum_column(CaseOrigin)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    supervision_order_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_order.id"), index=True)
    findings: Mapped[str] = mapped_column(Text)
    measure: Mapped[str] = enum_column(CaseMeasure)
    status: Mapped[str] = enum_column(CaseStatus, default=CaseStatus.OPENED.value)
    report_due_at: Mapped[datetime] = mapped_column(DateTime)
    review_due_at: Mapped[datetime] = mapped_column(DateTime)
    report: Mapped[str | None] = mapped_column(Text)
    report_submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    report_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # Set once the unit was told its report is overdue (``remind_overdue_reports``); cleared by a new deadline.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()

    unit: Mapped[OrgUnit] = relationship()
    ticket: Mapped[Ticket | None] = relationship()
    supervision_order: Mapped[SupervisionOrder | None] = relationship()
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    report_by: Mapped[User | None] = relationship(foreign_keys=[report_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    def report_overdue(self, now: datetime) -> bool:
        return self.status in AWAITING_REPORT and self.report_due_at < now

    def review_overdue(self, now: datetime) -> bool:
        return self.status == CaseStatus.REPORT_SUBMITTED.value and self.review_due_at < now
