"""The Alembic revisions build exactly the schema the models declare, on both back ends."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from hotline import create_app
from hotline.extensions import db


def test_upgrade_from_empty_matches_the_models(fresh_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            # the same hook as migrations/env.py: search objects built by hand per back end are not in the models
            from hotline.search.schema import include_object

            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object}),
                db.metadata,
            )
        assert diff == []
        names = set(sa.inspect(db.engine).get_table_names())
        assert {"ticket", "ticket_event", "assignment", "org_unit", "notification"} <= names
        indexes = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("ticket")}
        assert "ix_ticket_next_deadline_open" in indexes
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_status_check_constraint_rejects_unknown_values(world):
    ticket = world.ticket_in("pending_dispatch")
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text("UPDATE ticket SET status = 'lost' WHERE id = :id"), {"id": ticket.id})
        db.session.flush()
    db.session.rollback()


def test_tracking_number_is_unique(world):
    ticket = world.ticket_in("pending_dispatch")
    other = world.ticket_in("pending_dispatch")
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.text("UPDATE ticket SET tracking_no = :no WHERE id = :id"), {"no": ticket.tracking_no, "id": other.id}
        )
    db.session.rollback()


def test_upgrade_keys_earlier_ladder_orders_and_keeps_only_the_oldest_per_round(fresh_url):
    """Orders issued before the ladder recorded its round get it from their red-card event; of two for one
    round (issue 23, item 8), the oldest keeps it and the unique index can be built."""
    from datetime import datetime

    from tests.factories import build_world

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_url)
    with app.app_context():
        upgrade()
        world = build_world()
        ticket = world.ticket_in("in_progress")
        db.session.commit()
        ticket_id, unit_id = ticket.id, world.district.id
        db.session.remove()
        downgrade(revision="a9c3e7d1f2b4")
        first, again = datetime(2026, 12, 8, 1, 0), datetime(2026, 12, 8, 3, 0)
        with db.engine.begin() as conn:
            for at in (first, again):
                conn.execute(
                    sa.text(
                        "INSERT INTO supervision_order (ticket_id, unit_id, message, source, response_deadline, created_at)"
                        " VALUES (:t, :u, '工单已超期', 'ladder', :at, :at)"
                    ),
                    {"t": ticket_id, "u": unit_id, "at": at},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO ticket_event (ticket_id, action, actor_kind, public, data, created_at)"
                        " VALUES (:t, 'red_card', 'system', false, :data, :at)"
                    ),
                    {"t": ticket_id, "at": at, "data": '{"deadline": "2026-12-07T23:59:59+08:00", "clock": "answer"}'},
                )
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT ladder_stage, clock_kind, clock_deadline_at FROM supervision_order ORDER BY id")
            ).all()
        assert [(r[0], r[1]) for r in rows] == [(2, "answer"), (None, None)]
        assert str(rows[0][2]).startswith("2026-12-07 15:59:59")
        db.session.remove()
        db.engine.dispose()
