"""The workflow table itself: complete, reachable, and closed where it should be."""

from hotline.accounts.models import Role
from hotline.tickets.workflow import FINAL_STATUSES, TRANSITIONS, Actor, Status, actions_from

KNOWN_ACTORS = {r.value for r in Role} | {a.value for a in Actor}


def test_every_status_is_reachable_from_intake():
    reached, frontier = set(), {None}
    while frontier:
        status = frontier.pop()
        for t in actions_from(status):
            target = t.target or status
            if target not in reached:
                reached.add(target)
                frontier.add(target)
    assert reached == set(Status)


def test_final_statuses_have_no_way_out_and_open_ones_have_one():
    for status in Status:
        outgoing = actions_from(status)
        if status in FINAL_STATUSES:  # a merged caller's rating (rate_merged) leaves the status as it is
            assert [t for t in outgoing if t.target not in (None, status)] == [], status
        else:
            assert outgoing, status


def test_every_transition_names_known_actors():
    for t in TRANSITIONS.values():
        assert t.actors and t.actors <= KNOWN_ACTORS, t.action


def test_only_the_hotline_closes_the_loop():
    """统一回应: answers reach the citizen only through the hotline's review."""
    assert TRANSITIONS["approve_reply"].actors == {"dispatcher"}
    assert "handler" not in TRANSITIONS["rate_satisfied"].actors


def test_intake_transitions_start_from_nothing():
    intake = {t.action for t in TRANSITIONS.values() if None in t.sources}
    assert intake == {"submit", "register", "answer_directly", "refuse", "transfer_emergency"}


def test_every_intake_transition_names_the_status_it_creates():
    """``apply_transition`` relies on it: a new ticket has no status to stay in."""
    assert [t.action for t in TRANSITIONS.values() if None in t.sources and t.target is None] == []
