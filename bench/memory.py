"""Resident memory of a web worker after N requests and of a Celery worker after an N-ticket sweep.

    .venv/bin/python bench/memory.py [--tickets 40000] [--requests 10000] [--sweep 10000] [--port 18471]

On a scratch PostgreSQL database loaded by ``bench/generate.py`` (the demo city plus ``--tickets``):

- web: ``gunicorn -w 1 wsgi:app`` (production config). A staff user (the dispatcher) logs in; then
  ``--requests`` requests cycle through the ticket list (pages 1–20), ticket pages (random tracking
  numbers) and the login page (anonymous: a signed-in user is only redirected). RSS of the gunicorn
  worker process after boot, after 50 warm-up requests and at the end.
- worker: ``celery -A workers.app worker --pool=solo`` on Redis under a scratch ``HOTLINE_REDIS_PREFIX``.
  ``--sweep`` open tickets get their next ladder step due (the sign/answer clock's yellow card, or the
  callback window), the ``hotline.sla.sweep`` task is sent through the broker, and the RSS of the worker
  process is read before the task and once every due ticket was swept.

RSS comes from /proc/<pid>/status (VmRSS). Loopback only; everything is removed afterwards.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Progress, machine_line, psycopg_conninfo, rss_mb, scratch_database, venv_tool  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
STAFF_USER, STAFF_PASSWORD = "dispatcher", "hotline-demo"


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise RuntimeError(f"timed out waiting for {what}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def app_env(url: str, workdir: Path, prefix: str) -> dict:
    return {
        **os.environ,
        "HOTLINE_CONFIG": "production",
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": uuid.uuid4().hex,
        "HOTLINE_INSTANCE_DIR": str(workdir / "instance"),
        "HOTLINE_REDIS_PREFIX": prefix,
        "PYTHONPATH": str(ROOT),
    }


# --- web -----------------------------------------------------------------------------------------------------


class Client:
    """One request per connection (gunicorn's sync worker closes it anyway); cookies kept by hand, because
    production marks them Secure and this talks plain HTTP on loopback."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, body: dict | None = None, anonymous: bool = False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {}
        if self.cookies and not anonymous:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        if not anonymous:
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response.status, text

    def login(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        form = {"username": username, "password": password}
        if token:
            form["csrf_token"] = token.group(1)
        status, _ = self.request("POST", "/login", form)
        if status != 302:
            raise RuntimeError(f"login as {username} answered {status}")


def measure_web(url: str, workdir: Path, requests: int, port: int, tracking_numbers: list[str], progress: bool) -> dict:
    env = app_env(url, workdir, f"bench-mem-{uuid.uuid4().hex[:8]}")
    log = workdir / "gunicorn.log"
    proc = subprocess.Popen(
        [
            venv_tool("gunicorn"),
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "--error-logfile",
            str(log),
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        worker = wait_for(lambda: (children(proc.pid) or [None])[0], 30, "the gunicorn worker", proc)
        client = Client(port)

        def answers():
            try:
                return client.request("GET", "/login", anonymous=True)[0] == 200
            except OSError:
                return False

        wait_for(answers, 60, "gunicorn to answer", proc)
        result = {"boot_mb": rss_mb(worker)}
        client.login(STAFF_USER, STAFF_PASSWORD)
        rng = random.Random(7)
        bad = 0

        def one(i: int) -> None:
            nonlocal bad
            kind = i % 10
            if kind < 4:
                status, _ = client.request("GET", f"/?page={rng.randint(1, 20)}")
            elif kind < 9:
                status, _ = client.request("GET", f"/tickets/{rng.choice(tracking_numbers)}")
            else:
                status, _ = client.request("GET", "/login", anonymous=True)
            bad += status != 200

        warm = min(50, requests)
        for i in range(warm):
            one(i)
        result["warm_mb"] = rss_mb(worker)
        bar = Progress(requests - warm, "web requests", enabled=progress, unit="requests")
        started = time.perf_counter()
        for i in range(warm, requests):
            one(i)
            bar.update(1)
        bar.close()
        elapsed = time.perf_counter() - started
        result.update(
            after_mb=rss_mb(worker),
            requests=requests,
            non200=bad,
            rps=round((requests - warm) / elapsed, 1) if elapsed else 0.0,
        )
        if children(proc.pid) != [worker]:
            raise RuntimeError("the gunicorn worker was replaced during the run")
        return result
    finally:
        stop(proc)


# --- Celery worker -------------------------------------------------------------------------------------------


def make_due(conninfo: str, count: int) -> int:
    """Bring the next ladder step of ``count`` open tickets to an hour ago (their clocks restart at stage 0)."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                """
            SELECT c.ticket_id FROM sla_clock c JOIN ticket t ON t.id = c.ticket_id
            WHERE c.kind IN ('sign', 'answer', 'callback') AND t.next_deadline_at IS NOT NULL
            ORDER BY c.ticket_id LIMIT %s""",
                [count],
            ).fetchall()
        ]
        due = "now() at time zone 'utc' - interval '1 hour'"
        conn.execute(
            f"""UPDATE sla_clock SET stage = 0,
                             warn_at = CASE WHEN kind = 'callback' THEN NULL ELSE {due} END,
                             deadline_at = CASE WHEN kind = 'callback' THEN {due} ELSE deadline_at END
                         WHERE ticket_id = ANY(%s)""",
            [ids],
        )
        conn.execute(f"UPDATE ticket SET next_deadline_at = {due}, warning_level = 'none' WHERE id = ANY(%s)", [ids])
    return len(ids)


def due_count(conninfo: str) -> int:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "SELECT count(*) FROM ticket WHERE next_deadline_at <= now() at time zone 'utc'"
        ).fetchone()[0]


def sweep_running(conninfo: str) -> bool:
    """True while a sweep holds its advisory lock (hotline.sla.ladder)."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted)"
        ).fetchone()[0]


def measure_worker(url: str, workdir: Path, sweep: int) -> dict:
    import redis as redis_lib
    from celery import Celery

    from config import celery_settings

    conninfo = psycopg_conninfo(url)
    due = make_due(conninfo, sweep)
    prefix = f"bench-mem-{uuid.uuid4().hex[:8]}:"
    env = {**app_env(url, workdir, prefix), "CELERY_BROKER_URL": REDIS_URL, "CELERY_RESULT_BACKEND": REDIS_URL}
    log = open(workdir / "celery.log", "w")
    proc = subprocess.Popen(
        [
            venv_tool("celery"),
            "-A",
            "workers.app",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = Celery("bench-memory")
    client.conf.update(celery_settings(REDIS_URL, REDIS_URL, prefix))
    try:
        wait_for(lambda: "ready." in (workdir / "celery.log").read_text(), 60, "the Celery worker", proc)
        before = rss_mb(proc.pid)
        started = time.perf_counter()
        client.send_task("hotline.sla.sweep")
        wait_for(lambda: due_count(conninfo) == 0, 1800, "the sweep to take every due step", proc, step=0.5)
        wait_for(lambda: not sweep_running(conninfo), 120, "the sweep to finish", proc, step=0.2)
        elapsed = time.perf_counter() - started
        return {"due": due, "before_mb": before, "after_mb": rss_mb(proc.pid), "sweep_s": round(elapsed, 1)}
    finally:
        stop(proc)
        log.close()
        client.close()
        r = redis_lib.Redis.from_url(REDIS_URL)
        keys = list(r.scan_iter(match=f"{prefix}*"))
        if keys:
            r.delete(*keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=40000, help="tickets generated first")
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--sweep", type=int, default=10000, help="tickets made due for the worker's sweep")
    parser.add_argument("--port", type=int, default=18471)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    from bench.generate import generate

    workdir = Path(tempfile.mkdtemp(prefix="hotline-memory-"))
    with scratch_database("hotline_mem") as url:
        generate(url, args.tickets, progress=not args.quiet)
        import psycopg

        with psycopg.connect(psycopg_conninfo(url)) as conn:
            numbers = [r[0] for r in conn.execute("SELECT tracking_no FROM ticket ORDER BY random() LIMIT 2000")]
        web = measure_web(url, workdir, args.requests, args.port, numbers, not args.quiet)
        worker = measure_worker(url, workdir, args.sweep)
    print(machine_line())
    print(f"{args.tickets:,} generated tickets; RSS from /proc/<pid>/status")
    print(
        f"web worker (gunicorn -w 1 sync, production config): boot {web['boot_mb']:.1f} MB, "
        f"after 50 requests {web['warm_mb']:.1f} MB, after {web['requests']:,} requests {web['after_mb']:.1f} MB "
        f"(+{web['after_mb'] - web['warm_mb']:.1f} MB since warm-up; {web['rps']} req/s, "
        f"{web['non200']} non-200)"
    )
    print(
        f"celery worker (--pool=solo): before {worker['before_mb']:.1f} MB, after a {worker['due']:,}-ticket "
        f"sweep {worker['after_mb']:.1f} MB (+{worker['after_mb'] - worker['before_mb']:.1f} MB; "
        f"sweep {worker['sweep_s']} s)"
    )
    return 1 if web["non200"] else 0


if __name__ == "__main__":
    sys.exit(main())
