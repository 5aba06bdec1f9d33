"""Scale-out drill (issue 27): the production layout on one machine, with hosts as network namespaces.

    sudo .venv/bin/python bench/cluster.py [--tickets 2000] [--phase 8] [--due 1500] [--smoke] [--keep]

Needs root (``ip netns``), Debian's ``haproxy``, PostgreSQL's server binaries (``/usr/lib/postgresql/*/bin``),
``redis-server`` and the project's virtualenv. Every address is in one private /24 (``--subnet``, default
10.231.7.0/24) that exists only inside the script's own namespaces: a switch namespace holds a bridge and one
veth per host; the machine's own network is not touched.

Hosts: ``db`` (PostgreSQL primary), ``replica`` (a streaming replica made with pg_basebackup), ``redis``,
``web1`` and ``web2`` (gunicorn), ``worker1`` (Celery worker and the one beat) and ``worker2`` (Celery
worker), ``lb`` (HAProxy with health checks and layer-7 retries), ``client`` (the load) and, for the restore,
``restore`` (an empty PostgreSQL). The load posts appeals through HAProxy as a partner does (``POST
/api/v1/tickets`` with an ``Idempotency-Key``, retrying the same key when an answer does not come) and reads
public pages; while it runs, the drills kill one web host, restart Redis and restart PostgreSQL. Afterwards
the SLA drills kill the worker host in the middle of a sweep and start a second beat by mistake, and a
``pg_dump`` of the primary is restored into a fresh host. The table at the end gives, per phase, requests,
errors the client saw, and tickets lost (acknowledged but absent) and duplicated (two tickets for one key);
and for the sweeps, due steps missed and doubled. Exit status 1 when anything was lost, doubled or missed.

Everything is torn down at the end (also on Ctrl-C); ``--keep`` leaves the hosts up and prints how to reach
them. The smoke version (``--smoke``) runs in CI through tests/integration/test_bench_smoke.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOSTS = {
    "db": 2,
    "replica": 3,
    "redis": 4,
    "web1": 11,
    "web2": 12,
    "worker1": 21,
    "worker2": 22,
    "lb": 30,
    "client": 40,
    "restore": 50,
}
DRILL_TITLE = "集群演练"  # the load's appeals, found again by this title prefix
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), Path("/usr/bin"))


# --- hosts -------------------------------------------------------------------------------------------------


class Cluster:
    """Network namespaces on one bridge, and the processes started in them."""

    def __init__(self, prefix: str, subnet: str, workdir: Path):
        self.prefix, self.subnet, self.workdir = prefix, subnet, workdir
        self.procs: dict[str, list[subprocess.Popen]] = {}
        self.built: list[str] = []

    def ns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def ip(self, host: str) -> str:
        return f"{self.subnet}.{HOSTS[host]}"

    def build(self) -> None:
        switch = self.ns("switch")
        _sh("ip", "netns", "add", switch)
        self.built.append(switch)
        _sh("ip", "-n", switch, "link", "add", "br0", "type", "bridge")
        _sh("ip", "-n", switch, "link", "set", "br0", "up")
        for host in HOSTS:
            ns = self.ns(host)
            _sh("ip", "netns", "add", ns)
            self.built.append(ns)
            # Both ends are made inside our namespaces: the machine's own network never sees them.
            _sh("ip", "-n", switch, "link", "add", f"p-{host}", "type", "veth", "peer", "name", "eth0", "netns", ns)
            _sh("ip", "-n", switch, "link", "set", f"p-{host}", "master", "br0", "up")
            _sh("ip", "-n", ns, "addr", "add", f"{self.ip(host)}/24", "dev", "eth0")
            _sh("ip", "-n", ns, "link", "set", "eth0", "up")
            _sh("ip", "-n", ns, "link", "set", "lo", "up")

    def command(self, host: str, cmd: list[str], user: str | None = None) -> list[str]:
        prefix = ["ip", "netns", "exec", self.ns(host)]
        return prefix + (["runuser", "-u", user, "--"] if user else []) + cmd

    def start(self, host: str, name: str, cmd: list[str], env: dict | None = None, user: str | None = None):
        log = open(self.workdir / f"{host}-{name}.log", "ab")  # noqa: SIM115 - the process keeps it
        proc = subprocess.Popen(
            self.command(host, cmd, user),
            cwd=ROOT,
            env=env or os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.setdefault(host, []).append(proc)
        return proc

    def run(self, host: str, cmd: list[str], user: str | None = None, env: dict | None = None, timeout=600) -> str:
        done = subprocess.run(
            self.command(host, cmd, user), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"{host}: {' '.join(cmd[:3])} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout

    def kill_host(self, host: str) -> None:
        """Every process of the host, at once and without warning (SIGKILL), as a host that loses power."""
        out = subprocess.run(["ip", "netns", "pids", self.ns(host)], capture_output=True, text=True).stdout
        for pid in out.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in self.procs.pop(host, []):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def signal_host(self, host: str, sig: signal.Signals) -> None:
        """SIGSTOP freezes every process of the host where it stands (SIGCONT lets it go on)."""
        out = subprocess.run(["ip", "netns", "pids", self.ns(host)], capture_output=True, text=True).stdout
        for pid in out.split():
            try:
                os.kill(int(pid), sig)
            except ProcessLookupError:
                pass

    def teardown(self) -> None:
        for host in list(HOSTS):
            self.kill_host(host)
        for ns in reversed(self.built):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.built.clear()


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


# --- the services --------------------------------------------------------------------------------------------


def wait_for(what: str, check, timeout: float = 60, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(every)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


class Services:
    def __init__(self, cluster: Cluster, workers: int):
        self.c, self.workers = cluster, workers
        self.db_url = f"postgresql+psycopg://postgres@{cluster.ip('db')}:5432/hotline"
        self.replica_url = f"postgresql+psycopg://postgres@{cluster.ip('replica')}:5432/hotline"
        self.redis_url = f"redis://{cluster.ip('redis')}:6379/0"
        self.secret = uuid.uuid4().hex

    # PostgreSQL, as the postgres user, data in the work directory
    def pg_dir(self, host: str) -> Path:
        path = self.c.workdir / f"pg-{host}"
        path.mkdir(exist_ok=True)
        shutil.chown(path, "postgres", "postgres")
        path.chmod(0o700)
        return path

    def start_postgres(self, host: str) -> None:
        data = self.pg_dir(host)
        run_dir = self.c.workdir / f"pg-{host}-run"
        run_dir.mkdir(exist_ok=True)
        shutil.chown(run_dir, "postgres", "postgres")
        self.c.start(
            host,
            "postgres",
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(data),
                "-c",
                f"listen_addresses={self.c.ip(host)}",
                "-c",
                f"unix_socket_directories={run_dir}",
                "-c",
                "max_connections=200",
                "-c",
                "wal_level=replica",
                "-c",
                "max_wal_senders=5",
                "-c",
                "hot_standby=on",
                "-c",
                "shared_buffers=128MB",
            ],
            user="postgres",
        )
        wait_for(f"PostgreSQL on {host}", lambda: self.psql(host, "SELECT 1", database="postgres") == "1")

    def init_primary(self) -> None:
        data = self.pg_dir("db")
        self.c.run("db", [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8"], user="postgres")
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {self.c.subnet}.0/24 trust\nhost replication all {self.c.subnet}.0/24 trust\n")
        self.start_postgres("db")
        self.psql("db", "CREATE DATABASE hotline", database="postgres")

    def init_replica(self) -> None:
        data = self.pg_dir("replica")
        self.c.run(
            "replica",
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                self.c.ip("db"),
                "-U",
                "postgres",
                "-D",
                str(data),
                "-R",
                "-X",
                "stream",
            ],
            user="postgres",
        )
        self.start_postgres("replica")

    def init_empty(self, host: str) -> None:
        data = self.pg_dir(host)
        self.c.run(host, [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8"], user="postgres")
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {self.c.subnet}.0/24 trust\n")
        self.start_postgres(host)

    def restart_postgres(self) -> None:
        """A fast shutdown (connections cut, as at a restart for an upgrade), then up again."""
        self.c.run(
            "db", [str(PG_BIN / "pg_ctl"), "-D", str(self.pg_dir("db")), "-m", "fast", "-w", "stop"], user="postgres"
        )
        self.start_postgres("db")

    def psql(self, host: str, sql: str, database: str = "hotline") -> str:
        return self.c.run(
            "client", ["psql", "-h", self.c.ip(host), "-U", "postgres", "-d", database, "-At", "-c", sql], timeout=60
        ).strip()

    # Redis: nothing on disk, as the machines' Redis
    def start_redis(self) -> None:
        self.c.start(
            "redis",
            "redis",
            [
                "redis-server",
                "--bind",
                self.c.ip("redis"),
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ],
        )
        wait_for("Redis", lambda: "PONG" in self.c.run("client", ["redis-cli", "-h", self.c.ip("redis"), "PING"]))

    def app_env(self, host: str) -> dict:
        instance = self.c.workdir / f"instance-{host}"
        instance.mkdir(exist_ok=True)
        return {
            **os.environ,
            "HOTLINE_CONFIG": "production",
            "DATABASE_URL": self.db_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": self.secret,
            "HOTLINE_INSTANCE_DIR": str(instance),
            "HOTLINE_PROXY_COUNT": "1",
            "DATABASE_REPLICA_URL": self.replica_url,  # the dashboard and public statistics read there
            "REPLICA_CHECK_SECONDS": "1",  # so that the replica drill sees the fallback within its phase
            "PYTHONPATH": str(ROOT),
        }

    def start_web(self, host: str) -> None:
        self.c.start(
            host,
            "gunicorn",
            [
                _tool("gunicorn"),
                "-w",
                str(self.workers),
                "-b",
                f"{self.c.ip(host)}:8000",
                "--access-logfile",
                "/dev/null",
                "--graceful-timeout",
                "5",
                "wsgi:app",
            ],
            env=self.app_env(host),
        )
        wait_for(f"gunicorn on {host}", lambda: self.get(host, 8000, "/healthz") == 200)

    def start_worker(self, host: str) -> None:
        self.c.start(
            host,
            "celery",
            [
                _tool("celery"),
                "-A",
                "workers.app",
                "worker",
                "-n",
                f"{host}@%h",
                "-Q",
                f"celery,{host}",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            env=self.app_env(host),
        )
        wait_for(f"Celery on {host}", lambda: b"ready" in (self.c.workdir / f"{host}-celery.log").read_bytes())

    def start_beat(self, host: str, name: str = "beat") -> None:
        schedule = self.c.workdir / f"{host}-{name}-schedule-{uuid.uuid4().hex[:6]}"  # fresh: fires at once
        self.c.start(
            host,
            name,
            [_tool("celery"), "-A", "workers.app", "beat", "--loglevel", "INFO", "--schedule", str(schedule)],
            env=self.app_env(host),
        )

    def start_haproxy(self) -> Path:
        cfg = self.c.workdir / "haproxy.cfg"
        sock = self.c.workdir / "haproxy.sock"
        cfg.write_text(HAPROXY.format(lb=self.c.ip("lb"), web1=self.c.ip("web1"), web2=self.c.ip("web2"), sock=sock))
        self.c.start("lb", "haproxy", ["haproxy", "-f", str(cfg), "-db"])
        wait_for("HAProxy", lambda: self.get("lb", 80, "/healthz") == 200)
        return sock

    def get(self, host: str, port: int, path: str) -> int:
        out = self.c.run(
            "client",
            [
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-m",
                "2",
                f"http://{self.c.ip(host)}:{port}{path}",
            ],
            timeout=10,
        )
        return int(out or 0)


HAPROXY = """global
    maxconn 2000
    stats socket {sock} mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 15s
    # A request that found a dead server is sent to the other one. Intake carries an Idempotency-Key, so even
    # a POST whose answer was lost is safe to send again: the app replays its first answer.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response junk-response response-timeout 502 503 504
    option http-buffer-request

