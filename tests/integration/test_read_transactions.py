"""A request that only read ends its transaction with COMMIT, so psycopg keeps its prepared statements;
anything else still ends with a ROLLBACK and keeps nothing."""

import threading

import pytest
import sqlalchemy as sa

from hotline.core.after_commit import enqueue_after_commit
from hotline.core.transactions import end_read_transaction
from hotline.extensions import db
from hotline.notify.models import Notification
from hotline.tickets.models import Ticket
from tests.factories import PASSWORD


def in_own_context(call):
    """Run ``call`` in a thread with no app context, as gunicorn runs a request: the request pushes its own
    context and its session is removed at the end (in a test the request would share the test's)."""
    result = {}

    def run():
        try:
            result["value"] = call()
        except BaseException as exc:  # re-raised in the test's thread
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.fixture
def endings(app):
    """How transactions ended on the engine's connections, in order."""
    seen = []
    listeners = [("commit", lambda conn: seen.append("commit")), ("rollback", lambda conn: seen.append("rollback"))]
    for name, fn in listeners:
        sa.event.listen(db.engine, name, fn)
    yield seen
    for name, fn in listeners:
        sa.event.remove(db.engine, name, fn)


def test_a_page_ends_its_transaction_with_a_commit(app, world, endings):
    number = world.ticket_in("pending_dispatch").tracking_no
    db.session.commit()
    client = app.test_client()
    in_own_context(lambda: client.post("/login", data={"username": "dispatcher", "password": PASSWORD}))
    endings.clear()
    response = in_own_context(lambda: client.get(f"/tickets/{number}"))
    assert response.status_code == 200
    assert endings == ["commit"]


def test_a_failed_page_still_rolls_back(app, world, endings):
    client = app.test_client()
    in_own_context(lambda: client.post("/login", data={"username": "dispatcher", "password": PASSWORD}))
    endings.clear()
    assert in_own_context(lambda: client.get("/tickets/20990101999999")).status_code == 404
    assert endings[-1] == "commit"  # the error page, after the handler's rollback, only read
    endings.clear()
    with app.test_request_context("/", method="GET"):
        db.session.execute(sa.select(Ticket.id)).all()
        end_read_transaction(RuntimeError("the view failed"))
        assert db.session().in_transaction()
        db.session.rollback()
    assert endings == ["rollback"]


@pytest.mark.parametrize("change", ["edit", "add", "task", "post"])
def test_a_request_that_changed_something_is_not_committed(app, world, change):
    ticket = world.ticket_in("pending_dispatch")
    db.session.commit()
    ticket_id, title = ticket.id, ticket.title
    db.session.remove()
    with app.test_request_context("/", method="POST" if change == "post" else "GET"):
        loaded = db.session.get(Ticket, ticket_id)
        if change == "add":
            db.session.add(
                Notification(channel="in_app", recipient="dispatcher", template="urged", payload={}, status="sent")
            )
        elif change == "task":
            db.session.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(title="改过"))
            enqueue_after_commit(db.session, "hotline.tickets.noop", ticket_id)
        elif change == "post":
            db.session.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(title="改过"))
        else:
            loaded.title = "改过"
        end_read_transaction(None)
        db.session.rollback()
    db.session.remove()
    assert db.session.get(Ticket, ticket_id).title == title
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_pages_reuse_prepared_statements_on_postgresql(pg_app, pg_world):
    number = pg_world.ticket_in("in_progress").tracking_no
    db.session.commit()
    db.session.remove()
    client = pg_app.test_client()
    in_own_context(lambda: client.post("/login", data={"username": "dispatcher", "password": PASSWORD}))
    db.engine.dispose()  # from here on the pool holds one connection: the pages' one
    for _ in range(12):  # psycopg prepares a statement on its fifth run
        assert in_own_context(lambda: client.get(f"/tickets/{number}")).status_code == 200
    with db.engine.connect() as conn:  # that one connection
        prepared = conn.execute(sa.text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    assert any("FROM ticket" in statement for statement in prepared), prepared


def test_the_read_commit_keeps_what_was_loaded_and_the_session_setting(app, world, statements):
    ticket = world.ticket_in("pending_dispatch")
    db.session.commit()
    ticket_id = ticket.id
    db.session.remove()
    with app.test_request_context("/", method="GET"):
        loaded = db.session.get(Ticket, ticket_id)
        end_read_transaction(None)
        statements.clear()
        assert loaded.title and not statements  # not expired: reading it again runs no SQL
        assert db.session().expire_on_commit is True  # later commits in this session still expire
