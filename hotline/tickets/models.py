"""Tickets and everything recorded about them.

``TicketEvent`` is the append-only history: dashboards and breach reports read
it, so rows are never updated or deleted (enforced below).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.accounts.models import User
from hotline.core.clock import utcnow
from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model
from hotline.orgs.models import OrgUnit
from hotline.tickets.workflow import Appeal, Channel, Satisfaction, Status, Urgency

if TYPE_CHECKING:  # hotline.sla.models imports this module
    from hotline.sla.models import SupervisionOrder, Urging


class WarningLevel(str, enum.Enum):
    NONE = "none"
    YELLOW = "yellow"  # 黄牌: a deadline is near
    RED = "red"  # 红牌: a deadline has passed


class Category(Model):
    """Two-level taxonomy (一级/二级分类)."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str | None] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Position among its siblings in pickers and lists (admins reorder; ties fall back to the code).
    sort_order: Mapped[int] = mapped_column(default=0, server_default="0")
    # Extra questions an operator asks for this category, e.g. ["小区名称", "物业公司"].
    questions: Mapped[list | None] = mapped_column(JSON)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="[Category.sort_order, Category.code]"
    )

    @property
    def full_name(self) -> str:
        return f"{self.parent.name}/{self.name}" if self.parent else self.name


class CategoryRoute(Model):
    """派单目录: the default lead unit for a category in a district."""

    __tablename__ = "category_route"
    __table_args__ = (UniqueConstraint("category_id", "district_id", name="uq_category_route_category_district"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))

    category: Mapped[Category] = relationship()
    district: Mapped[OrgUnit] = relationship(foreign_keys=[district_id])
    unit: Mapped[OrgUnit] = relationship(foreign_keys=[unit_id])


class CannedAnswer(Model):
    """An answer template (常用答复) a unit can start from, for one category or for all."""

    __tablename__ = "canned_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

    category: Mapped[Category | None] = relationship()