frontend hotline
    bind {lb}:80
    option forwardfor
    default_backend web

backend web
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
    server web1 {web1}:8000 check
    server web2 {web2}:8000 check
"""


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def haproxy_stats(sock: Path) -> dict:
    """Retries and redispatches HAProxy made, from its stats socket (CSV)."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(sock))
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    totals = Counter()
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "web" and row.get("svname") == "BACKEND":
            for field in ("wretr", "wredis", "econ", "eresp"):
                totals[field] += int(row.get(field) or 0)
    return dict(totals)


# --- the load (runs inside the client host) ----------------------------------------------------------------


def client_main(args) -> int:
    """Post appeals and read pages through HAProxy until ``--duration`` ends; one JSON line per request."""
    stop_at = time.monotonic() + args.duration
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())  # the orchestrator's stop: finish what is in flight
    out = open(args.out, "w")  # noqa: SIM115
    lock = threading.Lock()

    def one(method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        request = urllib.request.Request(f"{args.url}{path}", data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return 0, b""  # refused, reset, timed out

    def worker(n: int) -> None:
        rng = random.Random(n)
        seq = 0
        while time.monotonic() < stop_at and not stopping.is_set():
            seq += 1
            started = time.time()
            if rng.random() < 0.7:
                key = f"{args.marker}-{n}-{seq}"
                body = json.dumps(
                    {
                        "appeal_type": "complaint",
                        "title": f"{DRILL_TITLE} {key}",
                        "body": "人民路工地每晚十一点后仍在施工，噪音很大，请尽快处理。",
                        "citizen_phone": "13912345678",
                        "citizen_name": "李娜",
                        "address": "东湖区人民路2号",
                    }
                ).encode()
                headers = {"Content-Type": "application/json", "X-API-Key": args.key, "Idempotency-Key": key}
                tries, status, data = 0, 0, b""
                while tries < 8:  # the partner retries the same key until it has an answer
                    tries += 1
                    status, data = one("POST", "/api/v1/tickets", body, headers)
                    if status in (200, 201) or 400 <= status < 500:
                        break
                    time.sleep(0.5)
                tracking = json.loads(data).get("tracking_no") if status in (200, 201) else None
                record = {
                    "t": started,
                    "kind": "intake",
                    "key": key,
                    "status": status,
                    "tries": tries,
                    "tracking_no": tracking,
                }
            else:
                path = rng.choice(["/portal", "/public/stats", "/open311/v2/services.json"])
                status, data = one("GET", path, None, {})
                record = {"t": started, "kind": "read", "status": status, "tries": 1}
                if path == "/public/stats" and status == 200:  # the footnote says which database served
                    record["source"] = "replica" if "数据读自只读副本" in data.decode() else "primary"
            with lock:
                out.write(json.dumps(record) + "\n")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.close()
    return 0


def seed_main(args) -> int:
    """Inside the client host: the demo city and ``--tickets`` tickets on the primary, and a partner key."""
    from bench.generate import generate
    from hotline import create_app
    from hotline.api.services import create_api_key
    from hotline.extensions import db

    generate(args.database_url, args.tickets, seed=7, progress=False)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=args.database_url)
    with app.app_context():
        _, raw = create_api_key("集群演练")
        db.session.commit()
    print(json.dumps({"key": raw}))
    return 0


def send_main(args) -> int:
    """Inside the client host: send one task as beat would (to a host's own queue when ``--queue``)."""
    from workers.app import app

    app.send_task(args.task, kwargs=json.loads(args.kwargs), queue=args.queue or None)
    return 0


# --- the drills ----------------------------------------------------------------------------------------------


class Drill:
    def __init__(self, args, cluster: Cluster, services: Services):
        self.args, self.c, self.s = args, cluster, services
        self.event_floor = self.note_floor = 0
        self.phases: list[tuple[str, float, float]] = []
        self.rows: list[dict] = []

    def python(self, host: str, *argv: str, env: dict | None = None, timeout: float = 900) -> str:
        return self.c.run(host, [sys.executable, str(Path(__file__).resolve()), *argv], env=env, timeout=timeout)

    def phase(self, name: str, action=None, recover=None) -> None:
        start = time.time()
        if action:
            action()
        time.sleep(self.args.phase)
        if recover:
            recover()
            time.sleep(self.args.phase / 2)
        self.phases.append((name, start, time.time()))

    def load(self, key: str) -> list[dict]:
        marker = uuid.uuid4().hex[:8]
        out = self.c.workdir / "load.jsonl"
        duration = self.args.phase * 9 + 180  # outlives the phases; stopped when they are done
        proc = self.c.start(
            "client",
            "load",
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "client",
                "--url",
                f"http://{self.c.ip('lb')}",
                "--key",
                key,
                "--marker",
                marker,
                "--duration",
                str(duration),
                "--threads",
                str(self.args.threads),
                "--out",
                str(out),
            ],
        )
        # Warm-up, not counted: every gunicorn worker of both hosts has loaded the app and answered.
        wait_for("the load to warm up", lambda: out.exists() and out.read_text().count("\n") >= 60, timeout=120)
        self.phase("steady (2 web, 2 worker)")
        self.phase("web1 killed mid-load", lambda: self.c.kill_host("web1"), lambda: self.s.start_web("web1"))
        self.phase("Redis restarted", self.restart_redis)
        self.phase("PostgreSQL restarted", self.s.restart_postgres)
        self.phase("replica killed", lambda: self.c.kill_host("replica"), lambda: self.s.start_postgres("replica"))
        self.phase("steady again")
        os.killpg(proc.pid, signal.SIGINT)  # the client stops: it writes each request as it ends
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]

    def restart_redis(self) -> None:
        self.c.kill_host("redis")
        time.sleep(1)
        self.s.start_redis()

    def tally(self, records: list[dict]) -> None:
        """Per phase: requests, errors the client saw, tickets lost and duplicated."""
        present = set(self.s.psql("db", f"SELECT tracking_no FROM ticket WHERE title LIKE '{DRILL_TITLE} %'").split())
        dup_rows = self.s.psql(
            "db", f"SELECT title FROM ticket WHERE title LIKE '{DRILL_TITLE} %' GROUP BY title HAVING count(*) > 1"
        )
        duplicated = {line.split(" ", 1)[1] for line in dup_rows.splitlines() if line}
        for name, start, end in self.phases:
            mine = [r for r in records if start <= r["t"] < end]
            intake = [r for r in mine if r["kind"] == "intake"]
            acknowledged = [r for r in intake if r["tracking_no"]]
            stats = [r for r in mine if r.get("source")]
            self.rows.append(
                {
                    "phase": name,
                    "seconds": round(end - start, 1),
                    "requests": len(mine),
                    "failed attempts": sum(r["tries"] - 1 for r in intake) + sum(1 for r in mine if not _ok(r)),
                    "requests that failed": sum(1 for r in mine if not _ok(r)),
                    "appeals acknowledged": len(acknowledged),
                    "not acknowledged": len(intake) - len(acknowledged),
                    "lost": sum(1 for r in acknowledged if r["tracking_no"] not in present),
                    "duplicated": sum(1 for r in intake if r["key"] in duplicated),
                    "stats from the replica": f"{sum(1 for r in stats if r['source'] == 'replica')}/{len(stats)}",
                }
            )

    def make_due(self, n: int) -> list[int]:
        """``n`` open tickets whose yellow card is due now (as bench/sweep.py does), returned by id."""
        ids = self.s.psql(
            "db",
            "SELECT t.id FROM ticket t JOIN sla_clock c ON c.ticket_id = t.id "
            f"WHERE t.status = 'in_progress' AND c.kind = 'answer' ORDER BY c.stage, t.id LIMIT {n}",
        ).split()
        if len(ids) < n:
            raise RuntimeError(f"only {len(ids)} in-progress tickets left to make due: load more (--tickets)")
        id_list = ",".join(ids)
        # Yellow card due an hour ago, none taken yet; the deadline and the escalation well ahead, so that only
        # that step is due. Steps are counted from the events written after this moment.
        self.event_floor = int(self.s.psql("db", "SELECT coalesce(max(id), 0) FROM ticket_event"))
        self.note_floor = int(self.s.psql("db", "SELECT coalesce(max(id), 0) FROM notification"))
        utc = "now() at time zone 'utc'"
        self.s.psql(
            "db",
            f"UPDATE sla_clock SET stage = 0, warn_at = {utc} - interval '1 hour', deadline_at = {utc} + interval '3 days', "
            f"escalate_at = {utc} + interval '10 days' WHERE ticket_id IN ({id_list}) AND kind = 'answer'; "
            f"UPDATE ticket SET next_deadline_at = {utc} - interval '1 hour', warning_level = 'none' "
            f"WHERE id IN ({id_list})",
        )
        return [int(i) for i in ids]

    def yellow_counts(self, ids: list[int]) -> Counter:
        rows = self.s.psql(
            "db",
            f"SELECT ticket_id, count(*) FROM ticket_event WHERE action = 'yellow_card' AND id > {self.event_floor} "
            "AND ticket_id IN "
            f"({','.join(map(str, ids))}) GROUP BY ticket_id",
        )
        return Counter({int(a): int(b) for a, b in (line.split("|") for line in rows.splitlines() if line)})

    def sweep_row(self, name: str, ids: list[int], extra: dict) -> None:
        counts = self.yellow_counts(ids)
        notes = self.s.psql(
            "db",
            f"SELECT count(*) FROM (SELECT 1 FROM notification WHERE template = 'yellow_card' AND id > {self.note_floor} "
            "AND ticket_id IN "
            f"({','.join(map(str, ids))}) GROUP BY ticket_id, recipient_user_id, channel HAVING count(*) > 1) d",
        )
        self.rows.append(
            {
                "phase": name,
                "due steps": len(ids),
                "taken": sum(1 for i in ids if counts[i] >= 1),
                "missed": sum(1 for i in ids if counts[i] == 0),
                "doubled": sum(1 for i in ids if counts[i] > 1),
                "notifications doubled": int(notes or 0),
                **extra,
            }
        )

    def wait_swept(self, ids: list[int], timeout: float) -> None:
        try:
            wait_for("the sweep", lambda: len(self.yellow_counts(ids)) == len(ids), timeout=timeout, every=0.5)
        except RuntimeError:
            pass  # counted as missed

    def worker_killed_mid_sweep(self) -> None:
        ids = self.make_due(self.args.due)
        env = self.s.app_env("client")
        # The sweep goes to worker1's own queue, one ticket per batch; the host dies a moment after the worker
        # took the task, in the middle of its batches.
        log = self.c.workdir / "worker1-celery.log"
        received = _sweeps_received(log)
        self.python(
            "client",
            "send",
            "--task",
            "hotline.sla.sweep",
            "--kwargs",
            '{"batch_size": 1}',
            "--queue",
            "worker1",
            env=env,
        )
        wait_for(
            "worker1 to take the sweep",
            lambda: _sweeps_received(log) > received,
            timeout=60,
            every=0.005,
        )
        # Killed once its first steps are committed: the rest of the sweep dies with the host. The host is
        # frozen while its progress is read (a psql round trip outlasts many one-ticket batches on a loaded
        # machine) and let go for a few milliseconds at a time, so the kill lands mid-sweep.
        deadline = time.monotonic() + 60
        while True:
            self.c.signal_host("worker1", signal.SIGSTOP)
            taken_before = len(self.yellow_counts(ids))
            if taken_before or time.monotonic() > deadline:
                break
            self.c.signal_host("worker1", signal.SIGCONT)
            time.sleep(0.01)
        if self.args.kill_after:
            self.c.signal_host("worker1", signal.SIGCONT)
            time.sleep(self.args.kill_after)
        self.c.kill_host("worker1")
        taken_before = len(self.yellow_counts(ids))
        # The next minute's sweep (sent now rather than waiting for the beat) runs on worker2.
        self.python("client", "send", "--task", "hotline.sla.sweep", "--kwargs", "{}", env=env)
        self.wait_swept(ids, timeout=120)
        self.sweep_row("worker1 killed mid-sweep", ids, {"taken before the kill": taken_before})
        self.s.start_worker("worker1")

    def second_beat(self) -> None:
        ids = self.make_due(self.args.due)
        before = _count(self.c.workdir, "Sending due task sla-sweep")
        # worker1 comes back with its beat, and a second beat starts on worker2 by mistake; both have fresh
        # schedules, so each sends its sweep at once (and the other periodic tasks).
        self.s.start_beat("worker1", "beat")
        self.s.start_beat("worker2", "beat-by-mistake")
        self.wait_swept(ids, timeout=120)
        time.sleep(3)
        sent = _count(self.c.workdir, "Sending due task sla-sweep") - before
        self.sweep_row("second beat by mistake", ids, {"sweeps sent": sent})

    def restore(self) -> None:
        dump = self.c.workdir / "hotline.dump"
        self.c.run("client", ["pg_dump", "-h", self.c.ip("db"), "-U", "postgres", "-Fc", "-f", str(dump), "hotline"])
        self.s.init_empty("restore")
        self.s.psql("restore", "CREATE DATABASE hotline", database="postgres")
        self.c.run("client", ["pg_restore", "-h", self.c.ip("restore"), "-U", "postgres", "-d", "hotline", str(dump)])
        primary = int(self.s.psql("db", "SELECT count(*) FROM ticket"))
        wait_for("the replica", lambda: self.s.psql("replica", "SELECT count(*) FROM ticket") == str(primary), 60)
        self.rows.append(
            {
                "phase": "backup restored on a fresh host",
                "tickets on the primary": primary,
                "on the replica": int(self.s.psql("replica", "SELECT count(*) FROM ticket")),
                "restored": int(self.s.psql("restore", "SELECT count(*) FROM ticket")),
            }
        )


