"""PostgreSQL restarted under the app: in-flight requests fail cleanly, the app recovers by itself, and
nothing committed is lost. Runs a throwaway PostgreSQL cluster of its own (never the machine's)."""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade

from hotline import create_app
from hotline.extensions import db
from tests.conftest import service_unavailable

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PORT = 5440


def _as_postgres(*args):
    return subprocess.run(
        ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(args)], capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def cluster():
    if not (PG_BIN / "initdb").exists() or shutil.which("su") is None:
        service_unavailable("a local PostgreSQL installation for the restart drill", FileNotFoundError(PG_BIN))
    root = Path(tempfile.mkdtemp(prefix="hotline-pgfault-"))
    shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    ctl = f"{PG_BIN}/pg_ctl -D {data} -l {root}/log -o '-p {PORT} -k {root} -c listen_addresses=127.0.0.1' -w"
    init = _as_postgres(f"{PG_BIN}/initdb -D {data} -U postgres --auth=trust >/dev/null")
    assert init.returncode == 0, init.stderr
    assert _as_postgres(f"{ctl} start").returncode == 0
    assert _as_postgres(f"{PG_BIN}/createdb -h 127.0.0.1 -p {PORT} -U postgres drill").returncode == 0
    yield {"url": f"postgresql+psycopg://postgres@127.0.0.1:{PORT}/drill", "ctl": ctl}
    _as_postgres(f"{ctl} stop -m immediate")
    shutil.rmtree(root, ignore_errors=True)


def test_restart_under_the_app(cluster):
    from tests.factories import build_world

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=cluster["url"], WTF_CSRF_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        upgrade()
        from hotline.demo.seed import seed_reference_data

        seed_reference_data()
        world = build_world()
        db.session.commit()
        form = {
            "appeal_type": "complaint",
            "title": "路灯损坏",
            "body": "人民路路灯不亮。",
            "citizen_phone": "13912345678",
            "district_id": str(world.district.id),
        }
    for _ in range(3):  # committed before the restart
        assert client.post("/appeal", data=form).status_code == 302
    client.get("/portal")  # a pooled connection now exists

    assert _as_postgres(f"{cluster['ctl']} stop -m fast").returncode == 0
    down = client.post("/appeal", data=form)  # in flight while the database is away: a clean error page
    assert down.status_code == 503 and int(down.headers["Retry-After"]) >= 30  # issue 28.6: come back later
    page = down.get_data(as_text=True)
    assert "Traceback" not in page and "psycopg" not in page
    assert client.get("/portal").status_code == 200  # pages that need no database still answer

    assert _as_postgres(f"{cluster['ctl']} start").returncode == 0
    time.sleep(0.5)
    # No app restart: the pool notices the dead connections (pool_pre_ping) and opens new ones.
    assert client.post("/appeal", data=form).status_code == 302
    with app.app_context():
        from hotline.tickets.models import Ticket

        assert db.session.query(Ticket).count() == 4  # the 3 before, the 1 after; the failed one left nothing
        db.engine.dispose()
