"""Mixed load (issue 9): intake, staff pages and the dashboard under gunicorn on PostgreSQL, with wrk + Lua.

    .venv/bin/python bench/load.py [--duration 600] [--warmup 5] [--tickets 20000] [--workers 3] [--connections 32]
                                   [--threads 2] [--port 18491]

A scratch PostgreSQL database gets the demo city and ``--tickets`` tickets (bench/generate.py); gunicorn
serves ``wsgi:app`` in the production config (Redis for rate limits, db 15 under a scratch prefix). Three
signed-in users (operator bearer token for the API, dispatcher and supervisor session cookies) drive one wrk
Lua scenario per request, chosen by weight:

    intake  POST /api/v1/tickets (operator token)          20 %
    staff   GET /?page=N, GET /tickets/<no>, GET /dispatch  55 %
    board   GET /dashboard/                                 15 %
    public  GET /portal, GET /public/stats                  10 %

wrk has no rate control: it runs closed-loop with ``--connections`` and the figure is the throughput it
reached, after ``--warmup`` seconds of the same load that are not counted (each worker's first pages compile
templates and fill caches). Printed: requests/s, p50/p99 latency, non-2xx/3xx answers and socket errors, and
the RSS of each gunicorn worker sampled every 10 s (first, max, last) to show whether memory stays flat, and
the CPU time per request of the workers and of the database's PostgreSQL backends over the measured run (/proc):
with the throughput, it tells a machine too slow for a target from code that got slower.
Loopback only; the database and Redis keys are removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, cpu_seconds, machine_line, postgres_backends, rss_mb, scratch_database, venv_tool  # noqa: E402
from bench.memory import Client, app_env, children, stop, wait_for  # noqa: E402

LUA = r"""
local tokens = {}
local cookies = {dispatcher = "%(dispatcher)s", supervisor = "%(supervisor)s"}
local bearer = "%(bearer)s"
local numbers = {%(numbers)s}
local bad = 0
local counter = 0
local body = '{"appeal_type":"complaint","title":"load test appeal","body":"noise at night from a building site",' ..
             '"citizen_phone":"13912345678","outcome":"register"}'

function setup(thread) thread:set("id", counter); counter = counter + 1 end

