"""Benchmark the SLA sweep on PostgreSQL: N open tickets with none due, then with 1 % due.

    .venv/bin/python bench/sweep.py [--sizes 10000,100000,1000000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each size it creates a scratch database, migrates it, bulk-loads N in-progress tickets (server-side
INSERT … SELECT generate_series, with their ladder clocks) and measures:
- a sweep with none due (median of 20 runs, ms);
- a sweep with 1 % of the tickets due for their yellow card (median of 3 runs, ms, steps/s; each step
  writes the ticket, its clock, one event and two in-app notifications);
- the plan of the none-due probe (it must read the partial index ix_ticket_next_deadline_open).
The machine's load average is printed at the start and after each size: on a busy machine the figures
are lower.
The scratch database is dropped afterwards unless --keep.

``--database-url URL`` (repeatable) instead measures the none-due sweep on databases made by
``bench/generate.py`` (a realistic history: open work is weeks deep, the rest closed), read only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load(n: int, due_fraction: float, now: datetime) -> None:
    """N in-progress tickets at one district; the first ``due_fraction`` have their yellow card due."""
    from hotline.accounts.models import Role
    from hotline.accounts.services import create_user
    from hotline.extensions import db
    from hotline.orgs.models import UnitKind
    from hotline.orgs.services import create_unit

    city = create_unit("city", "海川市", UnitKind.CITY)
    hotline = create_unit("hotline", "12345热线中心", UnitKind.HOTLINE_CENTRE, city)
    district = create_unit("d1", "东湖区", UnitKind.DISTRICT, city)
    create_user("handler", "kite-orchard-lantern-42", "handler", org_unit=district, roles=[(Role.HANDLER, district)])
    create_user(
        "supervisor", "kite-orchard-lantern-42", "supervisor", org_unit=hotline, roles=[(Role.SUPERVISOR, city)]
    )
    db.session.commit()
    due = int(n * due_fraction)
    future, past = now + timedelta(days=30), now - timedelta(hours=1)
    params = dict(
        n=n,
        due=due,
        now=now,
        future=future,
        past=past,
        hotline=hotline.id,
        district=district.id,
        deadline=now + timedelta(days=3),
        escalate=now + timedelta(days=10),
    )
    db.session.execute(
        sa.text("""
        INSERT INTO ticket (id, tracking_no, channel, appeal_type, urgency, title, body, citizen_phone, confidential,
            allow_publish, status, intake_unit_id, lead_unit_id, sign_deadline_at, answer_deadline_at,
            deadline_provisional, next_deadline_at, warning_level, escalation_level, dispatch_count, redo_count,
            created_at, updated_at, dispatched_at, version)
        SELECT g, '2026' || lpad(g::text, 10, '0'), 'phone', 'complaint', 'normal', '小区物业乱收费', '物业费擅自上调',
            '13800138000', false, false, 'in_progress', :hotline, :district, :now, :deadline, false,
            CASE WHEN g <= :due THEN CAST(:past AS timestamp) ELSE CAST(:future AS timestamp) END,
            'none', 0, 1, 0, :now, :now, :now, 1
        FROM generate_series(1, :n) g"""),
        params,
    )
    db.session.execute(
        sa.text("""
        INSERT INTO sla_clock (ticket_id, kind, deadline_at, warn_at, escalate_at, stage)
        SELECT g, 'answer', :deadline,
            CASE WHEN g <= :due THEN CAST(:past AS timestamp) ELSE CAST(:future AS timestamp) END, :escalate, 0
        FROM generate_series(1, :n) g"""),
        params,
    )
    db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('ticket', 'id'), :n)"), params)
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE ticket"))
        conn.execute(sa.text("VACUUM ANALYZE sla_clock"))


DUE_RUNS = 3  # the 1 % due sweep is run this many times (state reset in between); the median is printed


def reset_due(n: int, now: datetime) -> None:
    """Put the 1 % back to "yellow card due": what the sweep wrote is removed, the rows as loaded."""
    from hotline.extensions import db

    due = n // 100
    db.session.execute(sa.text("DELETE FROM notification"))
    db.session.execute(sa.text("DELETE FROM ticket_event"))
    db.session.execute(
        sa.text("UPDATE ticket SET warning_level = 'none', next_deadline_at = :past, version = 1 WHERE id <= :due"),
        {"past": now - timedelta(hours=1), "due": due},
    )
    db.session.execute(sa.text("UPDATE sla_clock SET stage = 0 WHERE ticket_id <= :due"), {"due": due})
    db.session.commit()


def probe_plan(now: datetime) -> str:
    """The plan of the none-due probe (hotline.sla.ladder.due_query): its scan line."""
    from sqlalchemy.dialects import postgresql

    from hotline.extensions import db
    from hotline.sla.ladder import due_query

    sql = str(due_query(now).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    plan = list(db.session.execute(sa.text("EXPLAIN " + sql)).scalars())
    db.session.rollback()
    return next((line.strip().split("  (")[0].lstrip("-> ") for line in plan if "Scan" in line), plan[0])


def measure(admin_url: str, n: int, keep: bool) -> dict:
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.demo.seed import seed_reference_data
    from hotline.extensions import db
    from hotline.sla.ladder import run_sweep

    name = f"hotline_bench_{n}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    result = {"open": n}
    try:
        with app.app_context():
            upgrade()
            seed_reference_data()
            db.session.commit()
            now = datetime(2026, 11, 23, 2, 0)
            started = time.perf_counter()
            load(n, 0.01, now)
            result["load_s"] = round(time.perf_counter() - started, 1)
            # none due: sweep "as of" an hour and a half before the due tickets' time
            quiet = now - timedelta(hours=2)
            run_sweep(quiet)  # warm the connection and caches
            times = []
            for _ in range(20):
                t0 = time.perf_counter()
                counts = run_sweep(quiet)
                times.append((time.perf_counter() - t0) * 1000)
                assert counts.get("tickets", 0) == 0
            result["none_due_ms"] = round(statistics.median(times), 2)
            result["probe_plan"] = probe_plan(quiet)
            runs = []
            for attempt in range(DUE_RUNS):
                if attempt:
                    reset_due(n, now)
                t0 = time.perf_counter()
                counts = run_sweep(now)
                elapsed = time.perf_counter() - t0
                steps = counts["yellow"]
                assert steps == n // 100, counts
                assert run_sweep(now).get("tickets", 0) == 0  # idempotent: nothing left
                runs.append(elapsed)
            elapsed = statistics.median(runs)
            result.update(
                due=steps,
                due_ms=round(elapsed * 1000),
                steps_per_s=round(steps / elapsed),
                steps_per_s_runs=[round(steps / r) for r in runs],
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return result


def measure_existing(url: str) -> dict:
    """On a database from ``bench/generate.py`` (read only): the none-due sweep, as of just before the
    earliest pending deadline, over every open ticket of a realistic history."""
    from hotline import create_app
    from hotline.extensions import db
    from hotline.sla.ladder import run_sweep

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        tickets, pending, first = db.session.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM ticket), count(*), min(next_deadline_at) FROM ticket "
                "WHERE next_deadline_at IS NOT NULL"
            )
        ).one()
        quiet = first - timedelta(minutes=1)
        run_sweep(quiet)
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            counts = run_sweep(quiet)
            times.append((time.perf_counter() - t0) * 1000)
            assert counts.get("tickets", 0) == 0, counts
        plan = probe_plan(quiet)
        db.session.remove()
        db.engine.dispose()
    return {"tickets": tickets, "pending": pending, "none_due_ms": round(statistics.median(times), 2), "plan": plan}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--database-url", action="append", help="a bench/generate.py database (repeatable): none due only"
    )
    args = parser.parse_args()
    import os

    if args.database_url:
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
        print(f"{'tickets':>10} {'pending deadlines':>18} {'none due ms (median of 20)':>27}  none-due probe")
        for url in args.database_url:
            r = measure_existing(url)
            print(f"{r['tickets']:>10} {r['pending']:>18} {r['none_due_ms']:>27}  {r['plan']}", flush=True)
        return

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    print(
        f"{'open':>9} {'load s':>7} {'none due ms':>12} {'due':>7} {'1% due ms':>10} {'steps/s':>8}  "
        f"{'loadavg':>7}  runs (steps/s)  none-due probe",
        flush=True,
    )
    for n in (int(s) for s in args.sizes.split(",")):
        r = measure(args.pg, n, args.keep)
        print(
            f"{r['open']:>9} {r['load_s']:>7} {r['none_due_ms']:>12} {r['due']:>7} {r['due_ms']:>10} "
            f"{r['steps_per_s']:>8}  {os.getloadavg()[0]:>7.1f}  {r['steps_per_s_runs']}  {r['probe_plan']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