class DailySequence(Model):
    """The last tracking-number sequence used on each day (Asia/Shanghai date). SQLite counts here; on
    PostgreSQL a day's own sequence starts after its row (``hotline.tickets.tracking``)."""

    __tablename__ = "daily_sequence"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class Ticket(Model):
    __tablename__ = "ticket"
    __table_args__ = (
        enum_check("status", Status),
        enum_check("channel", Channel),
        enum_check("appeal_type", Appeal),
        enum_check("urgency", Urgency),
        enum_check("warning_level", WarningLevel),
        enum_check("satisfaction", Satisfaction),
        # The sweep reads only tickets with a pending deadline; closed work drops out of the index.
        Index(
            "ix_ticket_next_deadline_open",
            "next_deadline_at",
            postgresql_where=text("next_deadline_at IS NOT NULL"),
            sqlite_where=text("next_deadline_at IS NOT NULL"),
        ),
        Index("ix_ticket_status_created", "status", "created_at"),
        # The dispatch desk's queues: pending work by urgency then age; returns and answers by last change.
        Index("ix_ticket_status_urgency_created", "status", "urgency", "created_at"),
        Index("ix_ticket_status_updated", "status", "updated_at"),
        # A caller's appeals, newest first (the operator's caller history: a number that called 40,000
        # times is read 20 rows deep, not sorted whole); the citizen's scope reads the leading column.
        Index("ix_ticket_citizen_phone_created", "citizen_phone", "created_at"),
        # The ticket list's order (newest first, the id breaks ties): its pages are found from the index
        # alone. The dashboard's rollups find each day's tickets by the leading column.
        Index("ix_ticket_created_at_id", "created_at", "id"),
        # The callback list (回访) newest first: the tickets waiting for their callback and the merged appeals
        # whose callers may still be due, read from the top of this index, not gathered and sorted whole.
        Index(
            "ix_ticket_callback_created",
            "created_at",
            "id",
            postgresql_where=text("status IN ('pending_callback', 'merged')"),
            sqlite_where=text("status IN ('pending_callback', 'merged')"),
        ),
        # Ratings by the time they came: the dashboard's channels of a period, the callback list's "rated
        # without a call" (a few days' ratings, not every ticket).
        # On PostgreSQL it carries what those count by (channel, rating, status, lead unit): an index-only
        # scan of the period, not a heap fetch of every rated ticket scattered over the years.
        Index(
            "ix_ticket_rated_at_cover",
            "rated_at",
            postgresql_include=["rated_via", "satisfaction", "status", "lead_unit_id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(14), unique=True)
    channel: Mapped[str] = enum_column(Channel)
    appeal_type: Mapped[str] = enum_column(Appeal)
    urgency: Mapped[str] = enum_column(Urgency, default=Urgency.NORMAL.value)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(255))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    citizen_name: Mapped[str | None] = mapped_column(String(64))
    citizen_phone: Mapped[str] = mapped_column(String(20))
    citizen_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    confidential: Mapped[bool] = mapped_column(default=False)
    allow_publish: Mapped[bool] = mapped_column(default=False)

    status: Mapped[str] = enum_column(Status)
    intake_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    sign_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    deadline_provisional: Mapped[bool] = mapped_column(default=False)
    next_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    warning_level: Mapped[str] = enum_column(WarningLevel, default=WarningLevel.NONE.value)
    escalation_level: Mapped[int] = mapped_column(default=0)
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime)

    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    dispatch_count: Mapped[int] = mapped_column(default=0)
    redo_count: Mapped[int] = mapped_column(default=0)
    satisfaction: Mapped[str | None] = enum_column(Satisfaction, nullable=True)
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)
    rated_via: Mapped[str | None] = mapped_column(String(8))  # RatingChannel; None before 2026-12

    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Optimistic lock: two people acting at once, exactly one wins.
    version: Mapped[int] = mapped_column(default=1)

    category: Mapped[Category | None] = relationship()
    district: Mapped[OrgUnit | None] = relationship(foreign_keys=[district_id])
    intake_unit: Mapped[OrgUnit] = relationship(foreign_keys=[intake_unit_id])
    lead_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[lead_unit_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    merged_into: Mapped[Ticket | None] = relationship(
        remote_side=[id], foreign_keys=[merged_into_id], back_populates="duplicates"
    )
    duplicates: Mapped[list[Ticket]] = relationship(
        foreign_keys=[merged_into_id], back_populates="merged_into", order_by="Ticket.id"
    )
    assignments: Mapped[list[Assignment]] = relationship(back_populates="ticket", order_by="Assignment.id")
    events: Mapped[list[TicketEvent]] = relationship(back_populates="ticket", order_by="TicketEvent.id")
    replies: Mapped[list[Reply]] = relationship(back_populates="ticket", order_by="Reply.id")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="ticket", order_by="Attachment.id")
    # Read-only, for the ticket page's supervision panel: hotline.sla writes these rows through its services.
    supervision_orders: Mapped[list[SupervisionOrder]] = relationship(viewonly=True, order_by="SupervisionOrder.id")
    urgings: Mapped[list[Urging]] = relationship(viewonly=True, order_by="Urging.id")
    extension_requests: Mapped[list[ExtensionRequest]] = relationship(viewonly=True, order_by="ExtensionRequest.id")
    suspension_requests: Mapped[list[SuspensionRequest]] = relationship(viewonly=True, order_by="SuspensionRequest.id")

    __mapper_args__ = {"version_id_col": version}

    def active_assignments(self) -> list[Assignment]:
        return [a for a in self.assignments if a.status in ACTIVE_ASSIGNMENT_STATUSES]

    def lead_assignment(self) -> Assignment | None:
        """The active lead assignment at the top of any pass-down chain."""
        for a in self.active_assignments():
            if a.role == AssignmentRole.LEAD.value and a.parent_id is None:
                return a
        return None

    def __repr__(self) -> str:
        return f"<Ticket {self.tracking_no} {self.status}>"


class AssignmentRole(str, enum.Enum):
    LEAD = "lead"  # 主办
    ASSIST = "assist"  # 协办


class AssignmentStatus(str, enum.Enum):
    DISPATCHED = "dispatched"  # waiting for 签收
    SIGNED = "signed"
    ANSWERED = "answered"
    RETURNED = "returned"  # 退单 approved: no longer this unit's
    WITHDRAWN = "withdrawn"  # recalled (merge, re-dispatch)


