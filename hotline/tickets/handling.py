"""Work on a ticket that is not a status change: progress notes, assisting units' opinions, revealing a
caller's contact (logged), routing suggestions and canned answers."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, tuple_
from sqlalchemy.orm import joinedload

from hotline import permissions
from hotline.accounts.models import User
from hotline.core.clock import utcnow
from hotline.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.tickets.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    CannedAnswer,
    CategoryRoute,
    Ticket,
    TicketEvent,
)
from hotline.tickets.services import record_event
from hotline.tickets.validation import LIMITS
from hotline.tickets.workflow import OPEN_STATUSES, Status


def _text(value: str | None, field: str = "note") -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(_l("Text is required."), field=field)
    if len(value) > LIMITS["note"]:
        raise ValidationFailed(_l("At most %(n)d characters.", n=LIMITS["note"]), field=field)
    return value


def _require_open(ticket: Ticket) -> None:
    if Status(ticket.status) not in OPEN_STATUSES:
        raise InvalidTransition(_l("The ticket is finished."))


def add_note(ticket: Ticket, actor: User, text: str) -> TicketEvent:
    """An internal progress note (办理进展) by a unit working on the ticket or by hotline staff."""
    _require_open(ticket)
    if not permissions.can_note(actor, ticket):
        raise PermissionDenied(_l("This ticket is outside your units."))
    return record_event(ticket, "note", actor, note=_text(text))


def send_opinion(ticket: Ticket, actor: User, text: str) -> TicketEvent:
    """An assisting unit (协办) sends its opinion to the lead unit; its part is then done."""
    _require_open(ticket)
    mine = permissions.assisting_assignments(actor, ticket)
    if not mine:
        raise PermissionDenied(_l("Only an assisting unit of this ticket can send an opinion."))
    assignment = mine[0]
    if assignment.status == AssignmentStatus.ANSWERED.value:
        raise InvalidTransition(_l("Your unit has already sent its opinion."))
    now = utcnow()
    assignment.signed_at = assignment.signed_at or now
    assignment.status, assignment.answered_at = AssignmentStatus.ANSWERED.value, now
    return record_event(ticket, "opinion", actor, note=_text(text), data={"unit": assignment.unit.code})


def reveal_contact(ticket: Ticket, actor: User) -> dict[str, str | None]:
    """The caller's full phone and name, for hotline staff only; every reveal is recorded."""
    if not permissions.can_reveal_contact(actor, ticket):
        raise PermissionDenied(_l("Only hotline staff may see a caller's contact data."))
    record_event(ticket, "reveal_contact", actor)
    from hotline.core.audit import record_audit

    record_audit(actor, "contact.view", ticket.tracking_no, {"via": "web"})
    return {"phone": ticket.citizen_phone, "name": ticket.citizen_name}


def suggested_unit(ticket: Ticket) -> OrgUnit | None:
    """派单目录: the default lead unit for the ticket's category in its district."""
    return suggested_units([ticket]).get(ticket.id)


def suggested_units(tickets: Sequence[Ticket]) -> dict[int, OrgUnit]:
    """``suggested_unit`` for a whole queue in one query; never a unit whose return of the ticket was approved."""
    pairs = {(t.category_id, t.district_id) for t in tickets if t.category_id and t.district_id}
    if not pairs:
        return {}
    routes = db.session.execute(
        select(CategoryRoute)
        .options(joinedload(CategoryRoute.unit))
        .where(tuple_(CategoryRoute.category_id, CategoryRoute.district_id).in_(pairs))
    ).scalars()
    units: dict[tuple[int | None, int | None], OrgUnit] = {(r.category_id, r.district_id): r.unit for r in routes}
    returned = returned_units(tickets)
    return {
        t.id: units[(t.category_id, t.district_id)]
        for t in tickets
        if (t.category_id, t.district_id) in units
        and units[(t.category_id, t.district_id)].id not in returned.get(t.id, ())
    }


def returned_units(tickets: Sequence[Ticket]) -> dict[int, set[int]]:
    """Ticket id → the units whose return (退单, e.g. "不在我单位辖区") of that ticket was approved: the
    dispatcher has already heard from them that the work is not theirs, so no suggestion names them again."""
    ids = [t.id for t in tickets if t.id is not None]
    if not ids:
        return {}
    out: dict[int, set[int]] = {}
    for ticket_id, unit_id in db.session.execute(
        select(Assignment.ticket_id, Assignment.unit_id).where(
            Assignment.ticket_id.in_(ids),
            Assignment.role == AssignmentRole.LEAD.value,
            Assignment.status == AssignmentStatus.RETURNED.value,
        )
    ):
        out.setdefault(ticket_id, set()).add(unit_id)
    return out


def canned_answers(ticket: Ticket) -> list[CannedAnswer]:
    """Answer templates for the ticket's category, then the general ones."""
    query = (
        select(CannedAnswer).where(CannedAnswer.active).order_by(CannedAnswer.category_id.is_(None), CannedAnswer.title)
    )
    if ticket.category_id:
        query = query.where((CannedAnswer.category_id == ticket.category_id) | CannedAnswer.category_id.is_(None))
    else:
        query = query.where(CannedAnswer.category_id.is_(None))
    return list(db.session.execute(query).scalars())


def set_route(category_id: int, district_id: int, unit: OrgUnit | None) -> None:
    """Set (or clear, with ``unit=None``) the catalogue entry for a category in a district."""
    route = db.session.execute(
        select(CategoryRoute).filter_by(category_id=category_id, district_id=district_id)
    ).scalar_one_or_none()
    if unit is None:
        if route is not None:
            db.session.delete(route)
        return
    if route is None:
        db.session.add(CategoryRoute(category_id=category_id, district_id=district_id, unit=unit))
    else:
        route.unit = unit
