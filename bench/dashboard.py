"""Benchmark the dashboard, the stats API and the public page on PostgreSQL with a million tickets.

    .venv/bin/python bench/dashboard.py [--tickets 1000000] [--events-per-ticket 10] [--requests 60]
                                        [--rollup-days 30] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                        [--keep | --reuse URL]

The data comes from the shared million-ticket generator (``bench.generate.generate``: the demo city,
N realistic tickets in every status with assignments, ~events-per-ticket history events, answers and
the ladder's red/yellow cards, loaded with COPY; it was 17 % faster than this script's former
INSERT … SELECT loader, 442 s against 532 s for a million tickets on the same box), then 2 % of the
tickets are tagged to 3 public projects. Then the real
rollup (``hotline.dashboard.services.rollup_day``) counts the last ``--rollup-days`` days and the
5-minute task's snapshots are computed (``services.refresh_snapshots``), both timed, and a
threaded server on 127.0.0.1 answers ``--requests`` requests per endpoint after 5 warm-ups; the script
prints p50 and p95 in ms. The scratch database is dropped afterwards unless --keep. ``--reuse URL``
measures again on a kept database (migrated to the current schema, snapshots refreshed first); on a
database straight from ``bench/generate.py`` (no rollups yet) it tags the projects and rolls up first.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load(url: str, n: int, per_ticket: float) -> None:
    """The shared generator (``bench.generate.generate``: realistic tickets, history, answers, ladder
    state, streamed with COPY), then 2 % of the tickets tagged to three public projects."""
    from bench.generate import generate

    t0 = time.perf_counter()
    report = generate(url, n, events_per_ticket=per_ticket, progress=False)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:  # what autovacuum does on a settled database: index-only scans need it
        conn.execute(sa.text("VACUUM ANALYZE ticket"))
    engine.dispose()
    print(f"generated {n:,} tickets and {report['rows']['ticket_event']:,} events in {time.perf_counter() - t0:.0f} s")


def tag_projects() -> None:
    from hotline.core.clock import utcnow
    from hotline.dashboard.models import LivelihoodProject
    from hotline.extensions import db

    projects = []
    for name in ("老旧小区改造", "城市噪声治理", "根治欠薪"):
        project = LivelihoodProject(year=utcnow().year, name=f"{name}（基准）", public=True)
        db.session.add(project)
        db.session.flush()
        projects.append(project.id)
    db.session.execute(
        sa.text("""
        INSERT INTO livelihood_project_ticket (ticket_id, project_id, tagged_at)
        SELECT id, (CAST(:projects AS int[]))[1 + id % 3], created_at FROM ticket WHERE id % 50 = 0"""),
        dict(projects=projects),
    )
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE livelihood_project_ticket"))


def roll_up(days: int) -> None:
    from hotline.dashboard import services
    from hotline.extensions import db

    today = services.local_today()
    timings = []
    for i in range(days, -1, -1):
        result = services.rollup_day(today - timedelta(days=i), final=i > 0)
        db.session.commit()
        timings.append(result["seconds"])
    t0 = time.perf_counter()
    alerts = services.refresh_hotspots()
    db.session.commit()
    print(
        f"rollup of {days + 1} days: median {statistics.median(timings):.2f} s/day, max {max(timings):.2f} s; "
        f"hotspot refresh {time.perf_counter() - t0:.2f} s ({alerts} alerts)"
    )
    refresh_snapshots()


def refresh_snapshots() -> None:
    """What the 5-minute task does after its rollup: the pages' snapshots (timed)."""
    from hotline.dashboard import services
    from hotline.extensions import db

    t0 = time.perf_counter()
    n = services.refresh_snapshots()
    db.session.commit()
    print(f"snapshot refresh: {n} snapshots in {time.perf_counter() - t0:.2f} s")


def measure(port: int, requests: int) -> None:
    def call(path, headers):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - t) * 1000
        conn.close()
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status} {body[:300]!r}")
        return elapsed

    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request(
        "POST",
        "/api/v1/auth/token",
        body=json.dumps({"username": "supervisor", "password": "hotline-demo"}),
        headers={"Content-Type": "application/json"},
    )
    token = json.loads(conn.getresponse().read())["access_token"]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request(
        "POST",
        "/login",
        body="username=supervisor&password=hotline-demo",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    bearer = {"Authorization": f"Bearer {token}"}
    endpoints = [
        ("dashboard page  /dashboard/", "/dashboard/", {"Cookie": cookie}),
        ("stats API       /api/v1/stats/overview", "/api/v1/stats/overview", bearer),
        ("stats API       /api/v1/stats/units", "/api/v1/stats/units", bearer),
        ("public page     /public/stats", "/public/stats", {}),
    ]
    print(f"{'endpoint':42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  (n={requests})")
    for name, path, headers in endpoints:
        for _ in range(5):
            call(path, headers)
        times = sorted(call(path, headers) for _ in range(requests))
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        print(f"{name:42} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--events-per-ticket", type=float, default=10)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--rollup-days", type=int, default=30)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse", help="measure on a kept database (an earlier --keep run, or one made by bench/generate.py)"
    )
    args = parser.parse_args()

    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from hotline import create_app
    from hotline.extensions import db

    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    name = f"hotline_bench_dashboard_{uuid.uuid4().hex[:8]}"
    if args.reuse:
        url, args.keep = args.reuse, True
    else:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    try:
        if not args.reuse:
            load(url, args.tickets, args.events_per_ticket)
        app = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=url,
            WTF_CSRF_ENABLED=False,
            RATELIMIT_ENABLED=False,
            PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
            DASHBOARD_LIVE_SECONDS=15,
        )  # the production default ("testing" turns it off)
        app.logger.setLevel("WARNING")
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        with app.app_context():
            upgrade()  # on --reuse: brings a kept database to the current schema
            if args.reuse and db.session.execute(sa.text("SELECT EXISTS (SELECT 1 FROM kpi_rollup_run)")).scalar():
                refresh_snapshots()
            else:
                tag_projects()
                roll_up(args.rollup_days)
            db.session.remove()
            db.engine.dispose()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        measure(server.server_port, args.requests)
        server.shutdown()
        with app.app_context():
            db.engine.dispose()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"kept {url}")
        admin.dispose()


if __name__ == "__main__":
    main()
