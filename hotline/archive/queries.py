"""Reading the archive: for the tracking page, the dashboard's rebuild, ``flask archive status``, the staff's
archive page (a lookup, one ticket's file) and a citizen account's archived appeals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import defer, joinedload

from hotline.accounts.models import User
from hotline.archive.models import ArchivedTicket
from hotline.archive.payload import decode_row
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.permissions import archived_appeal_scope
from hotline.tickets.models import Category


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


# --- the staff's archive page (hotline.archive.views) ---------------------------------------------------------


@dataclass(frozen=True)
class ArchiveLookup:
    """The archive page's filters; moments are naive UTC, ``closed_before`` exclusive."""

    tracking_no: str | None = None
    phone: str | None = None
    closed_from: datetime | None = None
    closed_before: datetime | None = None

    @property
    def narrowed(self) -> bool:
        return any(v is not None for v in (self.tracking_no, self.phone, self.closed_from, self.closed_before))


NEWEST_CLOSED_FIRST = (ArchivedTicket.closed_at.desc(), ArchivedTicket.ticket_id.desc())


def lookup(filters: ArchiveLookup) -> Select[tuple[ArchivedTicket]]:
    """Archived tickets matching ``filters``, newest closed first, without their payloads (a list shows none)."""
    query = select(ArchivedTicket).options(defer(ArchivedTicket.payload)).order_by(*NEWEST_CLOSED_FIRST)
    if filters.tracking_no is not None:
        query = query.where(ArchivedTicket.tracking_no == filters.tracking_no)
    if filters.phone is not None:  # ix_archived_ticket_citizen_phone_closed
        query = query.where(ArchivedTicket.citizen_phone == filters.phone)
    if filters.closed_from is not None:
        query = query.where(ArchivedTicket.closed_at >= filters.closed_from)
    if filters.closed_before is not None:
        query = query.where(ArchivedTicket.closed_at < filters.closed_before)
    return query


def lookup_count(filters: ArchiveLookup) -> int:
    return int(
        db.session.execute(select(func.count()).select_from(lookup(filters).order_by(None).subquery())).scalar_one()
    )


@dataclass
class ArchivedEvent:
    created_at: datetime
    action: str
    from_status: str | None
    to_status: str | None
    actor_kind: str
    actor_name: str | None
    unit: OrgUnit | None
    note: str | None
    public: bool
    data: dict[str, Any]


@dataclass
class ArchivedAnswer:
    unit: OrgUnit | None
    body: str
    submitted_at: datetime | None
    released_at: datetime | None


@dataclass
class ArchivedFile:
    """What the archive's page of one ticket shows, read from its payload: the ticket's own columns
    (``ticket``, as stored), the names its ids point at, its history in order and its released answers."""

    archived: ArchivedTicket
    ticket: dict[str, Any]
    category: Category | None
    district: OrgUnit | None
    lead_unit: OrgUnit | None
    events: list[ArchivedEvent]
    answers: list[ArchivedAnswer]
    units_by_code: dict[str, OrgUnit]
    photos: int
    merged_into: str | None  # the master's tracking number (archived with it)
    duplicates: list[str] = field(default_factory=list)


def _rows(payload: dict[str, Any], name: str) -> list[dict[str, Any]]:
    table = db.metadata.tables[name]
    return [decode_row(table, row) for row in payload["tables"].get(name, [])]


def _event_unit_codes(events: list[dict[str, Any]]) -> set[str]:
    codes: set[str] = set()
    for e in events:
        data = e.get("data") or {}
        for key in ("lead_unit", "to_unit"):
            if isinstance(data.get(key), str):
                codes.add(data[key])
        codes.update(c for c in data.get("assist_units") or [] if isinstance(c, str))
    return codes


