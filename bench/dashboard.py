"""Benchmark the dashboard, the stats API and the public page on PostgreSQL with a million tickets.

    .venv/bin/python bench/dashboard.py [--tickets 1000000] [--events-per-ticket 10] [--requests 60]
                                        [--rollup-days 30] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                        [--keep]

bench/generate.py (the shared million-ticket generator) was not there when this was written, so the data
is made here, server side (INSERT … SELECT generate_series): the demo org tree and categories, N tickets
over the last 365 days (channels, categories, districts and lead units spread; 88 % closed, the rest open
with 10 % red and 10 % yellow cards), one lead assignment and one released answer per dispatched ticket,
N × events-per-ticket history events, 2 % of the tickets tagged to 3 public projects. Then the real
rollup (``hotline.dashboard.services.rollup_day``) counts the last ``--rollup-days`` days (timed), and a
threaded server on 127.0.0.1 answers ``--requests`` requests per endpoint after 5 warm-ups; the script
prints p50 and p95 in ms. The scratch database is dropped afterwards unless --keep. ``--reuse URL``
measures again on a kept database (migrated to the current schema, snapshots refreshed first).
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


def generate(n: int, per_ticket: int) -> None:
    from hotline.core.clock import utcnow
    from hotline.dashboard.models import LivelihoodProject
    from hotline.demo.seed import seed_demo
    from hotline.extensions import db
    from hotline.orgs.models import OrgUnit
    from hotline.tickets.models import Category

    seed_demo(ticket_count=0)
    db.session.commit()
    cats = [c.id for c in db.session.execute(sa.select(Category).where(Category.parent_id.isnot(None))).scalars()]
    districts = list(db.session.execute(sa.select(OrgUnit.id).where(OrgUnit.kind == "district")).scalars())
    leads = list(db.session.execute(sa.select(OrgUnit.id).where(OrgUnit.kind.in_(("department", "street"))))
                 .scalars())
    hotline = db.session.execute(sa.select(OrgUnit.id).where(OrgUnit.kind == "hotline_centre")).scalar_one()
    now = utcnow()
    p = dict(n=n, now=now, hotline=hotline, cats=cats, districts=districts, leads=leads,
             ncats=len(cats), nd=len(districts), nl=len(leads), span=365 * 86400,
             base=db.session.execute(sa.text("SELECT coalesce(max(id), 0) FROM ticket")).scalar())
    t0 = time.perf_counter()
    db.session.execute(sa.text("""
        INSERT INTO ticket (id, tracking_no, channel, appeal_type, urgency, category_id, title, body, address,
            district_id, citizen_phone, confidential, allow_publish, status, intake_unit_id, lead_unit_id,
            sign_deadline_at, answer_deadline_at, deadline_provisional, next_deadline_at, warning_level,
            escalation_level, dispatch_count, redo_count, satisfaction, created_at, updated_at, dispatched_at,
            answered_at, closed_at, version)
        SELECT g + :base, lpad((g + :base)::text, 14, '0'),
            (ARRAY['phone','phone','phone','web','wechat','api'])[1 + g % 6], 'complaint', 'normal',
            (CAST(:cats AS int[]))[1 + (g * 7) % :ncats], '小区物业乱收费', '物业费擅自上调',
            '东湖区人民路' || (g % 400) || '号小区', (CAST(:districts AS int[]))[1 + g % :nd],
            '139' || lpad((g % 100000000)::text, 8, '0'), false, g % 3 = 0,
            CASE WHEN closed THEN 'closed' WHEN g % 9 = 1 THEN 'dispatched' ELSE 'in_progress' END,
            :hotline, (CAST(:leads AS int[]))[1 + (g * 13) % :nl],
            ts + interval '1 day', ts + interval '10 days', false,
            CASE WHEN closed THEN NULL ELSE ts + interval '9 days' END,
            CASE WHEN closed THEN 'none' WHEN g % 10 = 2 THEN 'red' WHEN g % 10 = 3 THEN 'yellow' ELSE 'none' END,
            0, 1, 0, CASE WHEN closed THEN (ARRAY['satisfied','satisfied','basically','unsatisfied'])[1 + g % 4] END,
            ts, ts, ts, CASE WHEN closed THEN ts + interval '3 days' END, CASE WHEN closed THEN ts + interval '4 days' END, 1
        FROM (SELECT g, CAST(:now AS timestamp) - make_interval(secs => (g::bigint * 7919) % :span) AS ts,
                     (g % 100) < 88 AS closed FROM generate_series(1, :n) g) s"""), p)
    db.session.execute(sa.text("""
        INSERT INTO assignment (id, ticket_id, unit_id, role, status, dispatched_at, signed_at, answered_at,
                                sign_deadline_at, answer_deadline_at)
        SELECT id + 1000000000, id, lead_unit_id, 'lead', CASE WHEN status = 'closed' THEN 'answered' WHEN status = 'dispatched'
               THEN 'dispatched' ELSE 'signed' END, created_at,
               CASE WHEN status <> 'dispatched' THEN created_at + make_interval(mins => (id % 2000)::int) END,
               answered_at, sign_deadline_at, answer_deadline_at FROM ticket WHERE id > :base"""), p)
    db.session.execute(sa.text("""
        INSERT INTO reply (ticket_id, assignment_id, unit_id, body, state, submitted_at, reviewed_at, released_at)
        SELECT id, id + 1000000000, lead_unit_id, '经核查，已督促物业公司整改并退还多收费用。', 'approved',
               answered_at - make_interval(mins => (id % 6000)::int), answered_at, answered_at
        FROM ticket WHERE status = 'closed' AND id > :base"""), p)
    actions = ["register", "dispatch", "sign", "note", "note", "reply", "approve_reply", "rate_satisfied",
               "note", "opinion"]
    db.session.execute(sa.text("""
        INSERT INTO ticket_event (ticket_id, action, from_status, to_status, actor_kind, data, public, created_at)
        SELECT t, (CAST(:actions AS text[]))[1 + k], NULL, NULL, 'system',
               CASE WHEN k = 7 THEN '{"satisfaction": "satisfied"}'::json END, false,
               CAST(:now AS timestamp) - make_interval(secs => (t::bigint * 7919) % :span) + make_interval(hours => k * 6)
        FROM generate_series(0, :m - 1) g, LATERAL (SELECT :base + 1 + g / :k AS t, g % :k AS k) x"""),
        dict(p, actions=actions, m=n * per_ticket, k=per_ticket))
    for table in ("ticket", "assignment", "reply", "ticket_event"):
        db.session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"(SELECT max(id) FROM {table}))"))
    projects = []
    for name in ("老旧小区改造", "城市噪声治理", "根治欠薪"):
        project = LivelihoodProject(year=now.year, name=f"{name}（基准）", public=True)
        db.session.add(project)
        db.session.flush()
        projects.append(project.id)
    db.session.execute(sa.text("""
        INSERT INTO livelihood_project_ticket (ticket_id, project_id, tagged_at)
        SELECT id, (CAST(:projects AS int[]))[1 + id % 3], created_at FROM ticket WHERE id % 50 = 0"""),
        dict(projects=projects))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    print(f"generated {n:,} tickets and {n * per_ticket:,} events in {time.perf_counter() - t0:.0f} s")


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
    print(f"rollup of {days + 1} days: median {statistics.median(timings):.2f} s/day, max {max(timings):.2f} s; "
          f"hotspot refresh {time.perf_counter() - t0:.2f} s ({alerts} alerts)")
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
    conn.request("POST", "/api/v1/auth/token", body=json.dumps({"username": "supervisor", "password": "hotline-demo"}),
                 headers={"Content-Type": "application/json"})
    token = json.loads(conn.getresponse().read())["access_token"]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/login", body="username=supervisor&password=hotline-demo",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    bearer = {"Authorization": f"Bearer {token}"}
    endpoints = [("dashboard page  /dashboard/", "/dashboard/", {"Cookie": cookie}),
                 ("stats API       /api/v1/stats/overview", "/api/v1/stats/overview", bearer),
                 ("stats API       /api/v1/stats/units", "/api/v1/stats/units", bearer),
                 ("public page     /public/stats", "/public/stats", {})]
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
    parser.add_argument("--events-per-ticket", type=int, default=10)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--rollup-days", type=int, default=30)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", help="measure again on a database kept by an earlier --keep run (its URL)")
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
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False,
                         RATELIMIT_ENABLED=False, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")
        app.logger.setLevel("WARNING")
        import logging
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        with app.app_context():
            upgrade()  # on --reuse: brings a kept database to the current schema
            if args.reuse:
                refresh_snapshots()
            else:
                generate(args.tickets, args.events_per_ticket)
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
