"""The ticket list's counts per status that do not grow with history (issue 27.3, ``hotline.tickets.counts``):
open work counted on the rows of open work, closed work from the stored counts per scope. Whatever happens
to the tickets — closings in every way, pass-downs, assists, returns, merges, the archive and its restore, a
unit moved in the tree — every user's counts equal a live count of what the scope rule lets them read.
Both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.archive import services as archive
from hotline.extensions import db
from hotline.orgs.models import UnitKind
from hotline.orgs.services import create_unit, move_unit
from hotline.tickets import counts, queries
from hotline.tickets.models import Assignment, ScopeFinalCount, Ticket
from hotline.tickets.services import apply_transition
from hotline.tickets.workflow import FINAL_STATUSES, Status
from tests.factories import PASSWORD
from tests.integration.test_archive import age, cutoff


def live_counts(user):
    visible = queries.visible_tickets(user).subquery()
    rows = db.session.execute(select(visible.c.status, func.count()).group_by(visible.c.status)).tuples()
    return dict(rows.all())


def shown_counts(user):
    return {status: n for status, n in queries.status_counts(user).items() if n}


@pytest.fixture
def busy(app, world):
    """A small city's every kind of ticket, and users of every kind of scope."""
    app.config["TICKET_COUNTS_SECONDS"] = 0
    w = world
    for status in ("closed", "closed", "answered_directly", "not_accepted", "in_progress", "pending_callback"):
        w.ticket_in(status)
    passed = w.ticket_in("in_progress")  # the district passes it down to the street, which answers
    apply_transition(passed, "pass_down", w.district_handler, unit=w.street)
    apply_transition(passed, "reply", w.district_handler, body="已处理")
    apply_transition(passed, "approve_reply", w.dispatcher)
    apply_transition(passed, "close_unreached", w.operator)
    assisted = w.ticket_in("pending_dispatch")  # led by 东湖区, 西江区 assisting
    apply_transition(assisted, "dispatch", w.dispatcher, lead_unit=w.district, assist_units=[w.other_district])
    returned = w.ticket_in("return_requested")  # returned by 东湖区, then led by 西江区 and closed
    apply_transition(returned, "approve_return", w.dispatcher)
    apply_transition(returned, "dispatch", w.dispatcher, lead_unit=w.other_district)
    apply_transition(returned, "sign", w.outsider)
    apply_transition(returned, "reply", w.outsider, body="已处理")
    apply_transition(returned, "approve_reply", w.dispatcher)
    apply_transition(returned, "rate_satisfied", w.operator, satisfaction="satisfied")
    master, duplicate = w.ticket_in("pending_dispatch"), w.ticket_in("pending_dispatch")
    apply_transition(duplicate, "merge", w.dispatcher, master=master)
    w.east_dispatcher = create_user(
        "east_dispatcher", PASSWORD, "east", org_unit=w.district, roles=[(Role.DISPATCHER, w.district)]
    )
    w.two_units = create_user(
        "two_units",
        PASSWORD,
        "two",
        org_unit=w.street,
        roles=[(Role.HANDLER, w.street), (Role.HANDLER, w.other_district)],
    )
    w.nested = create_user(
        "nested", PASSWORD, "nested", org_unit=w.district, roles=[(Role.HANDLER, w.district), (Role.HANDLER, w.street)]
    )
    db.session.commit()
    w.users = [
        w.dispatcher,
        w.east_dispatcher,
        w.district_handler,
        w.street_handler,
        w.department_handler,
        w.outsider,
        w.two_units,
        w.nested,
        w.citizen_user,
    ]
    return w


def assert_every_scope_agrees(w):
    db.session.expire_all()
    for user in w.users:
        assert shown_counts(user) == live_counts(user), user.username


def test_every_scope_counts_what_it_can_read(busy):
    w = busy
    assert_every_scope_agrees(w)
    assert live_counts(w.dispatcher)["closed"] == 4
    assert live_counts(w.street_handler) == {"closed": 1}  # the one passed down to it, answered by the district
    assert live_counts(w.district_handler)["closed"] == 3  # not the one it returned
    assert live_counts(w.outsider)["closed"] == 1  # that one, which 西江区 then answered
    # The stored scopes are used where one holds the user's tickets exactly; the rest count live.
    assert counts.scope_key(w.district_handler) == (w.district.id, counts.HANDLER)
    assert counts.scope_key(w.east_dispatcher) == (w.district.id, counts.STAFF)
    assert counts.scope_key(w.dispatcher) == (w.city.id, counts.STAFF)
    assert counts.scope_key(w.nested) == (w.district.id, counts.HANDLER)
    assert counts.scope_key(w.two_units) is None and counts.scope_key(w.citizen_user) is None


def test_closed_work_is_read_from_the_stored_counts(busy):
    """Not a live count in disguise: a stored count changed behind the hotline's back shows on the list."""
    w = busy
    row = db.session.get(ScopeFinalCount, (w.district.id, counts.HANDLER, "closed"))
    row.n += 100
    db.session.commit()
    assert shown_counts(w.district_handler)["closed"] == live_counts(w.district_handler)["closed"] + 100
    assert shown_counts(w.street_handler) == live_counts(w.street_handler)  # another scope's row: untouched


def test_final_tickets_leave_the_open_work(busy):
    open_flags = db.session.execute(
        select(Ticket.status, Assignment.ticket_open).join(Assignment, Assignment.ticket_id == Ticket.id)
    ).all()
    assert {status for status, _ in open_flags} >= {"closed", "in_progress", "pending_callback"}
    assert all(flag == (Status(status) not in FINAL_STATUSES) for status, flag in open_flags)


def test_the_archive_and_its_restore_keep_the_counts(busy):
    w = busy
    old = [t for t in db.session.execute(select(Ticket).where(Ticket.status == "closed")).scalars()][:2]
    for ticket in old:
        age(ticket, timedelta(days=4 * 365))
    assert archive.archive_closed(cutoff(), commit=db.session.commit).archived == 2
    assert_every_scope_agrees(w)
    assert live_counts(w.dispatcher)["closed"] == 2
    archive.restore_closed_after(cutoff() - timedelta(days=3 * 365), commit=db.session.commit)
    assert_every_scope_agrees(w)
    assert live_counts(w.dispatcher)["closed"] == 4


def test_a_unit_moved_in_the_tree_takes_its_counts_along(busy):
    w = busy
    before = shown_counts(w.street_handler)
    move_unit(w.street, w.other_district, actor=w.admin)  # 湖滨街道 now lies under 西江区
    db.session.commit()
    assert_every_scope_agrees(w)
    assert shown_counts(w.street_handler) == before  # its own scope did not change
    # A new street with no history, moved in under 东湖区: nothing to recount, nothing changes.
    empty = create_unit("d2-s9", "新街道", UnitKind.STREET, w.other_district)
    move_unit(empty, w.district, actor=w.admin)
    db.session.commit()
    assert_every_scope_agrees(w)


def test_recount_repairs_a_drifted_count(busy, app):
    w = busy
    row = db.session.get(ScopeFinalCount, (w.city.id, counts.STAFF, "closed"))
    row.n = 0
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tickets", "recount"])
    assert result.exit_code == 0, result.output
    assert "counted the closed tickets of every scope afresh" in result.output
    assert_every_scope_agrees(w)