def archived_file(tracking_no: str) -> ArchivedFile | None:
    """One archived ticket's file, or None when the number is not in the archive. A fixed number of queries:
    the row, then the units, users and category its rows name, and its merge partners."""
    archived = db.session.execute(select(ArchivedTicket).filter_by(tracking_no=tracking_no)).scalar_one_or_none()
    if archived is None:
        return None
    payload = json.loads(archived.payload)
    ticket = _rows(payload, "ticket")[0]
    events = sorted(_rows(payload, "ticket_event"), key=lambda e: (e["created_at"], e["id"]))
    replies = [r for r in _rows(payload, "reply") if r.get("state") == "approved"]

    unit_ids = {ticket.get("district_id"), ticket.get("lead_unit_id")}
    unit_ids |= {e.get("unit_id") for e in events} | {r.get("unit_id") for r in replies}
    codes = _event_unit_codes(events)
    units: dict[int | None, OrgUnit] = {
        u.id: u
        for u in db.session.execute(
            select(OrgUnit).where(or_(OrgUnit.id.in_(unit_ids - {None}), OrgUnit.code.in_(codes)))
        ).scalars()
    }
    actor_ids = {e.get("actor_id") for e in events} - {None}
    actors: dict[int | None, str] = dict(
        db.session.execute(select(User.id, User.display_name).where(User.id.in_(actor_ids))).tuples().all()
    )
    category = (
        db.session.execute(
            select(Category).options(joinedload(Category.parent)).filter_by(id=ticket["category_id"])
        ).scalar_one_or_none()
        if ticket.get("category_id")
        else None
    )
    partners = db.session.execute(
        select(ArchivedTicket.ticket_id, ArchivedTicket.tracking_no, ArchivedTicket.merged_into_id).where(
            or_(
                ArchivedTicket.ticket_id == archived.merged_into_id, ArchivedTicket.merged_into_id == archived.ticket_id
            )
        )
    ).all()
    return ArchivedFile(
        archived=archived,
        ticket=ticket,
        category=category,
        district=units.get(ticket.get("district_id")),
        lead_unit=units.get(ticket.get("lead_unit_id")),
        events=[
            ArchivedEvent(
                created_at=e["created_at"],
                action=e["action"],
                from_status=e.get("from_status"),
                to_status=e.get("to_status"),
                actor_kind=e.get("actor_kind") or "system",
                actor_name=actors.get(e.get("actor_id")),
                unit=units.get(e.get("unit_id")),
                note=e.get("note"),
                public=bool(e.get("public")),
                data=e.get("data") or {},
            )
            for e in events
        ],
        answers=[
            ArchivedAnswer(
                units.get(r.get("unit_id")), r.get("body") or "", r.get("submitted_at"), r.get("released_at")
            )
            for r in replies
        ],
        units_by_code={u.code: u for u in units.values()},
        photos=len(payload["tables"].get("attachment", [])),
        merged_into=next((no for tid, no, _ in partners if tid == archived.merged_into_id), None),
        duplicates=sorted(no for tid, no, master in partners if master == archived.ticket_id),
    )


# --- a citizen account's archived appeals (its "my appeals") --------------------------------------------------


@dataclass
class ArchivedAppeals:
    """The newest ``rows`` of the account's archived appeals, each with the status it followed (a merged
    appeal's master's, as on the live list), and how many there are in all."""

    rows: list[tuple[ArchivedTicket, str]]
    total: int


def account_archived_appeals(user: User, limit: int = 50) -> ArchivedAppeals:
    """A citizen account's archived appeals, newest closed first (``permissions.archived_appeal_scope``)."""
    scope = archived_appeal_scope(user)
    rows = list(
        db.session.execute(
            select(ArchivedTicket)
            .options(defer(ArchivedTicket.payload))
            .where(scope)
            .order_by(*NEWEST_CLOSED_FIRST)
            .limit(limit)
        ).scalars()
    )
    total = len(rows)
    if total == limit:
        total = db.session.execute(select(func.count()).select_from(ArchivedTicket).where(scope)).scalar_one()
    masters = {r.merged_into_id for r in rows} - {None}
    master_status = (
        dict(
            db.session.execute(
                select(ArchivedTicket.ticket_id, ArchivedTicket.status).where(ArchivedTicket.ticket_id.in_(masters))
            )
            .tuples()
            .all()
        )
        if masters
        else {}
    )
    return ArchivedAppeals(
        [(r, master_status.get(r.merged_into_id, r.status) if r.merged_into_id else r.status) for r in rows],
        int(total),
    )