request = function()
  local r = math.random(100)
  if r <= 20 then
    return wrk.format("POST", "/api/v1/tickets", {["Authorization"] = "Bearer " .. bearer,
                      ["Content-Type"] = "application/json"}, body)
  elseif r <= 40 then
    return wrk.format("GET", "/?page=" .. math.random(20), {["Cookie"] = cookies.dispatcher})
  elseif r <= 70 then
    return wrk.format("GET", "/tickets/" .. numbers[math.random(#numbers)], {["Cookie"] = cookies.dispatcher})
  elseif r <= 75 then
    return wrk.format("GET", "/dispatch", {["Cookie"] = cookies.dispatcher})
  elseif r <= 90 then
    return wrk.format("GET", "/dashboard/", {["Cookie"] = cookies.supervisor})
  elseif r <= 95 then
    return wrk.format("GET", "/portal")
  else
    return wrk.format("GET", "/public/stats")
  end
end

response = function(status, headers, body)
  if status >= 400 then bad = bad + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("JSON {\"requests\": %%d, \"duration_s\": %%.2f, \"p50_ms\": %%.1f, \"p99_ms\": %%.1f, " ..
    "\"non_2xx_3xx\": %%d, \"socket_errors\": %%d}\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def cookie_header(client: Client) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def run(args) -> dict:
    from bench.generate import generate

    with scratch_database("hotline_load") as url, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        generate(url, args.tickets, progress=not args.quiet)
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect() as conn:
            numbers = [
                r[0] for r in conn.execute(sa.text("SELECT tracking_no FROM ticket ORDER BY random() LIMIT 500"))
            ]
        engine.dispose()
        prefix = f"bench-load-{uuid.uuid4().hex[:8]}"
        env = app_env(url, workdir, prefix)
        env["API_PUBLIC_INTAKE_RATE_LIMIT"] = "100000 per minute"
        log = workdir / "gunicorn.log"
        proc = subprocess.Popen(
            [
                venv_tool("gunicorn"),
                "-w",
                str(args.workers),
                "-b",
                f"127.0.0.1:{args.port}",
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
        samples: dict[int, list[float]] = {}
        stop_sampling = threading.Event()
        try:
            dispatcher, supervisor = Client(args.port), Client(args.port)
            wait_for(lambda: _answers(dispatcher), 90, "gunicorn to answer", proc)
            dispatcher.login("dispatcher", "hotline-demo")
            supervisor.login("supervisor", "hotline-demo")
            import http.client

            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            conn.request(
                "POST",
                "/api/v1/auth/token",
                body=json.dumps({"username": "operator", "password": "hotline-demo"}),
                headers={"Content-Type": "application/json"},
            )
            bearer = json.loads(conn.getresponse().read())["access_token"]
            script = workdir / "load.lua"
            script.write_text(
                LUA
                % {
                    "dispatcher": cookie_header(dispatcher),
                    "supervisor": cookie_header(supervisor),
                    "bearer": bearer,
                    "numbers": ", ".join(f'"{n}"' for n in numbers),
                }
            )

            def sample():
                while not stop_sampling.wait(10):
                    for pid in children(proc.pid):
                        try:
                            samples.setdefault(pid, []).append(rss_mb(pid))
                        except OSError:
                            pass

            def wrk(seconds):
                return subprocess.run(
                    [
                        "wrk",
                        "-t",
                        str(args.threads),
                        "-c",
                        str(args.connections),
                        "-d",
                        f"{seconds}s",
                        "--timeout",
                        "10s",
                        "--latency",
                        "-s",
                        str(script),
                        f"http://127.0.0.1:{args.port}",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )

            if args.warmup:  # each worker's first pages compile templates and fill caches: not the steady state
                wrk(args.warmup)
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            # Where the two cores go: the workers' and PostgreSQL's CPU over the measured run, per request.
            workers, backends = children(proc.pid), postgres_backends(sa.engine.make_url(url).database)
            cpu_before = cpu_seconds(workers), cpu_seconds(backends)
            out = wrk(args.duration)
            cpu_after = cpu_seconds(workers), cpu_seconds(backends)
            stop_sampling.set()
            if os.environ.get("LOAD_DEBUG"):
                print(out.stdout, log.read_text()[-3000:], file=sys.stderr)
            figures = json.loads(re.search(r"^JSON (.*)$", out.stdout, re.M).group(1))
            figures["requests_per_s"] = round(figures["requests"] / figures["duration_s"], 1)
            figures["cpu_ms_per_request"] = {
                name: round((after - before) / max(figures["requests"], 1) * 1000, 2)
                for name, before, after in zip(("workers", "postgres"), cpu_before, cpu_after)
            }
            figures["rss_mb"] = {pid: {"first": s[0], "max": max(s), "last": s[-1]} for pid, s in samples.items() if s}
            figures["server_errors_logged"] = log.read_text().count("Traceback")
            return figures
        finally:
            stop_sampling.set()
            stop(proc)
            _drop_redis_keys(prefix)


def _answers(client: Client) -> bool:
    try:
        return client.request("GET", "/login", anonymous=True)[0] == 200
    except OSError:
        return False


def _drop_redis_keys(prefix: str) -> None:
    try:
        import redis

        from bench.memory import REDIS_URL

        r = redis.Redis.from_url(REDIS_URL)
        for key in r.scan_iter(f"{prefix}*"):
            r.delete(key)
    except Exception:  # noqa: BLE001 — best effort cleanup
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=5, help="seconds of unmeasured load first")
    parser.add_argument("--tickets", type=int, default=20000)
    # Three: on the bench's two cores PostgreSQL and wrk take a share, and a fourth worker only adds switching
    # (alternating 60 s runs: ×1.04 over four; bench/README.md). A web machine of its own runs more.
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=18491)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    print(machine_line())
    figures = run(args)
    print(json.dumps(figures, indent=2))
    print(
        f"{figures['requests_per_s']} req/s over {figures['duration_s']} s after a {args.warmup} s warm-up, "
        f"p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, {figures['non_2xx_3xx']} answers >= 400, "
        f"{figures['socket_errors']} socket errors, {figures['server_errors_logged']} tracebacks logged"
    )
    cpu = figures["cpu_ms_per_request"]
    print(
        f"CPU per request: gunicorn workers {cpu['workers']} ms, PostgreSQL {cpu['postgres']} ms "
        f"({os.cpu_count()} cores: at most ~{os.cpu_count() * 1000 / max(cpu['workers'] + cpu['postgres'], 0.01):.0f} "
        f"req/s if both took every core)"
    )


if __name__ == "__main__":
    main()
