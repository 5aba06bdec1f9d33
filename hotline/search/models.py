"""The search index rows and the stored routing model.

``ticket_search`` holds each ticket's segmented text. Each back end indexes it its own way, created by
hand in the migration and kept out of autogenerate (``hotline.search.schema.include_object``):
PostgreSQL a generated ``tsv`` column (``to_tsvector('simple', document)``) with a GIN index; SQLite
an external-content FTS5 table ``ticket_search_fts`` that triggers keep in step with this table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.clock import utcnow
from hotline.core.models import created_at_column
from hotline.extensions import Model
from hotline.tickets.models import Ticket
from hotline.tickets.workflow import OPEN_STATUSES


class TicketSearch(Model):
    __tablename__ = "ticket_search"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # Space-joined jieba tokens of the title, body, address and released answers.
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    ticket: Mapped[Ticket] = relationship()


# Duplicate lookup at registration: open tickets of one category and district, newest first.
Index("ix_ticket_category_district_created", Ticket.category_id, Ticket.district_id, Ticket.created_at)
# Duplicate lookup by the same address in the same category.
Index("ix_ticket_category_address", Ticket.category_id, Ticket.address)


class RoutingModel(Model):
    """A trained routing classifier (pickled scikit-learn pipelines) and how well it did."""

    __tablename__ = "routing_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    trained_at: Mapped[datetime] = created_at_column()
    samples: Mapped[int] = mapped_column()
    category_accuracy: Mapped[float | None] = mapped_column()
    unit_accuracy: Mapped[float | None] = mapped_column()
    library: Mapped[str] = mapped_column(String(64))  # scikit-learn version the blob needs
    blob: Mapped[bytes] = mapped_column(LargeBinary)


# The duplicate hints' candidates of one (category, district): the newest open tickets, one index range
# (services._queue_candidates, find_duplicates) instead of intersecting the category's years of history with
# every open ticket. Partial: the predicate is the open statuses.
_OPEN_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES, key=lambda s: s.value)))
Index(
    "ix_ticket_open_place_created",
    Ticket.category_id,
    Ticket.district_id,
    Ticket.created_at,
    postgresql_where=text(_OPEN_SQL),
    sqlite_where=text(_OPEN_SQL),
)
