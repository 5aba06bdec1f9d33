"""Reads that may come from a PostgreSQL streaming replica (``DATABASE_REPLICA_URL``).

The dashboard, the public statistics and the exports read a lot and can be a little behind, so a view marked
``@read_from_replica`` (or code inside ``replica_reads()``) sends its SELECTs to the replica. Everything else
stays on the primary: a flush, an INSERT / UPDATE / DELETE or any textual statement goes to the primary, and
after the first write the session reads from the primary too (it must see what it wrote).

The replica is used only while it is at most ``REPLICA_MAX_STALENESS_SECONDS`` behind; its lag is measured
every ``REPLICA_CHECK_SECONDS`` per process (caught up with what it received and still hearing from the
primary: the time since the primary's last message; otherwise the age of the last replayed transaction).
Down, unreachable or too far behind, the reads go to the primary. A replica that fails between two checks
is noticed by the failing statement: the view runs once more, on the primary (``on_replica``);
docs/deployment.md, "Read replica".
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from config import sqlalchemy_url

BIND = "replica"
_wanted: ContextVar[bool] = ContextVar("replica_reads", default=False)
_served: ContextVar[ReplicaState | None] = ContextVar("replica_served", default=None)
_failed: ContextVar[bool] = ContextVar("replica_failed", default=False)

# Seconds behind the primary, as one query on the replica (a server not in recovery is the primary itself).
LAG_SQL = text("""
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0
  WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
       AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
    THEN EXTRACT(EPOCH FROM now() - (SELECT last_msg_receipt_time FROM pg_stat_wal_receiver LIMIT 1))
  ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
END
""")


@dataclass(frozen=True)
class ReplicaState:
    usable: bool
    lag: float | None  # seconds behind the primary when measured; None: not measured (down)
    checked_at: float
    max_staleness: float


_states: weakref.WeakKeyDictionary[Engine, ReplicaState] = weakref.WeakKeyDictionary()  # per engine, per process
_lock = threading.Lock()


def engine_options(url: str) -> dict[str, Any]:
    """The replica's engine (a Flask-SQLAlchemy bind): a short connect timeout, so that a replica that is down
    costs a probe a moment, not a page its load balancer's patience."""
    url = sqlalchemy_url(url)
    options: dict[str, Any] = {"url": url, "pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": 2}
    return options


def replica_engine() -> Engine | None:
    if not has_app_context():
        return None
    engines: dict[str | None, Engine] = current_app.extensions["sqlalchemy"].engines
    return engines.get(BIND)


def _measure(engine: Engine, max_staleness: float) -> ReplicaState:
    now = time.monotonic()
    try:
        with engine.connect() as conn:
            lag = float(conn.execute(LAG_SQL).scalar() or 0) if engine.dialect.name == "postgresql" else 0.0
    except Exception:  # noqa: BLE001 - any failure means: read from the primary
        return ReplicaState(False, None, now, max_staleness)
    return ReplicaState(lag <= max_staleness, lag, now, max_staleness)


def state(engine: Engine) -> ReplicaState:
    """The replica's last measured state, measured again when older than ``REPLICA_CHECK_SECONDS``."""
    config = current_app.config
    every, max_staleness = config["REPLICA_CHECK_SECONDS"], config["REPLICA_MAX_STALENESS_SECONDS"]
    known = _states.get(engine)
    if known is not None and time.monotonic() - known.checked_at < every:
        return known
    with _lock:  # one probe per process at a time; the others keep the last answer meanwhile
        known = _states.get(engine)
        if known is None or time.monotonic() - known.checked_at >= every:
            known = _states[engine] = _measure(engine, max_staleness)
    return known


def mark_down(engine: Engine) -> None:
    """A statement on the replica failed: read from the primary until the next check says otherwise."""
    _states[engine] = ReplicaState(False, None, time.monotonic(), 0)


def listen(engine: Engine) -> None:
    """Called once per replica engine: a connection error there falls back at once."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        if context.is_disconnect or context.connection is None:
            mark_down(engine)
            _failed.set(True)


def route(info: dict[str, Any], clause: Any) -> Engine | None:
    """The replica engine for this statement of a session whose ``info`` is given, or None: the primary."""
    if clause is None or not getattr(clause, "is_select", False):
        info["wrote"] = True  # a write or a statement we cannot judge: this session stays on the primary
        return None
    if not _wanted.get() or info.get("wrote"):
        return None
    engine = replica_engine()
    if engine is None:
        return None
    current = state(engine)
    _served.set(current)
    return engine if current.usable else None


@contextmanager
def replica_reads() -> Iterator[None]:
    token = _wanted.set(True)
    served = _served.set(None)
    try:
        yield
    finally:
        _wanted.reset(token)
        _served.reset(served)


P = ParamSpec("P")
R = TypeVar("R")


def on_replica(read: Callable[[], R]) -> R:
    """``read()`` with its SELECTs on the replica; if the replica fails on the way (it died since the last
    check), once more on the primary, so that the reader gets a page rather than an error."""
    failed = _failed.set(False)
    try:
        try:
            with replica_reads():
                return read()
        except Exception:
            if not _failed.get():
                raise
            current_app.extensions["sqlalchemy"].session.rollback()
            with replica_reads():  # the replica is marked down now: every read goes to the primary
                return read()
    finally:
        _failed.reset(failed)


def read_from_replica(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a read-mostly view: its SELECTs may go to the replica (put it under the permission check, so that
    the signed-in user is read from the primary)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return on_replica(lambda: view(*args, **kwargs))

    return wrapper


def read_source() -> dict[str, Any] | None:
    """For the page's footnote: None without a replica configured or before any read was routed; else
    whether the replica served this request and the stated maximum staleness."""
    current = _served.get()
    engine = replica_engine()
    if current is None and _wanted.get() and engine is not None:
        current = state(engine)  # a page reused from the cache ran no query: say what it would read from
    if current is None:
        return None
    return {
        "replica": current.usable,
        "max_staleness": int(current_app.config["REPLICA_MAX_STALENESS_SECONDS"]),
        "lag": None if current.lag is None else round(current.lag, 1),
    }
