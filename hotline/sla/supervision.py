"""Supervision by hand: 催办 (urging) and 督办单 (supervision orders) pressed on a ticket's lead unit, and the
unit's answer. Each record has its own response deadline on the ladder (``hotline.sla.ladder``)."""

from __future__ import annotations

from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline import permissions
from hotline.accounts.models import User
from hotline.core.clock import to_local, utcnow
from hotline.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from hotline.extensions import db
from hotline.notify.services import notify_users
from hotline.sla.deadlines import deadline_after, refresh_next_deadline, watched_deadline
from hotline.sla.ladder import SweepContext
from hotline.sla.models import SupervisionOrder, SupervisionSource, Urging
from hotline.sla.policy import WD, setting
from hotline.tickets.models import ExtensionRequest, SuspensionRequest, Ticket
from hotline.tickets.services import record_event
from hotline.tickets.workflow import OPEN_STATUSES, Status

_Record = TypeVar("_Record", SupervisionOrder, Urging)


def require_supervisor(ticket: Ticket, actor: User) -> None:
    if not permissions.supervises_ticket(actor, ticket):
        raise PermissionDenied(_l("Only a supervisor over this ticket may do this."))


def _supervise(
    model: type[_Record], ticket: Ticket, actor: User, message: str, action: str, template: str, days_setting: str
) -> _Record:
    require_supervisor(ticket, actor)
    if Status(ticket.status) not in OPEN_STATUSES or ticket.lead_unit is None:
        raise InvalidTransition(_l("Only an open ticket at a unit can be pressed."))
    if not (message or "").strip():
        raise ValidationFailed(_l("A message is required."), field="message")
    now = utcnow()
    due = deadline_after(now, setting(days_setting), WD).at
    record = model(
        ticket_id=ticket.id,
        unit=ticket.lead_unit,
        issued_by_id=actor.id,
        message=message.strip(),
        source=SupervisionSource.MANUAL.value,
        response_deadline=due,
        created_at=now,
    )
    db.session.add(record)
    record_event(
        ticket,
        action,
        actor,
        note=message.strip(),
        at=now,
        data={"unit": ticket.lead_unit.code, "response_deadline": to_local(due).isoformat()},
    )
    notify_users(
        SweepContext().recipients(ticket.lead_unit),
        template,
        ticket=ticket,
        email=True,
        payload={
            "tracking_no": ticket.tracking_no,
            "unit": ticket.lead_unit.name,
            "response_deadline": to_local(due).strftime("%Y-%m-%d %H:%M"),
        },
    )
    ticket.updated_at = now  # every act on a ticket bumps its version
    db.session.flush()
    refresh_next_deadline(ticket)
    db.session.flush()
    return record


def urge_ticket(ticket: Ticket, actor: User, message: str) -> Urging:
    """催办: press the lead unit; it answers by the urging's response deadline."""
    return _supervise(Urging, ticket, actor, message, "urged", "urging", "SLA_URGING_RESPONSE_WORKING_DAYS")


def issue_supervision_order(ticket: Ticket, actor: User, message: str) -> SupervisionOrder:
    """督办单: a formal order to the lead unit, with its own response deadline on the ladder.

    One per ticket and stage (the deadline watched now): while an order of that stage, the ladder's or a
    supervisor's, waits for the unit's answer, another is refused. A new deadline (an extension, a redo,
    signing) is a new stage."""
    require_supervisor(ticket, actor)
    kind, deadline = watched_deadline(ticket)
    waiting = db.session.execute(
        select(SupervisionOrder)
        .where(
            SupervisionOrder.ticket_id == ticket.id,
            SupervisionOrder.responded_at.is_(None),
            (SupervisionOrder.clock_kind.is_(None))  # an order from before stages were recorded
            | ((SupervisionOrder.clock_kind == kind) & (SupervisionOrder.clock_deadline_at == deadline)),
        )
        .order_by(SupervisionOrder.id)
        .limit(1)
    ).scalar()
    if waiting is not None:
        raise InvalidTransition(
            _l(
                "A supervision order issued %(issued)s is still waiting for %(unit)s's answer (due %(due)s): no second "
                "order for this deadline. Urge the unit instead, or wait for its answer.",
                issued=to_local(waiting.created_at).strftime("%Y-%m-%d %H:%M"),
                unit=waiting.unit.name,
                due=to_local(waiting.response_deadline).strftime("%Y-%m-%d %H:%M")
                if waiting.response_deadline
                else "—",
            )
        )
    record = _supervise(
        SupervisionOrder,
        ticket,
        actor,
        message,
        "supervision_order",
        "supervision_order",
        "SLA_ORDER_RESPONSE_WORKING_DAYS",
    )
    record.clock_kind, record.clock_deadline_at = kind, deadline
    return record


def respond_to_supervision(record: _Record, actor: User, response: str) -> _Record:
    """The unit's answer to a 催办 or 督办单: the record leaves the ladder."""
    if not permissions.answers_supervision(actor, record):
        raise PermissionDenied(_l("This ticket is outside your units."))
    if record.responded_at is not None:
        raise InvalidTransition(_l("This has already been answered."))
    if not (response or "").strip():
        raise ValidationFailed(_l("A response is required."), field="response")
    now = utcnow()
    ticket = record_ticket(record)
    record.response, record.responded_at = response.strip(), now
    record_event(
        ticket,
        "supervision_answered",
        actor,
        note=response.strip(),
        at=now,
        data={"record": record.id, "kind": record.__tablename__},
    )
    ticket.updated_at = now
    db.session.flush()
    refresh_next_deadline(ticket)
    db.session.flush()
    return record


def record_ticket(record: SupervisionOrder | Urging | ExtensionRequest | SuspensionRequest) -> Ticket:
    """The ticket a supervision record or an extension / suspension request belongs to."""
    return db.session.get_one(Ticket, record.ticket_id)


def notify_supervisors(ticket: Ticket, template: str, extra: dict[str, str]) -> None:
    """In-app notice to the supervisors over the ticket's intake unit."""
    unit = ticket.lead_unit
    notify_users(
        SweepContext().supervisors_over(ticket.intake_unit),
        template,
        ticket=ticket,
        payload={"tracking_no": ticket.tracking_no, "unit": unit.name if unit else "", **extra},
    )


def notify_unit(ticket: Ticket, template: str, extra: dict[str, str]) -> None:
    """In-app notice to the lead unit's staff and the supervisors over it."""
    unit = ticket.lead_unit
    notify_users(
        SweepContext().recipients(unit),
        template,
        ticket=ticket,
        payload={"tracking_no": ticket.tracking_no, "unit": unit.name if unit else "", **extra},
    )
