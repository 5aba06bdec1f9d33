"""The API's ticket lists: the caller's scope first, then the filters."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, func, or_, select

from hotline.api.auth import Caller
from hotline.api.models import ApiSubmission
from hotline.api.services import submitted_with
from hotline.core.clock import LOCAL_TZ, to_utc_naive
from hotline.core.errors import ValidationFailed
from hotline.extensions import db
from hotline.orgs.services import get_unit_by_code, subtree_ids
from hotline.permissions import can_read
from hotline.tickets.models import ACTIVE_ASSIGNMENT_STATUSES, Assignment, Category, Ticket
from hotline.tickets.queries import visible_tickets
from hotline.tickets.services import get_ticket


def scoped_tickets(caller: Caller) -> Select:
    """Staff: what their roles let them see. Partner keys: what they filed. Nobody else: nothing."""
    if caller.user is not None:
        return visible_tickets(caller.user)
    if caller.api_key is not None:
        return select(Ticket).where(Ticket.id.in_(submitted_with(caller.api_key)))
    return select(Ticket).where(false())


def may_see(caller: Caller, ticket: Ticket) -> bool:
    if caller.user is not None:
        return can_read(caller.user, ticket)
    if caller.api_key is not None:
        return (
            db.session.execute(
                select(ApiSubmission.ticket_id).where(
                    ApiSubmission.api_key_id == caller.api_key.id, ApiSubmission.ticket_id == ticket.id
                )
            ).first()
            is not None
        )
    return False


def visible_ticket(caller: Caller, tracking_no: str) -> Ticket:
    """The ticket, or the same NotFound whether it does not exist or is someone else's."""
    from hotline.core.errors import NotFound

    try:
        ticket = get_ticket(tracking_no)
    except NotFound:
        ticket = None
    if ticket is None or not may_see(caller, ticket):
        raise NotFound(_l("No ticket with tracking number %(no)s.", no=tracking_no))
    return ticket


def _day_start(day) -> datetime:
    return to_utc_naive(datetime.combine(day, time.min, tzinfo=LOCAL_TZ))


def filtered(caller: Caller, args: dict) -> Select:
    """The caller's scope and the list filters (``q`` apart: see ``page_of_matches``)."""
    query = scoped_tickets(caller)
    if args.get("status"):
        query = query.where(Ticket.status == args["status"])
    if args.get("unit"):
        unit = get_unit_by_code(args["unit"])
        if unit is None:
            raise ValidationFailed(_l("Unknown unit."), field="unit")
        at_unit = select(Assignment.ticket_id).where(
            Assignment.unit_id.in_(subtree_ids(unit)), Assignment.status.in_(ACTIVE_ASSIGNMENT_STATUSES)
        )
        query = query.where(or_(Ticket.id.in_(at_unit), Ticket.lead_unit_id.in_(subtree_ids(unit))))
    if args.get("category"):
        category = db.session.execute(select(Category).filter_by(code=args["category"])).scalar_one_or_none()
        if category is None:
            raise ValidationFailed(_l("Unknown category."), field="category")
        ids = [category.id, *(c.id for c in category.children)]
        query = query.where(Ticket.category_id.in_(ids))
    if args.get("date_from"):
        query = query.where(Ticket.created_at >= _day_start(args["date_from"]))
    if args.get("date_to"):
        query = query.where(Ticket.created_at < _day_start(args["date_to"] + timedelta(days=1)))
    if args.get("date_from") and args.get("date_to") and args["date_from"] > args["date_to"]:
        raise ValidationFailed(_l("The start date is after the end date."), field="from")
    return query


def page_of(query: Select, page: int, per_page: int) -> tuple[list[Ticket], int]:
    total = db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    items = (
        db.session.execute(
            query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(per_page).offset((page - 1) * per_page)
        )
        .scalars()
        .all()
    )
    return list(items), total


def page_of_matches(query: Select, q: str, page: int, per_page: int) -> tuple[list[Ticket], int, bool]:
    """A page of the newest tickets of ``query`` matching every word of ``q``, the count of matches up to
    the search cap, and whether there are more (like the search page: at a million tickets two common
    words match tens of thousands, and counting them all costs a scan of every match)."""
    from hotline.search.services import COUNT_CAP, newest_matches

    clause = query.whereclause
    ids = newest_matches(q, (lambda sel: sel.where(clause)) if clause is not None else None) or []
    capped = len(ids) > COUNT_CAP
    ids = ids[:COUNT_CAP]
    chosen = ids[(page - 1) * per_page : page * per_page]
    tickets = {t.id: t for t in db.session.execute(select(Ticket).where(Ticket.id.in_(chosen))).scalars()}
    return [tickets[i] for i in chosen], len(ids), capped
