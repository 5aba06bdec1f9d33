"""Every transition of the workflow, applied by the right actor and refused for everyone else."""

import pytest
from sqlalchemy import func, select

from hotline.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from hotline.extensions import db
from hotline.tickets.models import Assignment, Reply, Ticket, TicketEvent
from hotline.tickets.services import apply_transition, register_ticket
from hotline.tickets.workflow import TRANSITIONS, Status
from tests.factories import actor, appeal

NOTE = {"note": "理由说明"}
# action: (start status or None for intake, actor, params, expected status)
CASES = {
    "submit": (None, "public", {}, "pending_review"),
    "register": (None, "operator", {}, "pending_dispatch"),
    "accept": ("pending_review", "operator", {}, "pending_dispatch"),
    "answer_directly": ("pending_review", "operator", NOTE, "answered_directly"),
    "refuse": ("pending_review", "operator", NOTE, "not_accepted"),
    "transfer_emergency": ("pending_review", "operator", {"note": "转110：有人持刀斗殴"}, "transferred"),
    "dispatch": ("pending_dispatch", "dispatcher", {"lead_unit": "district"}, "dispatched"),
    "merge": ("pending_dispatch", "dispatcher", {"master": "open_ticket"}, "merged"),
    "sign": ("dispatched", "district_handler", {}, "in_progress"),
    "request_return": ("in_progress", "district_handler", NOTE, "return_requested"),
    "approve_return": ("return_requested", "dispatcher", {}, "pending_dispatch"),
    "reject_return": ("return_requested", "dispatcher", NOTE, "in_progress"),
    "pass_down": ("in_progress", "district_handler", {"unit": "street"}, "in_progress"),
    "suspend": ("in_progress", "supervisor", NOTE, "suspended"),
    "resume": ("suspended", "supervisor", {}, "in_progress"),
    "reply": ("in_progress", "district_handler", {"body": "已约谈物业公司，费用已恢复原标准。"}, "replied"),
    "approve_reply": ("replied", "dispatcher", {}, "pending_callback"),
    "send_back_reply": ("replied", "dispatcher", NOTE, "in_progress"),
    "rate_satisfied": ("pending_callback", "citizen", {"satisfaction": "basically"}, "closed"),
    "rate_unsatisfied": ("pending_callback", "operator", {"comment": "没解决"}, "in_progress"),
    "close_unreached": ("pending_callback", "operator", {}, "closed"),
    "rate_merged": ("merged", "citizen", {"satisfaction": "unsatisfied"}, "merged"),
}
# Someone holding none of the transition's roles.
WRONG_ROLE = {
    "operator": "district_handler",
    "dispatcher": "operator",
    "district_handler": "dispatcher",
    "supervisor": "district_handler",
    "citizen": "district_handler",
    "public": "district_handler",
}


def test_cases_cover_every_transition():
    assert set(CASES) == set(TRANSITIONS)


def _resolve(w, params):
    resolved = {}
    for key, value in params.items():
        if key == "lead_unit" or key == "unit":
            value = getattr(w, value)
        elif key == "master":
            value = w.ticket_in("in_progress")
        resolved[key] = value
    return resolved


def _start(w, status):
    if status == "merged":  # a caller's appeal merged into a master whose answer is released
        master = w.ticket_in("pending_callback", citizen_phone="13700001111")
        duplicate = w.ticket_in("pending_dispatch")
        apply_transition(duplicate, "merge", w.dispatcher, master=master)
        db.session.commit()
        return duplicate
    return w.ticket_in(status) if status else None


def _act(w, ticket, action, who, params):
    if ticket is None:
        return register_ticket(appeal(w), actor(w, who), action, note=params.get("note"))
    return apply_transition(ticket, action, actor(w, who), **params)


def _snapshot(ticket_id):
    db.session.rollback()
    ticket = db.session.get(Ticket, ticket_id)
    db.session.refresh(ticket)
    events = db.session.execute(select(func.count()).where(TicketEvent.ticket_id == ticket_id)).scalar()
    assignments = db.session.execute(select(func.count()).where(Assignment.ticket_id == ticket_id)).scalar()
    replies = db.session.execute(select(Reply.state).where(Reply.ticket_id == ticket_id)).scalars().all()
    return ticket.status, ticket.version, events, assignments, replies


