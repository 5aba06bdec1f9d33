"""``/healthz`` and ``/readyz``: the probes a load balancer or monitoring calls, answering within 2 s even when
the database or the broker hangs."""

import socket
import threading
import time

import pytest
import redis as redis_lib

from config import celery_settings
from hotline import create_app
from tests.conftest import REDIS_URL, service_unavailable


class HangingServer:
    """Accepts TCP connections and never answers: a server that hangs."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.stopped = True
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def hanging():
    server = HangingServer()
    yield server.port
    server.close()


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _probe(app):
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    return response, time.monotonic() - started


def _app(tmp_path, database=None, broker="memory://"):
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database or f"sqlite:///{tmp_path / 'h.db'}",
        CELERY=celery_settings(broker, "cache+memory://"),
    )


def test_healthz_answers_without_the_database(tmp_path, closed_port):
    app = _app(tmp_path, database=f"postgresql+psycopg://x@127.0.0.1:{closed_port}/x")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_ok_on_each_back_end(app):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_readyz_ok_with_the_embedded_broker(tmp_path):
    response, _ = _probe(_app(tmp_path, broker=f"sqla+sqlite:///{tmp_path / 'broker.db'}"))
    assert response.status_code == 200 and response.get_json()["broker"] == "ok"


def test_readyz_ok_with_redis(tmp_path):
    try:
        redis_lib.Redis.from_url(REDIS_URL).ping()
    except redis_lib.RedisError as exc:
        service_unavailable("Redis", exc)
    response, _ = _probe(_app(tmp_path, broker=REDIS_URL))
    assert response.status_code == 200 and response.get_json()["broker"] == "ok"


def test_readyz_names_an_unreachable_database(tmp_path, closed_port, caplog):
    response, elapsed = _probe(_app(tmp_path, database=f"postgresql+psycopg://x@127.0.0.1:{closed_port}/x"))
    assert response.status_code == 503 and elapsed < 2
    assert response.get_json() == {"status": "error", "database": "error", "broker": "ok"}
    assert "readyz: database check failed" in caplog.text


def test_readyz_answers_within_2_seconds_while_the_database_hangs(tmp_path, hanging):
    app = _app(tmp_path, database=f"postgresql+psycopg://x@127.0.0.1:{hanging}/x")
    response, elapsed = _probe(app)
    assert elapsed < 2, elapsed
    assert response.status_code == 503 and response.get_json()["database"] == "error"
    assert response.get_json()["broker"] == "ok"
    again, elapsed = _probe(app)  # the first check still hangs: not started twice, answered at once
    assert again.status_code == 503 and elapsed < 0.5


def test_readyz_names_a_broker_that_is_down(tmp_path, closed_port):
    response, elapsed = _probe(_app(tmp_path, broker=f"redis://127.0.0.1:{closed_port}/0"))
    assert response.status_code == 503 and elapsed < 2
    assert response.get_json() == {"status": "error", "database": "ok", "broker": "error"}


def test_readyz_answers_within_2_seconds_while_the_broker_hangs(tmp_path, hanging):
    response, elapsed = _probe(_app(tmp_path, broker=f"redis://127.0.0.1:{hanging}/0"))
    assert elapsed < 2, elapsed
    assert response.status_code == 503 and response.get_json()["broker"] == "error"
