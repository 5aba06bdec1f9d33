"""The app's psycopg cursors build ``description`` on first use; it must read exactly as psycopg's own."""

import psycopg
import sqlalchemy as sa

from hotline.core.pg import Cursor, LazyDescription
from hotline.extensions import db


def _as_tuples(description):
    return [
        (c.name, c.type_code, c.display_size, c.internal_size, c.precision, c.scale, c.null_ok) for c in description
    ]


def test_the_lazy_description_reads_as_psycopgs(pg_app):
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw.cursor_factory is Cursor  # set on every connection the app opens
        query = "SELECT 1 AS id, 'x'::varchar(12) AS name, now() AS at, 2.5::numeric(5, 2) AS amount"
        ours = raw.cursor()
        ours.execute(query)
        lazy = ours.description
        plain = psycopg.Cursor(raw)
        plain.execute(query)
        assert isinstance(lazy, LazyDescription) and len(lazy) == 4
        ours.execute("SELECT 7 AS other")  # the cursor moves on: the description taken before still holds
        assert _as_tuples(lazy) == _as_tuples(plain.description)
        assert lazy[1].name == "name" and lazy[-1].name == "amount"
        ours.execute("SET LOCAL statement_timeout = 1000")
        assert ours.description is None  # no rows: None, as psycopg says
        ours.execute("SELECT")  # no columns, but rows: an empty description, not None
        assert ours.description is not None and len(ours.description) == 0
        conn.rollback()


def test_orm_results_come_through(pg_app, pg_world):
    ticket = pg_world.ticket_in("in_progress")
    db.session.commit()
    db.session.expire_all()
    row = db.session.execute(sa.text("SELECT id, tracking_no FROM ticket WHERE id = :id"), {"id": ticket.id}).one()
    assert row._mapping["tracking_no"] == ticket.tracking_no and list(row._fields) == ["id", "tracking_no"]
