"""How a screen pop reaches one operator's open consoles: Redis pub/sub across web workers and hosts
(``CTI_BUS_URL``, by default ``REDIS_URL``), or, in the embedded default without Redis, within the process.

A message names only the call (``{"call_id": …}``, with ``"event": "wrap_up"`` when it is a call to wrap up): the
console then loads the caller or its wrap-up list through a scoped page, so no phone number passes through Redis.
A message to ``None`` reaches every operator's console (a call abandoned in the queue belongs to nobody)."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis
from flask import Flask, current_app

log = logging.getLogger(__name__)
Receive = Callable[[float], dict[str, Any] | None]  # wait up to N seconds for the next message
EVERY_OPERATOR = None  # the recipient of a message for all operators' consoles


class LocalBus:
    """One process's subscribers (``make run``, tests): a queue per open console."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[int | None, set[queue.Queue[dict[str, Any]]]] = {}

    def publish(self, user_id: int | None, message: dict[str, Any]) -> None:
        with self._lock:
            for q in self._queues.get(user_id, ()):
                q.put(message)

    @contextmanager
    def subscribe(self, user_id: int) -> Iterator[Receive]:
        q: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            for key in (user_id, EVERY_OPERATOR):
                self._queues.setdefault(key, set()).add(q)

        def receive(timeout: float) -> dict[str, Any] | None:
            try:
                return q.get(timeout=timeout)
            except queue.Empty:
                return None

        try:
            yield receive
        finally:
            with self._lock:
                for key in (user_id, EVERY_OPERATOR):
                    self._queues.get(key, set()).discard(q)


class RedisBus:
    """A channel per operator, ``<prefix>:cti:operator:<id>``, and one for all, ``<prefix>:cti:operators``; every
    web worker's stream listens on its operator's and on the shared one."""

    def __init__(self, url: str, prefix: str) -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
        self._prefix = prefix

    def _channel(self, user_id: int | None) -> str:
        return (
            f"{self._prefix}:cti:operators" if user_id is EVERY_OPERATOR else f"{self._prefix}:cti:operator:{user_id}"
        )

    def publish(self, user_id: int | None, message: dict[str, Any]) -> None:
        try:
            self._client.publish(self._channel(user_id), json.dumps(message))
        except redis.RedisError:
            # The call is stored; the operator still finds it under "calls without a ticket" on the console.
            log.warning("screen pop for user %s not delivered: Redis unavailable", user_id, exc_info=True)

    @contextmanager
    def subscribe(self, user_id: int) -> Iterator[Receive]:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        pubsub.subscribe(self._channel(user_id), self._channel(EVERY_OPERATOR))

        def receive(timeout: float) -> dict[str, Any] | None:
            # The two subscriptions' confirmations come first: they are skipped, not taken for "nothing yet".
            ends = time.monotonic() + timeout
            while (left := ends - time.monotonic()) > 0:
                message = pubsub.get_message(timeout=left)
                if message and message.get("type") == "message":
                    return dict(json.loads(message["data"]))
            return None

        try:
            yield receive
        finally:
            pubsub.close()


Bus = LocalBus | RedisBus


def init_app(app: Flask) -> None:
    url = app.config.get("CTI_BUS_URL")
    prefix = app.config.get("RATELIMIT_KEY_PREFIX") or "hotline"
    app.extensions["hotline_cti_bus"] = RedisBus(url, prefix) if url else LocalBus()


def bus() -> Bus:
    found: Bus = current_app.extensions["hotline_cti_bus"]
    return found
