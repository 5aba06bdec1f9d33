"""The escalation ladder and the sweep, on SQLite and PostgreSQL."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.core.clock import LOCAL_TZ, frozen_at, to_utc_naive
from hotline.extensions import db
from hotline.notify.models import Notification
from hotline.sla import admin as sla_admin
from hotline.sla import clock as sla_clock
from hotline.sla import deadlines as sla_deadlines
from hotline.sla import policy as sla_policy
from hotline.sla import supervision as sla_supervision
from hotline.sla.ladder import run_sweep
from hotline.sla.models import SlaClock, SupervisionOrder
from hotline.tickets.models import TicketEvent
from hotline.tickets.services import apply_transition


def local(*args):
    return to_utc_naive(datetime(*args, tzinfo=LOCAL_TZ))


def events(ticket, action):
    return db.session.execute(
        select(func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == action)
    ).scalar_one()


MONDAY_MORNING = local(2026, 11, 23, 10)


def in_progress(world, when=MONDAY_MORNING):
    with frozen_at(when):
        return world.ticket_in("in_progress")  # complaint: answer within 10 working days


def test_ladder_steps_happen_once_each_in_order(world):
    ticket = in_progress(world)
    deadline = ticket.answer_deadline_at
    assert deadline == local(2026, 12, 7, 23, 59, 59)
    assert ticket.next_deadline_at == local(2026, 12, 4, 23, 59, 59)  # yellow: one working day before
    # Nothing due yet: nothing happens.
    assert sum(run_sweep(local(2026, 12, 4, 12)).get(s, 0) for s in ("yellow", "red")) == 0

    counts = run_sweep(local(2026, 12, 5, 9))
    assert counts["yellow"] == 1
    db.session.refresh(ticket)
    assert ticket.warning_level == "yellow" and ticket.next_deadline_at == deadline
    assert run_sweep(local(2026, 12, 5, 9))["yellow"] == 0  # idempotent

    counts = run_sweep(local(2026, 12, 8, 9))
    assert counts["red"] == 1 and counts["supervision_order"] == 1
    db.session.refresh(ticket)
    assert ticket.warning_level == "red"
    order = db.session.execute(select(SupervisionOrder)).scalar_one()
    assert order.source == "ladder" and order.unit_id == world.district.id
    # The order's response deadline (1 working day) is now the next step.
    assert ticket.next_deadline_at == order.response_deadline == local(2026, 12, 9, 23, 59, 59)

    counts = run_sweep(local(2026, 12, 10, 9))
    assert counts["supervision_overdue"] == 1 and counts["escalate"] == 0
    counts = run_sweep(local(2026, 12, 15, 9))  # 5 working days after 12-07
    assert counts["escalate"] == 1
    db.session.refresh(ticket)
    assert ticket.escalation_level == 1 and ticket.next_deadline_at is None and ticket.status == "in_progress"
    escalated = db.session.execute(select(TicketEvent).filter_by(ticket_id=ticket.id, action="escalated")).scalar_one()
    assert escalated.data["to_unit"] == "city" and escalated.actor_kind == "system"
    for action in ("yellow_card", "red_card", "supervision_order", "supervision_overdue", "escalated"):
        assert events(ticket, action) == 1, action
    assert run_sweep(local(2027, 1, 30, 9)).get("tickets", 0) == 0
    # the unit's handler and the city supervisor were told in-app
    recipients = set(
        db.session.execute(select(Notification.recipient).where(Notification.template == "red_card")).scalars()
    )
    assert {"district_handler", "supervisor"} <= recipients


def test_a_late_sweep_takes_every_missed_step_once(world):
    ticket = in_progress(world)
    counts = run_sweep(local(2026, 12, 31, 9))
    assert (counts["yellow"], counts["red"], counts["escalate"]) == (1, 1, 1)
    assert run_sweep(local(2026, 12, 31, 9)).get("tickets", 0) == 0
    db.session.refresh(ticket)
    assert ticket.escalation_level == 1


def test_signing_moves_the_ladder_to_the_answer_deadline(world):
    with frozen_at(local(2026, 11, 23, 10)):
        ticket = world.ticket_in("dispatched")
    # sign for within one working day (to the end of 11-24): yellow in its last fifth, not at dispatch
    assert run_sweep(local(2026, 11, 24, 0, 30)).get("yellow", 0) == 0
    assert run_sweep(local(2026, 11, 24, 19, 13))["yellow"] == 1
    db.session.refresh(ticket)
    assert ticket.warning_level == "yellow"
    with frozen_at(local(2026, 11, 24, 20)):
        apply_transition(ticket, "sign", world.district_handler)
        db.session.commit()
    assert ticket.warning_level == "none"
    assert ticket.next_deadline_at == local(2026, 12, 4, 23, 59, 59)


def test_callback_timeout_closes_as_not_reached(world):
    with frozen_at(local(2026, 11, 23, 10)):
        ticket = world.ticket_in("pending_callback")
    assert ticket.next_deadline_at == local(2026, 11, 26, 23, 59, 59)  # 3 working days
    assert run_sweep(local(2026, 11, 26, 23))["callback_closed"] == 0
    assert run_sweep(local(2026, 11, 27, 0, 1))["callback_closed"] == 1
    db.session.refresh(ticket)
    assert ticket.status == "closed" and ticket.satisfaction == "not_reached" and ticket.next_deadline_at is None
    assert events(ticket, "close_unreached") == 1


def test_suspension_pauses_working_days_and_resumes_by_itself(world):
    ticket = in_progress(world)  # deadline Mon 12-07
    with frozen_at(local(2026, 11, 30, 10)):  # 5 working days left (12-01..12-07)
        req = sla_clock.request_suspension(ticket, world.district_handler, "等待检测报告", local(2026, 12, 14, 9))
        sla_clock.decide_suspension(req, world.supervisor, True)
        db.session.commit()
    assert ticket.status == "suspended" and ticket.next_deadline_at == local(2026, 12, 14, 9)
    assert run_sweep(local(2026, 12, 14, 9, 1))["resumed"] == 1
    db.session.refresh(ticket)
    assert ticket.status == "in_progress"
    assert ticket.answer_deadline_at == local(2026, 12, 21, 23, 59, 59)  # five working days after 12-14


def test_extension_changes_the_deadline_and_restarts_the_ladder(world):
    ticket = in_progress(world)
    run_sweep(local(2026, 12, 5, 9))
    db.session.refresh(ticket)
    assert ticket.warning_level == "yellow"
    with frozen_at(local(2026, 12, 5, 10)):
        req = sla_clock.request_extension(ticket, world.district_handler, local(2026, 12, 19, 12), "需要现场复核")
        db.session.commit()
        sla_clock.decide_extension(req, world.supervisor, True, "同意")
        db.session.commit()
    assert req.requested_deadline == local(2026, 12, 21, 23, 59, 59)  # Saturday → next working day's end
    assert ticket.answer_deadline_at == req.requested_deadline and ticket.warning_level == "none"
    assert ticket.next_deadline_at == local(2026, 12, 18, 23, 59, 59)
    assert events(ticket, "extension_approved") == 1


def test_an_extension_to_a_make_up_workday_and_a_pause_over_it(world):
    """2026-09-20 is a Sunday the 2026 notice makes a working day (国庆节调休)."""
    ticket = in_progress(world, local(2026, 9, 1, 10))  # 10 working days: Tue 09-15
    assert ticket.answer_deadline_at == local(2026, 9, 15, 23, 59, 59)
    with frozen_at(local(2026, 9, 2, 10)):
        req = sla_clock.request_extension(ticket, world.district_handler, local(2026, 9, 20, 12), "需要现场复核")
        sla_clock.decide_extension(req, world.supervisor, True)
        db.session.commit()
    assert ticket.answer_deadline_at == req.requested_deadline == local(2026, 9, 20, 23, 59, 59)
    assert ticket.next_deadline_at == local(2026, 9, 18, 23, 59, 59)  # yellow: Friday, Saturday is off
    with frozen_at(local(2026, 9, 18, 10)):  # one working day left: the Sunday
        apply_transition(ticket, "suspend", world.supervisor, note="等待检测报告")
        db.session.commit()
    with frozen_at(local(2026, 9, 24, 10)):
        apply_transition(ticket, "resume", world.supervisor)
        db.session.commit()
    assert ticket.answer_deadline_at == local(2026, 9, 28, 23, 59, 59)  # 中秋节 09-25..09-27 off


def test_manual_urging_and_order_have_response_deadlines(world):
    ticket = in_progress(world)
    with frozen_at(local(2026, 11, 24, 10)):
        urging = sla_supervision.urge_ticket(ticket, world.supervisor, "请加快办理")
        db.session.commit()
    assert ticket.next_deadline_at == urging.response_deadline == local(2026, 11, 25, 23, 59, 59)
    with frozen_at(local(2026, 11, 25, 10)):
        sla_supervision.respond_to_supervision(urging, world.district_handler, "正在协调")
        db.session.commit()
    assert ticket.next_deadline_at == local(2026, 12, 4, 23, 59, 59)
    from hotline.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        sla_supervision.issue_supervision_order(ticket, world.district_handler, "x")
    db.session.rollback()
    order = sla_supervision.issue_supervision_order(ticket, world.supervisor, "请于明日前反馈")
    db.session.commit()
    assert order.source == "manual" and events(ticket, "urged") == 1 and events(ticket, "supervision_order") == 1


def test_hour_limits_yellow_in_the_last_fifth(world):
    with frozen_at(local(2026, 10, 1, 10)):
        ticket = world.ticket_in("in_progress", urgency="critical")  # answer within 2 hours
    assert ticket.answer_deadline_at == local(2026, 10, 1, 12)
    assert ticket.next_deadline_at == local(2026, 10, 1, 11, 36)
    assert run_sweep(local(2026, 10, 1, 11, 35)).get("yellow", 0) == 0
    assert run_sweep(local(2026, 10, 1, 11, 37))["yellow"] == 1


@pytest.fixture
def calendar_2027(app):
    """The calendar is reference data shared by the tests: take the imported year out again."""
    from hotline.sla.models import WorkCalendarDay

    yield
    db.session.rollback()
    db.session.execute(WorkCalendarDay.__table__.delete().where(WorkCalendarDay.day >= datetime(2027, 1, 1).date()))
    db.session.commit()
    sla_policy.invalidate_calendar()


def test_import_of_an_unknown_year_recomputes_provisional_deadlines(world, calendar_2027):
    from hotline.sla.notice import parse_csv

    with frozen_at(local(2026, 12, 30, 10)):
        ticket = world.ticket_in("in_progress")
    assert ticket.deadline_provisional
    provisional = ticket.answer_deadline_at
    # 2027 as a (fictional) notice: 01-04 and 01-05 off.
    days = "date,is_workday,note\n2027-01-01,0,元旦\n2027-01-04,0,元旦\n2027-01-05,0,元旦\n"
    result = sla_admin.import_calendar_year(parse_csv(days))
    db.session.commit()
    assert result["recomputed"] == 1
    db.session.refresh(ticket)
    assert not ticket.deadline_provisional
    assert provisional == local(2027, 1, 13, 23, 59, 59)  # weekdays counted
    assert ticket.answer_deadline_at == local(2027, 1, 18, 23, 59, 59)  # three days off moved it


def test_two_sweeps_cannot_overlap(world):
    from hotline.sla.ladder import sweep_lock

    in_progress(world)
    with sweep_lock() as first:
        assert first
        assert run_sweep(local(2026, 12, 31, 9))["skipped_locked"] == 1
    counts = run_sweep(local(2026, 12, 31, 9))
    assert counts["red"] == 1, counts


def test_sweep_reads_only_due_tickets_through_the_partial_index(pg_world):
    """The batch statement itself: due tickets from the partial index, their clocks by primary key, one
    probe per ticket, even when the planner would rather join otherwise (it does when it expects many due
    tickets: a hash of the whole clock table)."""
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    from hotline.sla.ladder import _due_tickets

    in_progress(pg_world)
    sql = str(
        _due_tickets(local(2026, 12, 31, 9), 500).compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )
    assert "FOR NO KEY UPDATE OF ticket SKIP LOCKED" in sql
    db.session.execute(text("SET enable_seqscan = off"))
    db.session.execute(text("SET enable_nestloop = off"))  # what a plain join would then become: hash or merge
    plan = "\n".join(db.session.execute(text("EXPLAIN " + sql)).scalars())
    db.session.rollback()
    assert "ix_ticket_next_deadline_open" in plan and "Index Scan using pk_sla_clock" in plan, plan
    assert "Nested Loop" in plan and "Hash" not in plan and "Merge" not in plan, plan


def test_a_sweep_with_nothing_due_is_one_index_probe(world):
    """No lock, no transaction, no batch: one statement whatever the number of open tickets."""
    from sqlalchemy import event

    from hotline.sla.ladder import anything_due

    ticket = in_progress(world)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        counts = run_sweep(local(2026, 12, 4, 12))  # the yellow card is due at the end of 12-04
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert dict(counts) == {}
    assert len(statements) == 1 and "next_deadline_at" in statements[0], statements
    assert not anything_due(local(2026, 12, 4, 12)) and anything_due(ticket.next_deadline_at)


def test_the_nothing_due_probe_reads_the_partial_index(pg_world):
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    from hotline.sla.ladder import due_query

    in_progress(pg_world)
    sql = str(
        due_query(local(2026, 12, 4, 12)).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    db.session.execute(text("SET enable_seqscan = off"))
    plan = "\n".join(db.session.execute(text("EXPLAIN " + sql)).scalars())
    db.session.rollback()
    assert "ix_ticket_next_deadline_open" in plan and "Sort" not in plan, plan


def test_a_batch_leaves_the_tickets_the_session_holds_current(world):
    """The bulk writes go around the ORM: a ticket the caller holds shows them and can still be saved
    (its version is the one the batch wrote, not a stale one)."""
    from hotline.sla.ladder import sweep_batch

    ticket = in_progress(world)
    version = ticket.version
    now = local(2026, 12, 31, 9)
    with frozen_at(now):
        counts, ids = sweep_batch(now, 10)
    assert ids == [ticket.id] and (counts["yellow"], counts["red"], counts["escalate"]) == (1, 1, 1)
    assert ticket.warning_level == "red" and ticket.escalation_level == 1 and ticket.version == version + 1
    assert db.session.get(SlaClock, ticket.id).stage == 3
    ticket.title = "改过的标题"
    db.session.flush()  # the optimistic check of the ORM: passes only with the version the batch wrote
    db.session.commit()
    db.session.refresh(ticket)
    assert ticket.version == version + 2 and ticket.title == "改过的标题" and ticket.warning_level == "red"


def test_a_callback_timeout_and_an_overdue_urging_in_one_batch(world):
    """One ticket with a workflow step (through the ORM) and a bulk step (the urging flagged): each once."""
    with frozen_at(local(2026, 11, 23, 10)):
        ticket = world.ticket_in("pending_callback")  # the callback window ends 11-26
    with frozen_at(local(2026, 11, 24, 10)):
        urging = sla_supervision.urge_ticket(ticket, world.supervisor, "请尽快回访")
        db.session.commit()
    assert urging.response_deadline == local(2026, 11, 25, 23, 59, 59)
    counts = run_sweep(local(2026, 11, 27, 0, 1))
    assert (counts["callback_closed"], counts["supervision_overdue"], counts["tickets"]) == (1, 1, 1), counts
    assert run_sweep(local(2026, 11, 27, 0, 1)).get("tickets", 0) == 0
    db.session.refresh(ticket)
    db.session.refresh(urging)
    assert ticket.status == "closed" and ticket.next_deadline_at is None and urging.overdue_at is not None
    assert events(ticket, "close_unreached") == 1 and events(ticket, "supervision_overdue") == 1


def ladder_orders(ticket):
    return (
        db.session.execute(
            select(SupervisionOrder)
            .where(SupervisionOrder.ticket_id == ticket.id, SupervisionOrder.source == "ladder")
            .order_by(SupervisionOrder.id)
        )
        .scalars()
        .all()
    )


def test_a_reply_sent_back_after_the_deadline_issues_no_second_order(world):
    """The same answer deadline watched again (issue 23, item 8): its red card may come back, its 督办单 not."""
    ticket = in_progress(world)
    assert run_sweep(local(2026, 12, 8, 9))["supervision_order"] == 1
    with frozen_at(local(2026, 12, 8, 10)):
        apply_transition(ticket, "reply", world.district_handler, body="已处理完毕")
        apply_transition(ticket, "send_back_reply", world.dispatcher, note="答复不完整")
        db.session.commit()
    counts = run_sweep(local(2026, 12, 8, 11))
    assert counts["red"] == 1 and counts["supervision_order"] == 0 and counts["supervision_order_refused"] == 1
    (order,) = ladder_orders(ticket)
    assert (order.ladder_stage, order.clock_kind, order.clock_deadline_at) == (2, "answer", ticket.answer_deadline_at)
    assert events(ticket, "supervision_order") == 1
    assert (
        db.session.execute(
            select(func.count()).select_from(Notification).where(Notification.template == "supervision_order")
        ).scalar_one()
        == 2
    )  # the first order's two recipients
    # nor a supervisor's own while the ladder's waits for its answer (issue 22, item 6)
    from hotline.core.errors import InvalidTransition

    with pytest.raises(InvalidTransition):
        sla_supervision.issue_supervision_order(ticket, world.supervisor, "请今日内答复")
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(SupervisionOrder)).scalar_one() == 1


def test_the_database_refuses_a_second_ladder_order_for_a_stage_and_round(world):
    import sqlalchemy as sa

    ticket = in_progress(world)
    run_sweep(local(2026, 12, 8, 9))
    (order,) = ladder_orders(ticket)
    copy = {
        c: getattr(order, c)
        for c in (
            "ticket_id",
            "unit_id",
            "message",
            "source",
            "response_deadline",
            "ladder_stage",
            "clock_kind",
            "clock_deadline_at",
            "created_at",
        )
    }
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(SupervisionOrder.__table__.insert(), [copy])
    db.session.rollback()
    # another round (a later deadline) and another source are each allowed
    db.session.execute(
        SupervisionOrder.__table__.insert(),
        [{**copy, "clock_deadline_at": copy["clock_deadline_at"] + timedelta(days=3)}, {**copy, "source": "manual"}],
    )
    db.session.rollback()


def test_an_extension_after_the_red_card_is_a_new_round_with_its_own_order(world):
    ticket = in_progress(world)
    run_sweep(local(2026, 12, 8, 9))
    with frozen_at(local(2026, 12, 8, 10)):  # the deadline moves: as a redo or an approved extension would
        ticket.answer_deadline_at = local(2026, 12, 10, 23, 59, 59)
        sla_deadlines.refresh_clock(ticket)
        db.session.flush()
        sla_deadlines.refresh_next_deadline(ticket)
        db.session.commit()
    assert run_sweep(local(2026, 12, 11, 9))["supervision_order"] == 1
    assert [o.clock_deadline_at for o in ladder_orders(ticket)] == [
        local(2026, 12, 7, 23, 59, 59),
        local(2026, 12, 10, 23, 59, 59),
    ]
