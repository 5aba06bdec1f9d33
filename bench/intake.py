"""Intake throughput: POST /api/v1/tickets under gunicorn on PostgreSQL vs. a thin reference endpoint.

Both run in the same invocation, on the same scratch database, under the same gunicorn settings and
the same wrk load (connections, threads, duration); loopback only. Prints req/s, p50, p99, the CPU time per
request of the server's gunicorn workers and of the PostgreSQL backends (from /proc, during the measured run)
and the ratio app/reference (the target is at least 0.75). A second reference row, ``ref-ticket``, is the same
thin endpoint writing a row of the ticket's shape into a copy of the ticket table with all its indexes
(``bench/reference_app.py``): the app's ratio to it shows how much of the gap is storing a ticket at all.

    .venv/bin/python bench/intake.py --duration 10 --workers 2 --connections 16

Needs: a PostgreSQL server (BENCH_POSTGRES_URL, default the local one), Redis for the production
config (REDIS_URL, default redis://127.0.0.1:6379/15) and ``wrk`` (Debian package ``wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_seconds, create_database, drop_database, postgres_backends, venv_tool  # noqa: E402
from bench.memory import children  # noqa: E402

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
APPEAL = {
    "appeal_type": "complaint",
    "title": "夜间施工噪音扰民",
    "body": "人民路工地每晚十一点后仍在施工，噪音很大。",
    "citizen_phone": "13912345678",
    "citizen_name": "李娜",
    "address": "东湖区人民路2号",
}

LUA = """wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
{headers}
"""


def prepare(url: str) -> dict:
    """Migrate, seed reference data, a small org tree, one category and a partner API key."""
    from flask_migrate import upgrade

    from bench.reference_app import metadata
    from hotline import create_app
    from hotline.api.services import create_api_key
    from hotline.demo.seed import seed_reference_data
    from hotline.extensions import db
    from hotline.orgs.models import UnitKind
    from hotline.orgs.services import create_unit
    from hotline.tickets.models import Category

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        seed_reference_data()
        city = create_unit("city", "海川市", UnitKind.CITY)
        create_unit("hotline", "12345热线中心", UnitKind.HOTLINE_CENTRE, city)
        create_unit("d1", "东湖区", UnitKind.DISTRICT, city)
        parent = Category(code="05", name="城乡建设与管理")
        db.session.add_all([parent, Category(code="0501", name="物业管理", parent=parent)])
        _, raw = create_api_key("bench")
        db.session.commit()
        metadata.create_all(db.engine)
        with db.engine.begin() as conn:  # the ticket's definition and indexes, without its foreign keys
            conn.exec_driver_sql(
                "CREATE TABLE bench_reference_full (LIKE ticket INCLUDING DEFAULTS "
                "INCLUDING CONSTRAINTS INCLUDING INDEXES)"
            )
        db.engine.dispose()
    return {"X-API-Key": raw}


def start(target: str, port: int, workers: int, env: dict, log: Path) -> subprocess.Popen:
    cmd = [
        venv_tool("gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "/dev/null",
        "--error-logfile",
        str(log),
        target,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    return proc


def wait_ready(port: int, path: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def check_once(url: str, headers: dict) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(APPEAL).encode(), method="POST", headers={"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def run_wrk(url: str, headers: dict, args, workdir: Path, duration: int) -> dict:
    script = workdir / f"post_{abs(hash(url))}.lua"
    header_lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    script.write_text(LUA.format(body=json.dumps(APPEAL, ensure_ascii=False), headers=header_lines))
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(args.threads),
            "-c",
            str(args.connections),
            "-d",
            f"{duration}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(out)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> dict:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "requests": total,
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per server")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--app-port", type=int, default=18461)
    parser.add_argument("--ref-port", type=int, default=18462)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2

    name, url = create_database()
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    procs = []
    try:
        headers = prepare(url)
        env = {
            **os.environ,
            "HOTLINE_CONFIG": "production",
            "DATABASE_URL": url,
            "REDIS_URL": REDIS_URL,
            "SECRET_KEY": uuid.uuid4().hex,
            "HOTLINE_INSTANCE_DIR": str(workdir / "instance"),
            "HOTLINE_REDIS_PREFIX": f"bench-{name}",
            "BENCH_DATABASE_URL": url,
            "PYTHONPATH": str(ROOT),
        }
        app = start("wsgi:app", args.app_port, args.workers, env, workdir / "app.log")
        ref = start("bench.reference_app:app", args.ref_port, args.workers, env, workdir / "ref.log")
        procs = [app, ref]
        wait_ready(args.app_port, "/open311/v2/discovery.json", app)
        wait_ready(args.ref_port, "/tickets", ref)
        targets = {
            "reference": (f"http://127.0.0.1:{args.ref_port}/tickets", {}),
            "ref-ticket": (f"http://127.0.0.1:{args.ref_port}/tickets/full", {}),
            "app": (f"http://127.0.0.1:{args.app_port}/api/v1/tickets", headers),
        }
        for label, (target, hdrs) in targets.items():
            status = check_once(target, hdrs)
            assert status == 201, f"{label} answered {status}"
        results = {}
        servers = {"reference": ref, "ref-ticket": ref, "app": app}
        for label, (target, hdrs) in targets.items():
            if args.warmup:
                run_wrk(target, hdrs, args, workdir, args.warmup)
            # Where the CPU goes: this server's workers, and the database's backends (the other server idles).
            workers, backends = children(servers[label].pid), postgres_backends(name)
            before = cpu_seconds(workers), cpu_seconds(backends)
            results[label] = run_wrk(target, hdrs, args, workdir, args.duration)
            done = max(results[label]["requests"], 1)
            results[label]["cpu_workers"] = (cpu_seconds(workers) - before[0]) / done * 1000
            results[label]["cpu_postgres"] = (cpu_seconds(backends) - before[1]) / done * 1000
        print(
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, gunicorn -w {args.workers} (sync), "
            f"PostgreSQL, loopback"
        )
        print(
            f"{'':10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'non-2xx':>8} "
            f"{'CPU ms/request: workers':>24} {'PostgreSQL':>10}"
        )
        for label, r in results.items():
            print(
                f"{label:10} {r['rps']:9.1f} {r['p50']:8.2f} {r['p99']:8.2f} {r['requests']:9d} {r['non2xx']:8d} "
                f"{r['cpu_workers']:24.2f} {r['cpu_postgres']:10.2f}"
                + (f"  {r['socket_errors']}" if r["socket_errors"] else "")
            )
        ratio = results["app"]["rps"] / results["reference"]["rps"]
        print(
            f"ratio app/ref-ticket: {results['app']['rps'] / results['ref-ticket']['rps']:.2f} (for comparison: "
            f"the reference writing a row of the ticket's shape into a table with the ticket's indexes)"
        )
        print(f"ratio app/reference: {ratio:.2f} (target >= 0.75) {'OK' if ratio >= 0.75 else 'BELOW TARGET'}")
        return 0 if ratio >= 0.75 and not any(r["non2xx"] for r in results.values()) else 1
    finally:
        for proc in procs:
            stop(proc)
        drop_database(name)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
