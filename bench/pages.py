"""Staff and public pages, one request at a time, in process: where a page's time goes at a given size.

    .venv/bin/python bench/pages.py [--tickets 20000 | --database-url URL] [--rounds 40] [--keep] [--page desk]

Without ``--database-url`` it loads ``--tickets`` tickets into a scratch database (bench/generate.py) and
drops it afterwards. The app runs in the production config (Redis on 127.0.0.1:6379 db 15 for rate limits,
under a scratch prefix) through Flask's test client, so the figures are the app's own work (routing,
queries, rendering) without gunicorn or HTTP. For each page: median and p95 of ``--rounds`` requests after
5 warm-ups, the median time spent in SQL and the number of statements. Signed in as the demo's
``dispatcher`` (city-wide), ``supervisor``, ``operator`` and ``handler``; the ticket page and the caller history
cycle through 50 random tickets and their phones. The ticket list, the dashboard, the public statistics and the
dispatch desk are timed twice: as served (a process reuses the list's per-status counts,
the dashboard's and the statistics' body, and the desk's duplicate hints, for a few seconds) and "afresh" (built anew on each
request, as happens once per reuse period).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine_line, scratch_database  # noqa: E402

PASSWORD = "hotline-demo"


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def measure(url: str, rounds: int, only: list[str] | None = None) -> list[tuple]:
    import sqlalchemy as sa
    from sqlalchemy import event

    os.environ.update(
        SECRET_KEY=uuid.uuid4().hex,
        DATABASE_URL=url,
        REDIS_URL="redis://127.0.0.1:6379/15",
        HOTLINE_REDIS_PREFIX=f"bench-pages-{uuid.uuid4().hex[:8]}",
        HOTLINE_INSTANCE_DIR=tempfile.mkdtemp(prefix="hotline-pages-"),
    )
    from hotline import create_app
    from hotline.extensions import db

    app = create_app("production", SQLALCHEMY_DATABASE_URI=url)
    import gc  # as wsgi.py does after creating the app

    gc.collect()
    gc.freeze()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        pick_from = "ticket TABLESAMPLE SYSTEM (1)"  # a sort of 10 million rows would take a while
        sample = conn.execute(
            sa.text(f"SELECT tracking_no, citizen_phone FROM {pick_from} ORDER BY random() LIMIT 50")
        ).all()
        if len(sample) < 50:  # a small database: from all of it
            sample = conn.execute(
                sa.text("SELECT tracking_no, citizen_phone FROM ticket ORDER BY random() LIMIT 50")
            ).all()
        numbers, phones = [n for n, _ in sample], [p for _, p in sample]
        busiest = (
            conn.execute(  # the phone with the longest history (of a sample: no sort of every ticket)
                sa.text(f"SELECT citizen_phone FROM {pick_from} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
            ).scalar()
            or conn.execute(
                sa.text("SELECT citizen_phone FROM ticket GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
            ).scalar()
        )
    engine.dispose()

    def signed_in(username):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
        )
        if response.status_code not in (302, 303):
            raise SystemExit(f"cannot sign in as {username}: {response.status_code}")
        return client

    dispatcher, supervisor, anonymous = signed_in("dispatcher"), signed_in("supervisor"), app.test_client()
    operator, handler = signed_in("operator"), signed_in("handler")

    def afresh(request):
        """The page as rendered when what it reuses has expired (DASHBOARD_PAGE_SECONDS, PUBLIC_STATS_SECONDS,
        DESK_HINTS_SECONDS, TICKET_COUNTS_SECONDS)."""
        keys = ("DASHBOARD_PAGE_SECONDS", "PUBLIC_STATS_SECONDS", "DESK_HINTS_SECONDS", "TICKET_COUNTS_SECONDS")
        saved = {k: app.config[k] for k in keys}
        app.config.update(dict.fromkeys(saved, 0))
        try:
            return request()
        finally:
            app.config.update(saved)

    pick = random.Random(7)
    pages = [
        ("ticket list (50 rows)", lambda: dispatcher.get(f"/?page={pick.randint(1, 20)}")),
        ("ticket list, afresh", lambda: afresh(lambda: dispatcher.get(f"/?page={pick.randint(1, 20)}"))),
        ("ticket list, closed", lambda: dispatcher.get(f"/?status=closed&page={pick.randint(1, 20)}")),
        ("ticket page", lambda: dispatcher.get(f"/tickets/{pick.choice(numbers)}")),
        ("handler workspace", lambda: handler.get("/workspace")),
        ("handler list, afresh", lambda: afresh(lambda: handler.get(f"/?page={pick.randint(1, 5)}"))),
        ("callback list", lambda: operator.get("/?status=pending_callback")),
        ("review queue", lambda: operator.get("/console/review")),
        ("caller history", lambda: operator.get(f"/console/caller?phone={pick.choice(phones)}")),
        ("caller history, busiest", lambda: operator.get(f"/console/caller?phone={busiest}")),
        ("overdue board", lambda: supervisor.get("/dashboard/tickets?board=overdue")),
        ("supervision requests", lambda: supervisor.get("/supervision/requests")),
        ("dispatch desk", lambda: dispatcher.get("/dispatch")),
        ("dispatch desk, afresh", lambda: afresh(lambda: dispatcher.get("/dispatch"))),
        ("search 物业 收费", lambda: dispatcher.get("/search/?q=物业 收费")),
        ("dashboard", lambda: supervisor.get("/dashboard/")),
        ("dashboard, afresh", lambda: afresh(lambda: supervisor.get("/dashboard/"))),
        ("public statistics", lambda: anonymous.get("/public/stats")),
        ("public stats, afresh", lambda: afresh(lambda: anonymous.get("/public/stats"))),
        ("portal", lambda: anonymous.get("/portal")),
    ]
    sql = {"seconds": 0.0, "count": 0}
    with app.app_context():
        bound = db.engine

    @event.listens_for(bound, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany):
        context._bench_started = time.perf_counter()

    @event.listens_for(bound, "after_cursor_execute")
    def _stop(conn, cursor, statement, parameters, context, executemany):
        sql["seconds"] += time.perf_counter() - context._bench_started
        sql["count"] += 1

    results = []
    for name, request in pages:
        if only and not any(part in name for part in only):
            continue
        for _ in range(5):
            request()
        total, in_sql, statements = [], [], []
        for _ in range(rounds):
            sql.update(seconds=0.0, count=0)
            started = time.perf_counter()
            response = request()
            total.append((time.perf_counter() - started) * 1000)
            in_sql.append(sql["seconds"] * 1000)
            statements.append(sql["count"])
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
        results.append(
            (name, statistics.median(total), _p95(total), statistics.median(in_sql), statistics.median(statements))
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--page",
        action="append",
        metavar="TEXT",
        help="time only the pages whose name contains TEXT (repeatable), e.g. --page desk",
    )
    args = parser.parse_args()
    print(machine_line())

    def report(url):
        print(f"load average {os.getloadavg()[0]:.1f}; {args.rounds} requests a page")
        print(f"{'page':24} {'median ms':>10} {'p95 ms':>8} {'SQL ms':>7} {'statements':>10}")
        for name, median, p95, in_sql, statements in measure(url, args.rounds, args.page):
            print(f"{name:24} {median:10.1f} {p95:8.1f} {in_sql:7.1f} {statements:10.0f}")

    if args.database_url:
        report(args.database_url)
        return 0
    from bench.generate import generate

    with scratch_database("hotline_bench_pages", keep=args.keep) as url:
        generate(url, args.tickets, progress=False)
        report(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
