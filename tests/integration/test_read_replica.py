"""The read replica (DATABASE_REPLICA_URL): the dashboard, the public statistics and the exports read there
while it is fresh enough; writes never go there; down or too far behind, everything reads from the primary.

The "replica" here is the test database seen through a role that may only SELECT: a write sent there would
fail, so a page that works proves its writes went to the primary. A real streaming replica is exercised by
bench/cluster.py."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from hotline import create_app
from hotline.core import replica
from hotline.extensions import db
from tests.conftest import PG_ADMIN_URL
from tests.factories import PASSWORD, build_world

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(scope="module")
def replica_app(pg_databases):
    from flask_migrate import upgrade

    from hotline.demo.seed import seed_reference_data

    url = pg_databases.create("replica")
    role = f"hotline_ro_{uuid.uuid4().hex[:8]}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        seed_reference_data()
        build_world()
        db.session.commit()
        db.engine.dispose()
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(sa.text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    read_only = sa.engine.make_url(url).set(username=role).render_as_string(hide_password=False)

    def make(**overrides):
        return create_app("testing", SQLALCHEMY_DATABASE_URI=url, DATABASE_REPLICA_URL=read_only, **overrides)

    make.role, make.admin = role, admin
    yield make
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP OWNED BY {role}"))
    admin.dispose()
    with sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)'))
        conn.execute(sa.text(f"DROP ROLE {role}"))


class Recorder:
    """The statements each engine ran."""

    def __init__(self, app):
        with app.app_context():
            self.engines = {"primary": db.engine, "replica": db.engines["replica"]}
        self.seen = {name: [] for name in self.engines}
        for name, engine in self.engines.items():
            sa.event.listen(engine, "before_cursor_execute", self._record(name))

    def _record(self, name):
        def record(conn, cursor, statement, *args):
            self.seen[name].append(statement.lstrip().upper())

        return record

    def clear(self):
        for statements in self.seen.values():
            statements.clear()

    def writes(self, name):
        return [s for s in self.seen[name] if s.startswith(WRITES)]


def signed_in(app, username="supervisor"):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_the_dashboard_reads_from_the_replica_and_says_so(replica_app):
    app = replica_app()
    seen = Recorder(app)
    client = signed_in(app)
    seen.clear()
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "数据读自只读副本：最多比实时数据滞后 60 秒" in page.get_data(as_text=True)
    assert any(s.startswith("SELECT") for s in seen.seen["replica"])
    assert seen.writes("replica") == []


def test_the_signed_in_user_is_checked_on_the_primary(replica_app):
    app = replica_app()
    seen = Recorder(app)
    client = signed_in(app)
    seen.clear()
    client.get("/dashboard/")
    assert any("FROM USER_ACCOUNT" in s for s in seen.seen["primary"])
    assert not any("FROM USER_ACCOUNT" in s for s in seen.seen["replica"])


def test_an_export_reads_from_the_replica_and_records_itself_on_the_primary(replica_app):
    app = replica_app()
    seen = Recorder(app)
    client = signed_in(app)
    seen.clear()
    response = client.get("/dashboard/export/kpi.csv")
    assert response.status_code == 200  # the role behind the replica URL may not write: the writes went elsewhere
    assert seen.writes("replica") == []
    assert any(
        s.startswith(("INSERT INTO DASHBOARD_EXPORT", "INSERT INTO AUDIT_ENTRY")) for s in seen.writes("primary")
    )
    assert any(s.startswith("SELECT") for s in seen.seen["replica"])


def test_public_statistics_read_from_the_replica(replica_app):
    app = replica_app()
    seen = Recorder(app)
    page = app.test_client().get("/public/stats")
    assert page.status_code == 200
    assert "数据读自只读副本" in page.get_data(as_text=True)
    assert seen.seen["replica"]
    assert seen.writes("replica") == []


def test_pages_that_are_not_marked_never_touch_the_replica(replica_app):
    app = replica_app()
    seen = Recorder(app)
    client = signed_in(app)
    seen.clear()
    assert client.get("/").status_code == 200
    assert seen.seen["replica"] == []


def test_a_replica_that_is_down_falls_back_to_the_primary(pg_databases):
    url = pg_databases.create("nodown")
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        DATABASE_REPLICA_URL="postgresql+psycopg://postgres@127.0.0.1:1/none",
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        build_world()
        db.session.commit()
    page = app.test_client().get("/public/stats")
    assert page.status_code == 200
    assert "数据读自主数据库" in page.get_data(as_text=True)


def test_a_replica_too_far_behind_is_not_used(replica_app):
    app = replica_app(REPLICA_MAX_STALENESS_SECONDS=-1)  # any measured lag (0 here) is too much
    seen = Recorder(app)
    client = signed_in(app)
    seen.clear()
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "数据读自主数据库" in page.get_data(as_text=True)
    assert not any(s.startswith("SELECT") and "PG_" not in s for s in seen.seen["replica"])  # only the probe


def test_after_a_write_the_session_reads_its_own_writes_on_the_primary(replica_app):
    from hotline.orgs.models import OrgUnit

    app = replica_app()
    seen = Recorder(app)
    with app.app_context(), replica.replica_reads():
        unit = db.session.execute(sa.select(OrgUnit).limit(1)).scalar_one()
        assert seen.seen["replica"]
        seen.clear()
        unit.name = unit.name + "（改）"
        db.session.flush()  # to the primary (the replica's role could not)
        assert db.session.execute(sa.select(OrgUnit.name).where(OrgUnit.id == unit.id)).scalar_one().endswith("（改）")
        assert seen.seen["replica"] == []
        db.session.rollback()


def test_without_a_replica_nothing_is_said(client, world):
    page = client.get("/public/stats")
    assert page.status_code == 200
    assert 'id="data-source"' not in page.get_data(as_text=True)


def test_a_replica_that_dies_between_checks_costs_no_page(replica_app):
    app = replica_app(REPLICA_CHECK_SECONDS=3600, PUBLIC_STATS_SECONDS=0)  # measured once: "usable" from then on
    client = app.test_client()
    assert "数据读自只读副本" in client.get("/public/stats").get_data(as_text=True)
    with replica_app.admin.connect() as conn:  # the replica goes away: no new logins, its connections cut
        conn.execute(sa.text(f"ALTER ROLE {replica_app.role} NOLOGIN"))
        conn.execute(
            sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{replica_app.role}'")
        )
    try:
        page = client.get("/public/stats")
        assert page.status_code == 200
        assert "数据读自主数据库" in page.get_data(as_text=True)
        assert client.get("/public/stats").status_code == 200  # and it stays on the primary
    finally:
        with replica_app.admin.connect() as conn:
            conn.execute(sa.text(f"ALTER ROLE {replica_app.role} LOGIN"))
