"""``make run``: migrate, seed the demo, then run web + Celery worker + beat until Ctrl-C.

Embedded by default (SQLite and kombu's SQLAlchemy transport under instance/);
with DATABASE_URL and REDIS_URL set the same processes use PostgreSQL and Redis (and HOTLINE_CONFIG=development
must say that the development config on PostgreSQL is meant: config.refuse_development_on_postgresql).
If any process dies, the others are stopped too, so a half-running hotline is never left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent


def flask(*args: str) -> None:
    subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, check=True)


def main() -> int:
    os.environ.setdefault("FLASK_APP", "wsgi")
    port = os.environ.get("PORT", "5000")
    backend = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite (instance/hotline.db)"
    broker = "Redis" if os.environ.get("REDIS_URL") else "embedded (instance/broker.db)"
    print(f"== database: {backend}; Celery broker: {broker}", flush=True)
    from config import refuse_development_on_postgresql

    try:
        refuse_development_on_postgresql(
            os.environ.get("DATABASE_URL") or "", config_chosen="HOTLINE_CONFIG" in os.environ
        )
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        flask("db", "upgrade")
        flask("seed-demo")
    except subprocess.CalledProcessError as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        return 1
    from config import INSTANCE_DIR

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    beat_schedule = INSTANCE_DIR / "celerybeat-schedule"
    commands = {
        "web": [str(BIN / "flask"), "run", "--host", "127.0.0.1", "--port", port, "--no-reload"],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "workers.app",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
        ],
        "beat": [str(BIN / "celery"), "-A", "workers.app", "beat", "--loglevel=INFO", f"--schedule={beat_schedule}"],
    }
    stop = {"requested": False}

    def request_stop(signum, frame):  # Ctrl-C reaches every process in the group; we just wait
        stop["requested"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    processes = {name: subprocess.Popen(cmd, cwd=ROOT) for name, cmd in commands.items()}
    print(
        f"\n== hotline is running on http://127.0.0.1:{port}  (Ctrl-C stops web, worker and beat)\n"
        "== demo accounts, password hotline-demo: admin, operator, dispatcher, supervisor, handler, street,"
        " district, community, citizen\n",
        flush=True,
    )
    while not stop["requested"] and all(p.poll() is None for p in processes.values()):
        time.sleep(0.3)
    code = 0
    if not stop["requested"]:
        code = 1
        for name, p in processes.items():
            if p.poll() is not None:
                print(f"== {name} exited with {p.returncode}; stopping the others", file=sys.stderr)
    print("\n== stopping", flush=True)
    for p in processes.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in processes.values():
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
