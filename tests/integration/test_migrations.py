"""The Alembic revisions build exactly the schema the models declare, on both back ends."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from hotline import create_app
from hotline.extensions import db


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrate.db'}"
    return request.getfixturevalue("pg_databases").create("migrate")


def test_upgrade_from_empty_matches_the_models(fresh_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            # the same hook as migrations/env.py: search objects built by hand per back end are not in the models
            from hotline.search.schema import include_object
            diff = compare_metadata(MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}), db.metadata)
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
        db.session.execute(sa.text("UPDATE ticket SET tracking_no = :no WHERE id = :id"),
                           {"no": ticket.tracking_no, "id": other.id})
    db.session.rollback()
