"""Reading the archive: for the tracking page, the dashboard's rebuild and ``flask archive status``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from hotline.archive.models import ArchivedTicket
from hotline.extensions import db


def archived_until() -> datetime | None:
    """The latest moment any archived ticket changed: rollups of days up to then hold facts no longer in the
    working tables."""
    return db.session.execute(select(func.max(ArchivedTicket.last_changed_at))).scalar()


def archived_for_citizen(tracking_no: str, phone: str | None) -> ArchivedTicket | None:
    """The tracking page's answer for an archived appeal, on the same proof as a ticket's (the phone)."""
    row = db.session.execute(select(ArchivedTicket).filter_by(tracking_no=tracking_no)).scalar_one_or_none()
    if row is None or not phone or row.citizen_phone != phone:
        return None
    return row


@dataclass
class ArchiveStatus:
    tickets: int
    oldest_closed: datetime | None
    newest_closed: datetime | None


def status() -> ArchiveStatus:
    count, oldest, newest = db.session.execute(
        select(func.count(), func.min(ArchivedTicket.closed_at), func.max(ArchivedTicket.closed_at))
    ).one()
    return ArchiveStatus(count, oldest, newest)
