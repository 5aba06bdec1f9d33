"""Fixtures: the app on SQLite and on PostgreSQL, a clean database per test, data factories.

Integration tests run once per back end. PostgreSQL is the machine's server
(``TEST_POSTGRES_URL``); each run creates its own database and drops it after.
With ``HOTLINE_REQUIRE_SERVICES=1`` (CI) an unreachable server fails the run
instead of skipping its tests.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from hotline import create_app
from hotline.api.services import usage_meter
from hotline.extensions import db, limiter

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("HOTLINE_REQUIRE_SERVICES") == "1"
REFERENCE_TABLES = {"work_calendar_day", "sla_policy", "alembic_version"}


def service_unavailable(what: str, exc: Exception):
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required but unreachable: {exc}", pytrace=False)
    pytest.skip(f"{what} unreachable: {exc}")


class PgDatabases:
    """Creates throwaway databases on the PostgreSQL server and drops them at the end."""

    def __init__(self):
        self.engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self, label: str) -> str:
        name = f"hotline_test_{label}_{uuid.uuid4().hex[:8]}"
        with self.engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self):
        with self.engine.connect() as conn:
            for name in self.created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.engine.dispose()


@pytest.fixture(scope="session")
def pg_databases():
    try:
        databases = PgDatabases()
        with databases.engine.connect():
            pass
    except Exception as exc:  # noqa: BLE001 — any connection failure means "no server"
        service_unavailable("PostgreSQL", exc)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    """A fresh, migrated database URL for a back end; reference data loaded once."""

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'hotline.db'}"
        return request.getfixturevalue("pg_databases").create("app")

    return make


_apps: dict[str, object] = {}


def _make_app(backend: str, make_url) -> object:
    if backend not in _apps:
        from flask_migrate import upgrade

        from hotline.demo.seed import seed_reference_data

        app = create_app("testing", SQLALCHEMY_DATABASE_URI=make_url(backend))
        with app.app_context():
            upgrade()
            seed_reference_data()
            db.session.commit()
        _apps[backend] = app
    return _apps[backend]


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, database_url):
    """The app with an empty database (reference data kept) on each back end."""
    application = _make_app(request.param, database_url)
    with application.app_context():
        yield application
        db.session.remove()
        _empty_tables()
        _restore_reference_data()
        limiter.reset()  # rate-limit counters must not leak from one test into the next
        usage_meter.discard()  # nor API key usage not yet written


def _restore_reference_data():
    """Reference tables are kept between tests for speed; put back what a test edited (calendar days,
    SLA policies), so no test sees another's changes."""
    from hotline.sla import policy as sla_policy
    from hotline.sla.calendar import from_chinesecalendar
    from hotline.sla.models import CalendarSource, SlaPolicy, WorkCalendarDay

    edited = (
        db.session.execute(sa.select(WorkCalendarDay).where(WorkCalendarDay.source != CalendarSource.PACKAGE.value))
        .scalars()
        .all()
    )
    package = from_chinesecalendar().days if edited else {}
    for day in edited:
        if day.day in package:
            day.is_workday, day.source, day.note = package[day.day], CalendarSource.PACKAGE.value, None
        else:
            db.session.delete(day)
    defaults = {(p["appeal_type"], p["urgency"]): p for p in sla_policy.default_policies()}
    for policy in db.session.execute(sa.select(SlaPolicy)).scalars():
        for name, value in defaults[(policy.appeal_type, policy.urgency)].items():
            setattr(policy, name, value)
    db.session.commit()
    db.session.remove()
    sla_policy.invalidate_calendar()


def _empty_tables():
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            _drop_day_sequences(conn)
        else:
            for table in tables:
                conn.execute(table.delete())


def _drop_day_sequences(conn):
    """Tracking numbers start again at 000001 (hotline.tickets.tracking), as daily_sequence does."""
    from hotline.tickets.tracking import SEQUENCE_LIKE

    names = (
        conn.execute(
            sa.text(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() AND sequencename LIKE :like"
            ),
            {"like": SEQUENCE_LIKE},
        )
        .scalars()
        .all()
    )
    for name in names:
        conn.execute(sa.text(f'DROP SEQUENCE "{name}"'))


@pytest.fixture
def pg_app(request, database_url):
    """The app on PostgreSQL only, for what SQLite cannot show (real concurrent connections)."""
    application = _make_app("postgresql", database_url)
    with application.app_context():
        yield application
        db.session.remove()
        _empty_tables()


@pytest.fixture
def statements(app):
    """The SQL statements run while the test runs (clear it before the part to count)."""
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(app):
    from tests.factories import build_world

    w = build_world()
    db.session.commit()
    return w


@pytest.fixture
def pg_world(pg_app):
    from tests.factories import build_world

    w = build_world()
    db.session.commit()
    return w
