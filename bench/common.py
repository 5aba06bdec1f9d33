"""Helpers the bench scripts share: scratch PostgreSQL databases, a progress bar, RSS, the machine."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def venv_tool(name: str) -> str:
    """A console script (gunicorn, celery) of the environment running this script, so that servers run on the
    same interpreter as the bench: ``/opt/hotline/venv/bin/python bench/load.py`` measures that build."""
    return str(Path(sys.executable).parent / name)


def create_database(prefix: str = "hotline_bench", admin_url: str = ADMIN_URL) -> tuple[str, str]:
    """Create an empty scratch database; return (name, SQLAlchemy URL)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return name, sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str, admin_url: str = ADMIN_URL) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@contextmanager
def scratch_database(prefix: str = "hotline_bench", keep: bool = False):
    """Yield the URL of a new database, dropped afterwards unless ``keep``."""
    name, url = create_database(prefix)
    try:
        yield url
    finally:
        if keep:
            print(f"kept database {name}: {url}", file=sys.stderr)
        else:
            drop_database(name)


def psycopg_conninfo(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://…) as a libpq connection string for psycopg."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Progress:
    """A one-line progress bar on stderr (no dependency); quiet when ``enabled`` is False."""

    def __init__(self, total: int, label: str, enabled: bool = True, unit: str = "tickets"):
        self.total, self.label, self.unit = max(total, 1), label, unit
        self.enabled = enabled and total > 0
        self.done, self.started, self._last = 0, time.perf_counter(), 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self._last > 0.5 or self.done >= self.total):
            self._last = now
            elapsed = now - self.started
            rate = self.done / elapsed if elapsed else 0.0
            eta = (self.total - self.done) / rate if rate else 0.0
            width = 30
            filled = int(width * self.done / self.total)
            sys.stderr.write(
                f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done:,}/{self.total:,} "
                f"{self.unit} {rate:,.0f}/s ETA {eta:4.0f}s "
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def rss_mb(pid: int) -> float:
    """Resident set size of one process in MB (VmRSS from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pids) -> float:
    """User + system CPU time of these processes so far (/proc; a process that has gone counts 0)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_backends(database: str, admin_url: str = ADMIN_URL) -> list[int]:
    """The server processes serving connections to ``database`` (pg_stat_activity)."""
    engine = sa.create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": database}
                ).scalars()
            )
    finally:
        engine.dispose()


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine() -> dict:
    """What the figures came from: cores, memory, CPU model, PostgreSQL and Redis versions."""
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")
    )
    engine = sa.create_engine(ADMIN_URL)
    try:
        with engine.connect() as conn:
            pg = conn.execute(sa.text("SHOW server_version")).scalar()
    except Exception:  # noqa: BLE001 - a report, not a check
        pg = "?"
    finally:
        engine.dispose()
    redis = _run(["redis-cli", "-h", "127.0.0.1", "INFO", "server"])
    redis = next((line.split(":", 1)[1] for line in redis.splitlines() if line.startswith("redis_version:")), "?")
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "postgresql": pg,
        "redis": redis,
        "python": platform.python_version(),
        "interpreter": os.path.realpath(sys.executable),
    }


def machine_line() -> str:
    m = machine()
    return (
        f"machine: {m['nproc']} cores, {m['memory_gb']} GB, {m['cpu']}; PostgreSQL {m['postgresql']}, "
        f"Redis {m['redis']}, Python {m['python']} ({m['interpreter']})"
    )


def require_wrk() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    return path