def _sweeps_received(log: Path) -> int:
    """How many sweeps the worker has taken, from its log (Celery logs "Task NAME[ID] received")."""
    return len(re.findall(r"hotline\.sla\.sweep\[[^\]]+\] received", log.read_text(errors="replace")))


def _ok(record: dict) -> bool:
    return 200 <= record["status"] < 500


def _count(workdir: Path, text: str) -> int:
    return sum(p.read_text(errors="replace").count(text) for p in workdir.glob("*beat*.log"))


def print_table(rows: list[dict]) -> None:
    for row in rows:
        cells = [f"{k} {v}" for k, v in row.items() if k != "phase"]
        print(f"{row['phase']:<34} " + " · ".join(cells))


def failed(rows: list[dict]) -> list[str]:
    bad = []
    for row in rows:
        for field in ("lost", "duplicated", "missed", "doubled", "notifications doubled", "not acknowledged"):
            if row.get(field):
                bad.append(f"{row['phase']}: {field} {row[field]}")
        if "restored" in row and not (row["restored"] == row["tickets on the primary"] == row["on the replica"]):
            bad.append(f"{row['phase']}: counts differ")
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    client = sub.add_parser("client")
    client.add_argument("--url", required=True)
    client.add_argument("--key", required=True)
    client.add_argument("--marker", required=True)
    client.add_argument("--duration", type=float, required=True)
    client.add_argument("--threads", type=int, default=8)
    client.add_argument("--out", required=True)
    seed = sub.add_parser("seed")
    seed.add_argument("--database-url", required=True)
    seed.add_argument("--tickets", type=int, required=True)
    send = sub.add_parser("send")
    send.add_argument("--task", required=True)
    send.add_argument("--kwargs", default="{}")
    send.add_argument("--queue")
    parser.add_argument("--tickets", type=int, default=2000, help="tickets loaded before the drills")
    parser.add_argument("--phase", type=float, default=8, help="seconds of load per phase")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--due", type=int, default=300, help="tickets made due for each sweep drill")
    parser.add_argument(
        "--kill-after", type=float, default=0.0, help="seconds between the sweep's first steps and the kill"
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per web host")
    parser.add_argument("--subnet", default="10.231.7", help="the private /24 (three octets)")
    parser.add_argument("--smoke", action="store_true", help="small and short, for CI")
    parser.add_argument("--keep", action="store_true", help="leave the hosts up")
    args = parser.parse_args()
    if args.command == "client":
        return client_main(args)
    if args.command == "seed":
        return seed_main(args)
    if args.command == "send":
        return send_main(args)
    if args.smoke:
        args.tickets, args.phase, args.threads, args.due = 1500, 4, 4, 150
    if os.geteuid() != 0:
        print("bench/cluster.py needs root (ip netns)", file=sys.stderr)
        return 2
    for tool in ("haproxy", "redis-server", "psql", "pg_dump", "curl"):
        if not shutil.which(tool):
            print(
                f"{tool} is missing (apt-get install -y haproxy redis-server postgresql-client curl)", file=sys.stderr
            )
            return 2

    workdir = Path(tempfile.mkdtemp(prefix="hotline-cluster-"))
    workdir.chmod(0o755)  # postgres reads its data directories below it
    cluster = Cluster(f"hl{os.getpid() % 100000}", args.subnet, workdir)
    services = Services(cluster, args.web_workers)
    drill = Drill(args, cluster, services)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    started = time.time()
    try:
        cluster.build()
        services.init_primary()
        services.start_redis()
        key = json.loads(
            drill.python("client", "seed", "--database-url", services.db_url, "--tickets", str(args.tickets))
            .strip()
            .splitlines()[-1]
        )["key"]
        services.init_replica()
        for host in ("web1", "web2"):
            services.start_web(host)
        for host in ("worker1", "worker2"):
            services.start_worker(host)
        services.start_beat("worker1")
        sock = services.start_haproxy()
        print(f"cluster up in {time.time() - started:.0f} s ({workdir})", file=sys.stderr)
        records = drill.load(key)
        drill.tally(records)
        drill.rows.append({"phase": "HAProxy", **haproxy_stats(sock)})
        drill.worker_killed_mid_sweep()
        drill.second_beat()
        drill.restore()
        print(
            f"scale-out drill: {args.tickets} tickets, {args.threads} client threads, {args.phase:g} s phases, "
            f"{args.web_workers} gunicorn workers per web host, {args.due} due steps per sweep drill"
        )
        print_table(drill.rows)
        bad = failed(drill.rows)
        for line in bad:
            print(f"FAILED {line}")
        return 1 if bad else 0
    finally:
        if args.keep:
            print(
                f"kept: namespaces {cluster.prefix}-*, logs in {workdir}; "
                f"ip netns exec {cluster.ns('client')} psql -h {cluster.ip('db')} -U postgres hotline",
                file=sys.stderr,
            )
        else:
            cluster.teardown()
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
