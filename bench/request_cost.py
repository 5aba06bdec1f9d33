"""Where an intake's CPU goes, in process: the references, the app's bare request pipeline and an app intake.

    .venv/bin/python bench/request_cost.py [--rounds 7] [--block 300]

One scratch PostgreSQL database prepared as ``bench/intake.py`` does; each case is POSTed ``--block`` times
through Flask's test client (no HTTP, no gunicorn), the cases alternating, ``--rounds`` blocks each; printed is
the median CPU time per request of this process (the database's own CPU is not in it):

    reference   bench/reference_app.py, POST /tickets: one Core INSERT of six columns
    ref-ticket  the same, POST /tickets/full: a ticket-shaped row into a copy of the ticket table and its indexes
    app no-op   the production app with a POST view that parses the JSON and answers 201: its hooks, session,
                rate-limit check and headers, nothing else
    app intake  the production app, POST /api/v1/tickets with a partner key (as bench/intake.py)

Needs PostgreSQL (BENCH_POSTGRES_URL) and Redis (REDIS_URL, default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import create_database, drop_database, machine_line  # noqa: E402
from bench.intake import APPEAL, REDIS_URL, prepare  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--block", type=int, default=300)
    args = parser.parse_args()
    print(machine_line())
    name, url = create_database()
    try:
        # The app's configuration is read at import: set the environment first.
        os.environ.update(
            {
                "HOTLINE_CONFIG": "production",
                "DATABASE_URL": url,
                "REDIS_URL": REDIS_URL,
                "SECRET_KEY": uuid.uuid4().hex,
                "HOTLINE_REDIS_PREFIX": f"bench-{name}",
                "HOTLINE_INSTANCE_DIR": str(Path(tempfile.mkdtemp(prefix="hotline-cost-")) / "instance"),
            }
        )
        headers = prepare(url)
        from flask import jsonify, request

        from bench.reference_app import create_app as create_reference
        from hotline import create_app
        from hotline.extensions import csrf

        app = create_app("production")

        def noop():
            request.get_json()
            return jsonify({"id": 1}), 201

        app.add_url_rule("/bench/noop", "bench_noop", csrf.exempt(noop), methods=["POST"])
        reference = create_reference(url).test_client()
        staff = app.test_client()
        body = json.dumps(APPEAL)
        plain = {"Content-Type": "application/json"}
        cases = {
            "reference": (reference, "/tickets", plain),
            "ref-ticket": (reference, "/tickets/full", plain),
            "app no-op": (staff, "/bench/noop", plain),
            "app intake": (staff, "/api/v1/tickets", {**plain, **headers}),
        }
        for label, (client, path, hdrs) in cases.items():
            for _ in range(min(args.block, 50)):  # warm: connections, compiled statements, caches
                answer = client.post(path, data=body, headers=hdrs)
                if answer.status_code != 201:
                    raise SystemExit(f"{label}: HTTP {answer.status_code} {answer.get_data(as_text=True)[:300]}")
        cpu: dict[str, list[float]] = {label: [] for label in cases}
        for _ in range(args.rounds):
            for label, (client, path, hdrs) in cases.items():
                started = time.process_time()
                for _ in range(args.block):
                    client.post(path, data=body, headers=hdrs)
                cpu[label].append((time.process_time() - started) / args.block * 1000)
        print(f"{'':12} {'CPU ms/request':>15}   (median of {args.rounds} blocks of {args.block}, in process)")
        for label, values in cpu.items():
            print(f"{label:12} {statistics.median(values):15.3f}")
        return 0
    finally:
        drop_database(name)


if __name__ == "__main__":
    sys.exit(main())
