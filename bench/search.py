"""Search and duplicate-lookup latency on a large PostgreSQL database.

    .venv/bin/python bench/search.py --tickets 1000000 [--database-url URL] [--keep] [--rounds 20]

Without ``--database-url`` it creates a scratch database, loads ``--tickets`` tickets with
``bench/generate.py`` and drops it afterwards; with a URL it uses the tickets already there. Either way it
rebuilds the search index (``hotline.search.bulk.rebuild``, what ``flask search reindex`` runs), then times
two-word Chinese queries as the dispatcher's search page runs them (scope, ranking, first page of 20 and the
total) and the duplicate lookup that intake runs for a new appeal. Prints median and p95 in ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import scratch_database  # noqa: E402

QUERIES = [
    "物业 收费",
    "噪音 扰民",
    "拖欠 工资",
    "低保 申请",
    "电梯 故障",
    "油烟 噪音",
    "施工 夜间",
    "垃圾 清理",
    "停车 收费",
    "医疗 报销",
    "公交 线路",
    "退费 预付卡",
]


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run(url: str, rounds: int, reindex: bool) -> dict:
    from sqlalchemy import func, select

    from hotline import create_app
    from hotline.accounts.models import User
    from hotline.extensions import db
    from hotline.search.bulk import rebuild
    from hotline.search.services import find_duplicates, search_tickets
    from hotline.tickets.models import Ticket
    from hotline.tickets.workflow import OPEN_STATUSES

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url)
    figures = {}
    with app.app_context():
        figures["tickets"] = db.session.execute(select(func.count(Ticket.id))).scalar_one()
        if reindex:
            started = time.perf_counter()
            figures["indexed"] = rebuild()
            db.session.commit()
            figures["reindex_s"] = round(time.perf_counter() - started, 1)
        user = db.session.execute(select(User).filter_by(username="dispatcher")).scalar_one()
        timings, hits = {q: [] for q in QUERIES}, {}
        for q in QUERIES:  # one warm-up each (plans, cache), then timed rounds
            hits[q] = search_tickets(q, user).total
        for _ in range(rounds):
            for q in QUERIES:
                started = time.perf_counter()
                search_tickets(q, user)
                timings[q].append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        all_ms = [t for ts in timings.values() for t in ts]
        figures["search_median_ms"], figures["search_p95_ms"] = (
            round(statistics.median(all_ms), 1),
            round(_p(all_ms, 0.95), 1),
        )
        figures["per_query"] = {
            q: (hits[q], round(statistics.median(ts), 1), round(_p(ts, 0.95), 1)) for q, ts in timings.items()
        }
        sample = (
            db.session.execute(
                select(Ticket)
                .where(Ticket.status.in_([s.value for s in OPEN_STATUSES]))
                .order_by(Ticket.id.desc())
                .limit(2000)
            )
            .scalars()
            .all()
        )
        rng = random.Random(1)
        dup_ms, found = [], 0
        for t in rng.sample(sample, min(len(sample), rounds * 10)):
            started = time.perf_counter()
            found += bool(
                find_duplicates(
                    phone=t.citizen_phone,
                    category_id=t.category_id,
                    district_id=t.district_id,
                    title=t.title,
                    body=t.body,
                    address=t.address,
                    exclude_id=t.id,
                )
            )
            dup_ms.append((time.perf_counter() - started) * 1000)
        figures["duplicates_median_ms"], figures["duplicates_p95_ms"] = (
            round(statistics.median(dup_ms), 1),
            round(_p(dup_ms, 0.95), 1),
        )
        figures["duplicates_lookups"], figures["duplicates_with_hits"] = len(dup_ms), found
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--no-reindex", action="store_true")
    args = parser.parse_args(argv)

    def go(url: str, load: bool) -> int:
        if load:
            from bench.generate import generate

            started = time.perf_counter()
            generate(url, args.tickets)
            print(f"generated {args.tickets} tickets in {time.perf_counter() - started:.0f} s")
        figures = run(url, args.rounds, reindex=not args.no_reindex)
        per_query = figures.pop("per_query")
        for key, value in figures.items():
            print(f"{key}: {value}")
        print("query: hits, median ms, p95 ms")
        for q, (n, median, p95) in per_query.items():
            print(f"  {q}: {n}, {median}, {p95}")
        return 0

    if args.database_url:
        return go(args.database_url, load=False)
    with scratch_database("hotline_bench_search", keep=args.keep) as url:
        return go(url, load=True)


if __name__ == "__main__":
    sys.exit(main())
