"""Two sweeps at once on PostgreSQL (separate connections, threads): every step exactly once."""

import threading
from datetime import datetime

from sqlalchemy import func, select

from hotline.core.clock import LOCAL_TZ, frozen_at, to_utc_naive
from hotline.extensions import db
from hotline.sla.ladder import run_sweep, sweep_batch
from hotline.tickets.models import TicketEvent


def local(*args):
    return to_utc_naive(datetime(*args, tzinfo=LOCAL_TZ))


def test_two_sweeps_at_once_take_every_step_exactly_once(pg_app, pg_world):
    with frozen_at(local(2026, 11, 23, 10)):
        for _ in range(30):
            pg_world.ticket_in("in_progress")
    now = local(2026, 12, 31, 9)
    results, errors = [], []

    def sweep():
        with pg_app.app_context():
            try:
                results.append(run_sweep(now, batch_size=7))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    # frozen_at is process-global, not per thread: hold it here too, so that whichever thread leaves
    # last restores this moment and not a leaked one (it once leaked into later tests of the process).
    with frozen_at(now):
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    from hotline.core import clock

    assert clock._frozen is None
    assert not errors
    counts = dict(
        db.session.execute(
            select(TicketEvent.action, func.count())
            .where(TicketEvent.action.in_(["yellow_card", "red_card", "escalated"]))
            .group_by(TicketEvent.action)
        ).all()
    )
    assert counts == {"yellow_card": 30, "red_card": 30, "escalated": 30}


def test_batches_skip_rows_another_sweep_holds(pg_app, pg_world):
    """SKIP LOCKED: a second batch reader passes over the tickets the first has locked."""
    with frozen_at(local(2026, 11, 23, 10)):
        for _ in range(4):
            pg_world.ticket_in("in_progress")
    now = local(2026, 12, 31, 9)
    _, first_ids = sweep_batch(now, 2)  # holds two rows locked in this (open) transaction
    seen = []

    def other():
        with pg_app.app_context():
            _, ids = sweep_batch(now, 10)
            seen.extend(ids)
            db.session.rollback()
            db.session.remove()

    t = threading.Thread(target=other)
    t.start()
    t.join(30)
    db.session.rollback()
    assert len(first_ids) == 2 and len(seen) == 2 and not set(seen) & set(first_ids)


def test_a_sweep_killed_mid_batch_loses_and_doubles_nothing(world):
    """A batch that never commits (the worker died) took no step; the next sweep takes each once."""
    with frozen_at(local(2026, 11, 23, 10)):
        for _ in range(5):
            world.ticket_in("in_progress")
    now = local(2026, 12, 31, 9)
    with frozen_at(now):
        sweep_batch(now, 3)
    db.session.rollback()  # what the database does for a killed worker's open transaction
    run_sweep(now)
    run_sweep(now)
    assert (
        db.session.execute(
            select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "red_card")
        ).scalar_one()
        == 5
    )
