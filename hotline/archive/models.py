"""One archived ticket: the rows it owned, as they were, and the few fields that find it again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.models import created_at_column
from hotline.extensions import Model


class ArchivedTicket(Model):
    """A ticket moved out of the working tables by ``flask archive``. ``payload`` holds every row of the
    ticket's own tables (JSON text: PostgreSQL compresses it in TOAST); the id is the ticket's, so a restore
    puts it back under the same id and tracking number."""

    __tablename__ = "archived_ticket"
    __table_args__ = (
        # A caller's archived appeals, newest closed first: the citizen's account list and the staff lookup.
        Index("ix_archived_ticket_citizen_phone_closed", "citizen_phone", "closed_at"),
    )

    ticket_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tracking_no: Mapped[str] = mapped_column(String(14), unique=True)
    status: Mapped[str] = mapped_column(String(32))
    citizen_phone: Mapped[str] = mapped_column(String(20))  # the tracking page's proof, as on the ticket
    # The account that filed it while signed in: with the phone, the rule of a citizen's own appeals
    # (permissions.archived_appeal_scope, as ticket_scope's citizen branch).
    citizen_user_id: Mapped[int | None] = mapped_column(index=True)
    merged_into_id: Mapped[int | None] = mapped_column(index=True)  # its master: a merge comes back whole
    created_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    last_changed_at: Mapped[datetime] = mapped_column(DateTime)  # no rollup fact of the ticket is later
    archived_at: Mapped[datetime] = created_at_column()
    payload: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<ArchivedTicket {self.tracking_no}>"
