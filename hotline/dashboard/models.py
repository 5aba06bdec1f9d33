"""KPI rollups, hotspot alerts, key livelihood projects and the export log.

The rollup tables are derived data: ``hotline.dashboard.services`` rebuilds any day from the history,
so they carry no foreign keys that would stop a unit or category from being cleaned up, and "none"
dimensions are stored as 0 to keep the unique keys simple on both databases.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.clock import utcnow
from hotline.core.models import created_at_column
from hotline.extensions import Model, db
from hotline.orgs.models import OrgUnit
from hotline.tickets.models import Assignment, Reply, Ticket, TicketEvent
from hotline.tickets.workflow import OPEN_STATUSES


class KpiUnitDay(Model):
    """One unit's counts for one day (Asia/Shanghai); see ``hotline.dashboard.kpis.UnitCounts``."""

    __tablename__ = "kpi_unit_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registered: Mapped[int] = mapped_column(default=0)
    direct_answered: Mapped[int] = mapped_column(default=0)
    repeat: Mapped[int] = mapped_column(default=0)
    dispatched: Mapped[int] = mapped_column(default=0)
    returned: Mapped[int] = mapped_column(default=0)
    signed: Mapped[int] = mapped_column(default=0)
    signed_on_time: Mapped[int] = mapped_column(default=0)
    sign_hours: Mapped[float] = mapped_column(Float, default=0.0)
    answered: Mapped[int] = mapped_column(default=0)
    answered_on_time: Mapped[int] = mapped_column(default=0)
    answer_hours: Mapped[float] = mapped_column(Float, default=0.0)
    redone: Mapped[int] = mapped_column(default=0)
    rated_satisfied: Mapped[int] = mapped_column(default=0)
    rated_basically: Mapped[int] = mapped_column(default=0)
    rated_unsatisfied: Mapped[int] = mapped_column(default=0)
    not_reached: Mapped[int] = mapped_column(default=0)
    sign_hist: Mapped[dict | None] = mapped_column(JSON)
    answer_hist: Mapped[dict | None] = mapped_column(JSON)


class KpiIntakeDay(Model):
    """Appeals registered per day × channel × category × district (0 = none), for intake charts and
    category, district and public breakdowns."""

    __tablename__ = "kpi_intake_day"
    __table_args__ = (UniqueConstraint("day", "channel", "category_id", "district_id", name="uq_kpi_intake_day_dims"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    category_id: Mapped[int] = mapped_column(Integer, default=0)
    district_id: Mapped[int] = mapped_column(Integer, default=0)
    registered: Mapped[int] = mapped_column(default=0)
    direct_answered: Mapped[int] = mapped_column(default=0)
    repeat: Mapped[int] = mapped_column(default=0)


class KpiRollupRun(Model):
    """When each day was last rolled up; ``final`` once it was rolled up after the day ended."""

    __tablename__ = "kpi_rollup_run"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    final: Mapped[bool] = mapped_column(default=False)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class KpiSnapshot(Model):
    """Ready-made figures a page reads with one primary-key lookup (``hotline.dashboard.queries``).

    Written by the rollup task after each rollup (the dashboard's preset periods for every supervisor's
    scope, the public page's months); every ``rollup_day`` deletes them all, so a snapshot is never
    older than the rollup rows it was computed from. A page whose key has no snapshot computes the
    same payload from the rollup rows.
    """

    __tablename__ = "kpi_snapshot"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    payload: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class HotspotAlertRow(Model):
    """The current 未诉先办 alerts (same place and category ≥ 3 times in 7 days); replaced on each refresh."""

    __tablename__ = "kpi_hotspot_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    place: Mapped[str] = mapped_column(String(255))
    category_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int] = mapped_column(Integer, default=0)
    ticket_count: Mapped[int] = mapped_column()
    ticket_ids: Mapped[list] = mapped_column(JSON)
    first_at: Mapped[datetime] = mapped_column(DateTime)
    last_at: Mapped[datetime] = mapped_column(DateTime)
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


project_ticket = Table(
    "livelihood_project_ticket",
    db.metadata,
    Column("ticket_id", ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True),  # one project a ticket
    Column("project_id", ForeignKey("livelihood_project.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("tagged_at", DateTime, nullable=False, default=utcnow),
    Column("tagged_by_id", ForeignKey("user_account.id"), nullable=True),
)


class LivelihoodProject(Model):
    """重点民生工程: one of the projects the city names each year; tickets are tagged to it."""

    __tablename__ = "livelihood_project"
    __table_args__ = (UniqueConstraint("year", "name", name="uq_livelihood_project_year_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    public: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()

    lead_unit: Mapped[OrgUnit | None] = relationship()


class ExportRecord(Model):
    """Who exported what, when: every export of KPI tables and ticket lists (they carry personal data)."""

    __tablename__ = "dashboard_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # kpi_units, tickets
    file_format: Mapped[str] = mapped_column(String(8))  # xlsx, csv
    params: Mapped[dict | None] = mapped_column(JSON)
    row_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_at_column()


# Indexes the rollups and boards need on tables other packages own (declared here, created by this
# package's migration): each day's facts are found by their time, the boards by the warning flag. (Tickets
# by time: ix_ticket_created_at_id, declared with the ticket.)
Index("ix_assignment_dispatched_at", Assignment.dispatched_at)
Index(
    "ix_assignment_signed_at",
    Assignment.signed_at,
    postgresql_where=text("signed_at IS NOT NULL"),
    sqlite_where=text("signed_at IS NOT NULL"),
)
Index(
    "ix_reply_released_at",
    Reply.released_at,
    postgresql_where=text("released_at IS NOT NULL"),
    sqlite_where=text("released_at IS NOT NULL"),
)
Index(
    "ix_ticket_warning_open",
    Ticket.warning_level,
    Ticket.next_deadline_at,
    postgresql_where=text("warning_level <> 'none'"),
    sqlite_where=text("warning_level <> 'none'"),
)
_OPEN_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES, key=lambda s: s.value)))
# The red/yellow boards: their tickets in answer-deadline order (the first rows of the index), and their
# counts, scope included, from the index alone (status, district and lead unit are in it). Open tickets only: a
# closed ticket keeps its card, and years of closed carded tickets made the planner walk every open one instead.
Index(
    "ix_ticket_open_warning_board",
    Ticket.warning_level,
    Ticket.answer_deadline_at,
    Ticket.id,
    Ticket.status,
    Ticket.district_id,
    Ticket.lead_unit_id,
    postgresql_where=text(f"warning_level <> 'none' AND {_OPEN_SQL}"),
    sqlite_where=text(f"warning_level <> 'none' AND {_OPEN_SQL}"),
)
# Open tickets by status and card, scope included, from the index alone (the dashboard's live counts; a
# district supervisor's scope is its district or its lead units). Partial: the predicate is the open statuses.
Index(
    "ix_ticket_open_scope",
    Ticket.status,
    Ticket.warning_level,
    Ticket.district_id,
    Ticket.lead_unit_id,
    postgresql_where=text(_OPEN_SQL),
    sqlite_where=text(_OPEN_SQL),
)
_ = TicketEvent  # events are read through ix_ticket_event_action_created (action, created_at)
