"""A new ticket is written with plain INSERTs: the object, its first event and its search row must end up
exactly as a flush would have left them."""

import pytest
from sqlalchemy import inspect, select

from hotline.core.errors import DomainError
from hotline.extensions import db
from hotline.search.models import TicketSearch
from hotline.search.segment import document_text
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.services import apply_transition, register_ticket
from tests.factories import actor, appeal


@pytest.mark.parametrize(
    "who, outcome, status", [("operator", "register", "pending_dispatch"), ("public", "submit", "pending_review")]
)
def test_a_registered_ticket_is_complete_persistent_and_indexed(world, statements, who, outcome, status):
    ticket = register_ticket(
        appeal(world, title="小区电梯频繁故障", address="东湖区人民路8号"), actor(world, who), outcome
    )
    state = inspect(ticket)
    assert state.persistent and not state.expired_attributes and ticket.id is not None
    statements.clear()
    columns = {c.key: getattr(ticket, c.key) for c in inspect(Ticket).column_attrs}  # nothing left to load
    assert statements == []
    assert columns["status"] == status and columns["version"] == 1 and columns["warning_level"] == "none"
    assert columns["dispatch_count"] == 0 and columns["urgency"] == "normal" and columns["created_at"]
    if who == "operator":  # the foreign keys a flush would have copied from the objects given
        assert columns["created_by_id"] == world.operator.id and ticket.created_by is world.operator
        assert columns["intake_unit_id"] == world.hotline.id
    else:
        assert columns["created_by_id"] is None
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Ticket, ticket.id)
    assert {c.key: getattr(stored, c.key) for c in inspect(Ticket).column_attrs} == columns
    [first] = stored.events
    assert (first.action, first.to_status, first.from_status) == (outcome, status, None)
    assert first.actor_kind == ("user" if who == "operator" else "public")
    assert first.actor_id == (world.operator.id if who == "operator" else None)
    row = db.session.get(TicketSearch, ticket.id)
    assert row.document == document_text(stored.title, stored.body, stored.address) and "电梯" in row.document.split()


def test_the_next_transition_updates_the_inserted_ticket(world):
    ticket = register_ticket(appeal(world), actor(world, "operator"), "register")
    apply_transition(ticket, "dispatch", actor(world, "dispatcher"), lead_unit=world.department)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Ticket, ticket.id)
    assert stored.status == "dispatched" and stored.version == 2 and stored.lead_unit_id == world.department.id
    assert [e.action for e in stored.events] == ["register", "dispatch"]
    assert db.session.execute(
        select(TicketEvent.ticket_id).where(TicketEvent.action == "register")
    ).scalars().all() == [ticket.id]


def test_a_refused_registration_writes_nothing(world):
    before = db.session.execute(select(Ticket.id)).all()
    with pytest.raises(DomainError):
        register_ticket(appeal(world, citizen_phone="123"), actor(world, "operator"), "register")
    db.session.rollback()
    assert db.session.execute(select(Ticket.id)).all() == before
