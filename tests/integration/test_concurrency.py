"""Two people acting at once: exactly one wins. Tested on PostgreSQL with real connections."""

import re
import threading
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.core.clock import frozen_at
from hotline.core.errors import Conflict
from hotline.extensions import db
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.services import apply_transition, register_ticket
from tests.factories import appeal


def _in_own_session(app, fn):
    """Run ``fn(session)`` on a connection of its own, the way two web workers would."""
    with app.app_context():
        db.session.remove()
        try:
            return fn()
        finally:
            db.session.remove()


def test_two_signers_one_wins_the_other_gets_a_conflict(pg_app, pg_world):
    ticket = pg_world.ticket_in("dispatched")
    ticket_id, handler_id = ticket.id, pg_world.district_handler.id
    barrier = threading.Barrier(2)
    outcomes = []

    def sign():
        from hotline.accounts.models import User

        def work():
            t = db.session.get(Ticket, ticket_id)
            actor = db.session.get(User, handler_id)
            _ = t.assignments, t.events  # both loaded before either writes
            barrier.wait()
            try:
                apply_transition(t, "sign", actor)
                db.session.commit()
                outcomes.append("won")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")

        _in_own_session(pg_app, work)

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "won"]
    db.session.remove()
    signs = db.session.execute(
        sa.select(sa.func.count()).where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == "sign")
    ).scalar()
    assert signs == 1
    assert db.session.get(Ticket, ticket_id).status == "in_progress"


def test_stale_second_session_changes_nothing(pg_app, pg_world):
    """Session B read the ticket before A committed; B's write is refused whole."""
    ticket = pg_world.ticket_in("in_progress")
    engine = db.engine
    with Session(engine) as a, Session(engine) as b:
        from hotline.accounts.models import User

        ta, tb = a.get(Ticket, ticket.id), b.get(Ticket, ticket.id)
        _ = ta.assignments, tb.assignments
        ta.status = "replied"  # A commits a change (version + 1)
        a.commit()
        tb.status = "return_requested"
        tb.updated_at = tb.updated_at
        try:
            b.flush()
            raise AssertionError("the stale write went through")
        except sa.orm.exc.StaleDataError:
            b.rollback()
        assert b.get(User, pg_world.district_handler.id) is not None
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "replied"


def _parallel_intakes(pg_app, pg_world, workers: int, each: int) -> list[str]:
    """``workers`` threads, each in its own session, register ``each`` tickets at once; their numbers."""
    db.session.commit()  # the other connections must see the world
    operator_id = pg_world.operator.id
    numbers, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(workers)

    def intake():
        from hotline.accounts.models import User

        def work():
            operator = db.session.get(User, operator_id)
            barrier.wait()
            for _ in range(each):
                t = register_ticket(appeal(pg_world), operator, "register")
                db.session.commit()
                with lock:
                    numbers.append(t.tracking_no)

        try:
            _in_own_session(pg_app, work)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=intake) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    return numbers


def test_tracking_numbers_stay_unique_under_parallel_intake(pg_app, pg_world):
    numbers = _parallel_intakes(pg_app, pg_world, workers=8, each=10)
    assert len(numbers) == 80 and len(set(numbers)) == 80
    assert all(re.fullmatch(r"\d{8}\d{6}", n) for n in numbers)
    sequences = sorted(int(n[8:]) for n in numbers if n[:8] == numbers[0][:8])
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))


def test_the_first_intakes_of_a_new_day_race_to_create_its_sequence(pg_app, pg_world):
    """Eight workers take the first numbers of a day nobody has numbered yet: one creates the day's
    sequence, the others use it; the numbers start at 000001, unique and without gaps."""
    with frozen_at(datetime(2031, 5, 5, 2, 0)):
        numbers = _parallel_intakes(pg_app, pg_world, workers=8, each=5)
    assert sorted(numbers) == [f"20310505{n:06d}" for n in range(1, 41)]