@pytest.mark.parametrize("action", sorted(CASES))
def test_transition_applies_and_is_recorded(world, action):
    start, who, params, expected = CASES[action]
    ticket = _start(world, start)
    before_version = ticket.version if ticket else None
    ticket = _act(world, ticket, action, who, _resolve(world, params))
    db.session.commit()
    assert ticket.status == expected
    last = ticket.events[-1] if action != "merge" else ticket.events[-1]
    assert (last.action, last.from_status, last.to_status) == (action, start, expected)
    if before_version is not None:
        assert ticket.version == before_version + 1


@pytest.mark.parametrize("action", sorted(a for a, c in CASES.items() if c[0]))
def test_wrong_role_is_refused_and_changes_nothing(world, action):
    start, who, params, _ = CASES[action]
    ticket = _start(world, start)
    before = _snapshot(ticket.id)
    with pytest.raises(PermissionDenied):
        apply_transition(ticket, action, actor(world, WRONG_ROLE[who]), **_resolve(world, params))
    assert _snapshot(ticket.id) == before


@pytest.mark.parametrize("action", sorted(a for a, c in CASES.items() if c[0] and c[1] == "district_handler"))
def test_handler_outside_the_subtree_is_refused(world, action):
    start, _, params, _ = CASES[action]
    ticket = _start(world, start)
    before = _snapshot(ticket.id)
    with pytest.raises(PermissionDenied):
        apply_transition(ticket, action, world.outsider, **_resolve(world, params))
    assert _snapshot(ticket.id) == before


def test_hotline_role_scoped_elsewhere_is_refused(world):
    from hotline.accounts.models import Role
    from hotline.accounts.services import create_user

    local_dispatcher = create_user(
        "d2-dispatcher",
        "long-password-9",
        "x",
        org_unit=world.other_district,
        roles=[(Role.DISPATCHER, world.other_district)],
    )
    ticket = world.ticket_in("pending_dispatch")
    with pytest.raises(PermissionDenied):
        apply_transition(ticket, "dispatch", local_dispatcher, lead_unit=world.district)


@pytest.mark.parametrize("action", sorted(a for a, c in CASES.items() if c[0]))
def test_action_from_a_wrong_status_is_refused(world, action):
    transition = TRANSITIONS[action]
    wrong = next(s for s in ["closed", "pending_review", "dispatched"] if Status(s) not in transition.sources)
    ticket = world.ticket_in(wrong)
    start, who, params, _ = CASES[action]
    before = _snapshot(ticket.id)
    with pytest.raises(InvalidTransition):
        apply_transition(ticket, action, actor(world, who), **_resolve(world, params))
    assert _snapshot(ticket.id) == before


@pytest.mark.parametrize("action", sorted(a for a, t in TRANSITIONS.items() if t.reason_required))
def test_reason_is_required(world, action):
    start, who, params, _ = CASES[action]
    ticket = _start(world, start)
    params = {k: v for k, v in _resolve(world, params).items() if k != "note"}
    with pytest.raises(ValidationFailed) as err:
        _act(world, ticket, action, who, params)
    assert err.value.field == "note"


def test_unknown_action_is_refused(world):
    ticket = world.ticket_in("pending_dispatch")
    with pytest.raises(InvalidTransition):
        apply_transition(ticket, "teleport", world.dispatcher)


def test_stale_version_is_a_conflict(world):
    ticket = world.ticket_in("dispatched")
    stale = ticket.version - 1
    with pytest.raises(Conflict):
        apply_transition(ticket, "sign", world.district_handler, expected_version=stale)


def test_dispatch_needs_a_unit_that_takes_tickets(world):
    ticket = world.ticket_in("pending_dispatch")
    with pytest.raises(ValidationFailed) as err:
        apply_transition(ticket, "dispatch", world.dispatcher, lead_unit=world.hotline)
    assert err.value.field == "lead_unit"


