"""No SLA policy shows a yellow card at dispatch: the card comes in the last share of the limit only."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from hotline.core.clock import LOCAL_TZ, frozen_at, to_local, to_utc_naive
from hotline.extensions import db
from hotline.sla import admin as sla_admin
from hotline.sla import deadlines as sla_deadlines
from hotline.sla import policy as sla_policy
from hotline.sla.ladder import run_sweep
from hotline.sla.models import SlaClock, SlaPolicy
from hotline.tickets.services import apply_transition
from hotline.tickets.workflow import Appeal, Urgency


def local(*args):
    return to_utc_naive(datetime(*args, tzinfo=LOCAL_TZ))


# Friday late evening (the weekend follows) and the eve of 国庆 (a week off follows).
DISPATCH_TIMES = [local(2026, 12, 4, 23, 30), local(2026, 9, 30, 18)]


def _working_time(start: datetime, end: datetime) -> timedelta:
    """Working time between two naive UTC moments (whole working days, midnight to the day's end)."""
    calendar = sla_policy.current_calendar()
    start, end = to_local(start), to_local(end)
    total, day = timedelta(), start.date()
    while day <= end.date():
        if calendar.is_workday(day)[0]:
            opens = datetime.combine(day, datetime.min.time(), tzinfo=start.tzinfo)
            closes = calendar.end_of(day, start.tzinfo)
            lo, hi = max(opens, start), min(closes, end)
            total += max(hi - lo, timedelta())
        day += timedelta(days=1)
    return total


def _check(clock: SlaClock, started: datetime, limit: float, unit: str):
    share, _ = sla_policy.warning_window()
    assert clock.warn_at is not None and clock.warn_at < clock.deadline_at
    if unit == sla_policy.H:
        assert clock.warn_at - started >= timedelta(hours=limit * (1 - share)) - timedelta(seconds=1)
        assert clock.deadline_at - clock.warn_at <= timedelta(hours=limit * share) + timedelta(seconds=1)
    else:
        day = sla_policy.current_calendar().end_of(datetime(2026, 1, 5).date(), LOCAL_TZ) - datetime(
            2026, 1, 5, tzinfo=LOCAL_TZ
        )
        assert _working_time(started, clock.warn_at) >= day * limit * (1 - share) - timedelta(seconds=1)
        assert _working_time(clock.warn_at, clock.deadline_at) <= day * limit * share + timedelta(seconds=1)


@pytest.mark.parametrize("dispatched_at", DISPATCH_TIMES)
def test_no_policy_warns_at_dispatch_or_at_signing(world, dispatched_at):
    sla_admin.seed_default_policies()
    db.session.commit()
    policies = list(db.session.execute(select(SlaPolicy)).scalars())
    assert {(p.appeal_type, p.urgency) for p in policies} == {(a.value, u.value) for a in Appeal for u in Urgency}
    assert len(policies) == len(sla_policy.default_policies())
    tickets = []
    for policy in policies:
        with frozen_at(dispatched_at):
            ticket = world.ticket_in("dispatched", appeal_type=policy.appeal_type, urgency=policy.urgency)
        clock = db.session.get(SlaClock, ticket.id)
        assert clock.kind == "sign", policy.appeal_type
        _check(clock, dispatched_at, policy.sign_limit, policy.sign_unit)
        tickets.append((ticket, policy))
    assert run_sweep(dispatched_at + timedelta(minutes=1)).get("yellow", 0) == 0
    signed_at = dispatched_at + timedelta(minutes=5)
    for ticket, policy in tickets:
        with frozen_at(signed_at):
            apply_transition(db.session.merge(ticket), "sign", world.district_handler)
            db.session.commit()
        clock = db.session.get(SlaClock, ticket.id)
        assert clock.kind == "answer"
        # the answer limit was counted from dispatch: signing leaves nearly all of it
        _check(clock, dispatched_at, policy.answer_limit, policy.answer_unit)
    assert run_sweep(signed_at + timedelta(minutes=1)).get("yellow", 0) == 0


@pytest.mark.parametrize(
    "limit, unit", [(1, sla_policy.WD), (2, sla_policy.WD), (0.5, sla_policy.H), (1, sla_policy.H), (4, sla_policy.H)]
)
def test_an_edited_short_policy_still_does_not_warn_at_dispatch(world, limit, unit):
    sla_admin.seed_default_policies()
    policy = db.session.execute(select(SlaPolicy).filter_by(appeal_type="complaint", urgency="normal")).scalar_one()
    sla_admin.update_policy(policy, sign_limit=limit, sign_unit=unit, answer_limit=limit, answer_unit=unit)
    db.session.commit()
    for dispatched_at in DISPATCH_TIMES:
        with frozen_at(dispatched_at):
            ticket = world.ticket_in("dispatched")
        _check(db.session.get(SlaClock, ticket.id), dispatched_at, limit, unit)
        assert run_sweep(dispatched_at + timedelta(minutes=1)).get("yellow", 0) == 0


def test_the_warning_share_is_configurable(app, world):
    app.config.update(SLA_WARNING_SHARE=0.5, SLA_WARNING_WORKING_DAYS=3)
    try:
        with frozen_at(local(2026, 11, 23, 10)):
            ticket = world.ticket_in("in_progress")  # complaint: 10 working days, to Mon 12-07
        # three working days left: the end of Wednesday 12-02
        assert db.session.get(SlaClock, ticket.id).warn_at == local(2026, 12, 2, 23, 59, 59)
    finally:
        app.config.update(SLA_WARNING_SHARE=0.2, SLA_WARNING_WORKING_DAYS=1)


def test_rewarn_moves_old_clocks_and_takes_back_early_yellow_cards(app, world):
    from hotline.tickets.models import Ticket

    dispatched_at = local(2026, 12, 4, 23, 30)
    with frozen_at(dispatched_at):
        early, later = world.ticket_in("dispatched"), world.ticket_in("in_progress")
    # as the old rule left them: the sign-for card due at dispatch and already shown, an answer card due early
    db.session.get(SlaClock, early.id).warn_at = dispatched_at
    db.session.get(SlaClock, early.id).stage = 1
    db.session.get(Ticket, early.id).warning_level = "yellow"
    db.session.get(SlaClock, later.id).warn_at = dispatched_at + timedelta(hours=1)
    db.session.commit()
    with frozen_at(dispatched_at + timedelta(hours=2)):
        counts = sla_deadlines.recompute_warnings(
            dispatched_at + timedelta(hours=2), batch_size=1, commit=db.session.commit
        )
    db.session.commit()
    assert counts == {"moved": 2, "withdrawn": 1}
    clock, ticket = db.session.get(SlaClock, early.id), db.session.get(Ticket, early.id)
    assert (clock.stage, ticket.warning_level) == (0, "none")
    assert clock.warn_at > dispatched_at + timedelta(hours=12) and ticket.next_deadline_at == clock.warn_at
    assert db.session.get(SlaClock, later.id).warn_at == local(2026, 12, 17, 23, 59, 59)  # due 12-18: a day before
    # nothing left to move: the command says so
    result = app.test_cli_runner().invoke(args=["sla", "rewarn"])
    assert result.exit_code == 0 and "moved: 0" in result.output
