"""The clock a unit may stop or move, with a supervisor's consent: 延期 (extension) and 挂起 (suspension)
requests and their decisions. The deadline rules they apply live in ``hotline.sla.deadlines``."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.accounts.models import User
from hotline.core.clock import to_local, utcnow
from hotline.core.errors import InvalidTransition, ValidationFailed
from hotline.extensions import db
from hotline.sla import deadlines
from hotline.sla.supervision import notify_supervisors, notify_unit, record_ticket, require_supervisor
from hotline.tickets.models import ExtensionRequest, RequestState, SuspensionRequest, Ticket, TicketEvent
from hotline.tickets.services import apply_transition, lead_assignment_for, record_event
from hotline.tickets.workflow import Status

_Request = TypeVar("_Request", ExtensionRequest, SuspensionRequest)


def request_extension(ticket: Ticket, actor: User, new_deadline_utc: datetime, reason: str) -> ExtensionRequest:
    """A lead-unit handler asks, before the answer deadline, for a later one."""
    if ticket.status != Status.IN_PROGRESS.value:
        raise InvalidTransition(_l("An extension can only be asked while the ticket is in progress."))
    assignment = lead_assignment_for(ticket, actor)
    now = utcnow()
    if not (reason or "").strip():
        raise ValidationFailed(_l("A reason is required."), field="reason")
    if ticket.answer_deadline_at and now > ticket.answer_deadline_at:
        raise ValidationFailed(_l("An extension must be asked before the deadline passes."), field="deadline")
    if ticket.answer_deadline_at and new_deadline_utc <= ticket.answer_deadline_at:
        raise ValidationFailed(_l("The new deadline must be later than the current one."), field="deadline")
    if any(r.state == RequestState.PENDING.value for r in requests_of(ExtensionRequest, ticket)):
        raise InvalidTransition(_l("An extension request is already waiting for a decision."))
    day = to_local(new_deadline_utc).date()
    req = ExtensionRequest(
        ticket_id=ticket.id,
        unit_id=assignment.unit_id,
        requested_by_id=actor.id,
        reason=reason.strip(),
        requested_deadline=deadlines.extension_deadline(day).at,
        created_at=now,
    )
    db.session.add(req)
    # The event keeps the day asked for: the deadline is computed from it again when decided.
    record_event(
        ticket,
        "extension_requested",
        actor,
        note=reason.strip(),
        at=now,
        data={"deadline": to_local(req.requested_deadline).isoformat(), "day": day.isoformat()},
    )
    notify_supervisors(
        ticket, "extension_requested", {"deadline": to_local(req.requested_deadline).strftime("%Y-%m-%d %H:%M")}
    )
    db.session.flush()
    return req


def _requested_day(req: ExtensionRequest) -> date:
    """The day ``req`` asked for, from its request event (written in the same flush, same time)."""
    data = db.session.execute(
        select(TicketEvent.data)
        .where(
            TicketEvent.ticket_id == req.ticket_id,
            TicketEvent.action == "extension_requested",
            TicketEvent.created_at == req.created_at,
        )
        .order_by(TicketEvent.id.desc())
        .limit(1)
    ).scalar()
    return deadlines.asked_day(data or {"deadline": to_local(req.requested_deadline).isoformat()})


def decide_extension(req: ExtensionRequest, actor: User, approve: bool, note: str | None = None) -> ExtensionRequest:
    ticket = record_ticket(req)
    require_supervisor(ticket, actor)
    if req.state != RequestState.PENDING.value:
        raise InvalidTransition(_l("This request has already been decided."))
    now = utcnow()
    req.state = (RequestState.APPROVED if approve else RequestState.DENIED).value
    req.decided_by_id, req.decided_at, req.decision_note = actor.id, now, note
    day = _requested_day(req)
    if approve:
        # With the calendar of now: the year's notice may have come in since the request.
        req.requested_deadline = deadlines.extend(ticket, day).at
    record_event(
        ticket,
        "extension_approved" if approve else "extension_denied",
        actor,
        note=note,
        at=now,
        data={"deadline": to_local(req.requested_deadline).isoformat(), "day": day.isoformat()},
    )
    ticket.updated_at = now
    notify_unit(ticket, "extension_decided", {"decision": "approved" if approve else "denied"})
    db.session.flush()
    deadlines.refresh_next_deadline(ticket)
    db.session.flush()
    return req


def request_suspension(
    ticket: Ticket, actor: User, reason: str, resume_by_utc: datetime | None = None
) -> SuspensionRequest:
    if ticket.status != Status.IN_PROGRESS.value:
        raise InvalidTransition(_l("A suspension can only be asked while the ticket is in progress."))
    assignment = lead_assignment_for(ticket, actor)
    if not (reason or "").strip():
        raise ValidationFailed(_l("A reason is required."), field="reason")
    now = utcnow()
    if resume_by_utc is not None and resume_by_utc <= now:
        raise ValidationFailed(_l("The planned end must lie in the future."), field="resume_by")
    if any(r.state == RequestState.PENDING.value for r in requests_of(SuspensionRequest, ticket)):
        raise InvalidTransition(_l("A suspension request is already waiting for a decision."))
    req = SuspensionRequest(
        ticket_id=ticket.id,
        unit_id=assignment.unit_id,
        requested_by_id=actor.id,
        reason=reason.strip(),
        resume_by=resume_by_utc,
        created_at=now,
    )
    db.session.add(req)
    record_event(ticket, "suspension_requested", actor, note=reason.strip(), at=now)
    notify_supervisors(ticket, "suspension_requested", {})
    db.session.flush()
    return req


def decide_suspension(req: SuspensionRequest, actor: User, approve: bool, note: str | None = None) -> SuspensionRequest:
    """Approval suspends the ticket through the workflow (the clock stops); denial records the decision."""
    ticket = record_ticket(req)
    require_supervisor(ticket, actor)
    if req.state != RequestState.PENDING.value:
        raise InvalidTransition(_l("This request has already been decided."))
    now = utcnow()
    req.decided_by_id, req.decided_at, req.decision_note = actor.id, now, note
    if approve:
        req.state = RequestState.APPROVED.value
        db.session.flush()
        apply_transition(ticket, "suspend", actor, note=req.reason)
    else:
        req.state = RequestState.DENIED.value
        record_event(ticket, "suspension_denied", actor, note=note, at=now)
        ticket.updated_at = now
    notify_unit(ticket, "suspension_decided", {"decision": "approved" if approve else "denied"})
    db.session.flush()
    return req


def requests_of(model: type[_Request], ticket: Ticket) -> list[_Request]:
    """A ticket's extension or suspension requests, every state."""
    return list(db.session.execute(select(model).where(model.ticket_id == ticket.id)).scalars())