def test_pass_down_keeps_the_upper_unit_accountable(world):
    ticket = world.ticket_in("in_progress")
    apply_transition(ticket, "pass_down", world.district_handler, unit=world.street)
    apply_transition(ticket, "reply", world.street_handler, body="街道已协调物业整改。")
    db.session.commit()
    top = next(a for a in ticket.assignments if a.parent_id is None)
    assert top.unit_id == world.district.id and top.status == "answered"
    assert ticket.replies[-1].unit_id == world.street.id


def test_pass_down_refuses_a_unit_outside_the_own_subtree(world):
    ticket = world.ticket_in("in_progress")
    with pytest.raises(ValidationFailed):
        apply_transition(ticket, "pass_down", world.district_handler, unit=world.other_district)


def test_citizen_must_own_the_ticket(world):
    from hotline.tickets.services import CitizenActor

    ticket = world.ticket_in("pending_callback")
    with pytest.raises(PermissionDenied):
        apply_transition(ticket, "rate_satisfied", CitizenActor("13000000000"), satisfaction="satisfied")


def test_dispatch_sets_deadlines_and_next_deadline(world):
    ticket = world.ticket_in("dispatched")
    assert ticket.sign_deadline_at < ticket.answer_deadline_at
    # the earliest ladder step: the yellow card one working day before the sign-for deadline
    assert ticket.next_deadline_at is not None and ticket.next_deadline_at < ticket.sign_deadline_at
    closed = world.ticket_in("closed")
    assert closed.next_deadline_at is None and closed.closed_at is not None


def test_events_are_append_only(world):
    ticket = world.ticket_in("pending_dispatch")
    event = ticket.events[0]
    event.note = "rewritten"
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()


def test_district_department_passes_down_to_a_street_of_its_district(world):
    ticket = world.ticket_in("pending_dispatch")
    apply_transition(ticket, "dispatch", world.dispatcher, lead_unit=world.department)
    apply_transition(ticket, "sign", world.department_handler)
    with pytest.raises(ValidationFailed):  # another district's unit is out of reach
        apply_transition(ticket, "pass_down", world.department_handler, unit=world.other_district)
    apply_transition(ticket, "pass_down", world.department_handler, unit=world.street)
    apply_transition(ticket, "reply", world.street_handler, body="街道已督促物业整改。")
    db.session.commit()
    top = next(a for a in ticket.assignments if a.parent_id is None)
    assert top.unit_id == world.department.id and top.status == "answered"
    assert ticket.status == "replied"


# Every transition × every role: allowed exactly when the table gives the role the action (and the ticket
# lies in the actor's subtree); refused with PermissionDenied, changing nothing, otherwise.
ROLE_ACTORS = {
    "operator": "operator",
    "dispatcher": "dispatcher",
    "supervisor": "supervisor",
    "admin": "admin",
    "handler": "district_handler",
    "handler_elsewhere": "outsider",
    "citizen_account": "citizen_user",
}


def _expected(action: str, role: str) -> bool:
    actors = TRANSITIONS[action].actors
    if role == "handler_elsewhere":
        return False
    if role == "citizen_account":
        return False  # the factory's tickets are not filed by this account
    return role.split("_")[0] in actors


@pytest.mark.parametrize("role", sorted(ROLE_ACTORS))
@pytest.mark.parametrize("action", sorted(a for a, c in CASES.items() if c[0]))
def test_transition_by_role(world, action, role):
    start, _, params, expected_status = CASES[action]
    ticket = _start(world, start)
    who = getattr(world, ROLE_ACTORS[role])
    before = _snapshot(ticket.id)
    ticket = db.session.get(Ticket, ticket.id)
    if _expected(action, role):
        apply_transition(ticket, action, who, **_resolve(world, params))
        db.session.commit()
        assert ticket.status == expected_status
    else:
        with pytest.raises(PermissionDenied):
            apply_transition(ticket, action, who, **_resolve(world, params))
        assert _snapshot(ticket.id) == before


def test_citizen_account_rates_its_own_appeal(world):
    own = world.ticket_in("pending_callback", citizen_user_id=world.citizen_user.id)
    apply_transition(own, "rate_satisfied", world.citizen_user, satisfaction="satisfied")
    assert own.status == "closed"