ACTIVE_ASSIGNMENT_STATUSES = frozenset(
    {AssignmentStatus.DISPATCHED.value, AssignmentStatus.SIGNED.value, AssignmentStatus.ANSWERED.value}
)


class Assignment(Model):
    """One dispatch of a ticket to a unit; pass-down (下派) rows point at their parent."""

    __tablename__ = "assignment"
    __table_args__ = (
        enum_check("role", AssignmentRole),
        enum_check("status", AssignmentStatus),
        Index("ix_assignment_unit_status", "unit_id", "status"),
        # A unit's open work, whatever the years of closed history behind it: the workspace and the open
        # statuses' counts read only these rows (hotline.tickets.counts).
        Index(
            "ix_assignment_open_work",
            "unit_id",
            "status",
            "ticket_id",
            postgresql_where=text("ticket_open"),
            sqlite_where=text("ticket_open"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    role: Mapped[str] = enum_column(AssignmentRole)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    status: Mapped[str] = enum_column(AssignmentStatus, default=AssignmentStatus.DISPATCHED.value)
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    dispatched_at: Mapped[datetime] = created_at_column()
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    sign_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    instructions: Mapped[str | None] = mapped_column(Text)
    # False once the ticket is final (final statuses are absorbing): set with the final transition.
    ticket_open: Mapped[bool] = mapped_column(default=True, server_default=text("true"))

    ticket: Mapped[Ticket] = relationship(back_populates="assignments")
    unit: Mapped[OrgUnit] = relationship()
    parent: Mapped[Assignment | None] = relationship(remote_side=[id])


class EventActorKind(str, enum.Enum):
    USER = "user"
    CITIZEN = "citizen"
    PUBLIC = "public"
    SYSTEM = "system"


class TicketEvent(Model):
    """Append-only history of a ticket."""

    __tablename__ = "ticket_event"
    __table_args__ = (
        enum_check("actor_kind", EventActorKind),
        Index("ix_ticket_event_ticket_id", "ticket_id", "id"),
        Index("ix_ticket_event_action_created", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    actor_kind: Mapped[str] = enum_column(EventActorKind)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)
    # Shown on the citizen's track page (no internal notes, no staff names).
    public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = created_at_column()

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    unit: Mapped[OrgUnit | None] = relationship()


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketEvent, "before_delete")
def _history_is_append_only(mapper, connection, target):
    raise RuntimeError("ticket events are append-only")


class ReplyState(str, enum.Enum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SENT_BACK = "sent_back"


class Reply(Model):
    """A unit's answer (答复) and its review (审核) by the hotline."""

    __tablename__ = "reply"
    __table_args__ = (enum_check("state", ReplyState),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = enum_column(ReplyState, default=ReplyState.SUBMITTED.value)
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime] = created_at_column()
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    released_at: Mapped[datetime | None] = mapped_column(DateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="replies")
    unit: Mapped[OrgUnit] = relationship()


class RequestState(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class _UnitRequest:
    """Columns shared by extension and suspension requests: a unit asks, a supervisor decides."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = enum_column(RequestState, default=RequestState.PENDING.value)
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()


class ExtensionRequest(_UnitRequest, Model):
    """延期: a new answer deadline asked for before the old one passes."""

    __tablename__ = "extension_request"
    __table_args__ = (enum_check("state", RequestState),)

    requested_deadline: Mapped[datetime] = mapped_column(DateTime)


class SuspensionRequest(_UnitRequest, Model):
    """挂起: the clock stops while the ticket is suspended."""

    __tablename__ = "suspension_request"
    __table_args__ = (enum_check("state", RequestState),)

    resume_by: Mapped[datetime | None] = mapped_column(DateTime)


class Attachment(Model):
    """A photo or document; the bytes live in storage under ``storage_key``."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = created_at_column()

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")


class ScopeFinalCount(Model):
    """How many final tickets of each status a scope holds (``hotline.tickets.counts``): the ticket list's
    tabs of closed work read these instead of counting years of history. ``kind`` is the scope rule of
    ``permissions.ticket_scope``: ``handler`` (tickets actively assigned in the unit's subtree) or ``staff``
    (those and the tickets taken in there; the root's ``staff`` row is the whole city)."""

    __tablename__ = "scope_final_count"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
