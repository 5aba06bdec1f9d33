"""Figures a process may reuse for a few seconds: counts over hundreds of thousands of rows that every
page view would otherwise repeat (the dashboard's open tickets, the ticket list's per-status counts)."""
from __future__ import annotations

import time
from typing import Callable, Hashable, TypeVar

from flask import current_app

T = TypeVar("T")
_MAX_KEYS = 2000  # per process; expired entries are dropped when there are more


def reused(name: str, key: Hashable, seconds: float, compute: Callable[[], T]) -> T:
    """``compute()``, or what it returned for the same ``name`` and ``key`` less than ``seconds`` ago in
    this process. ``seconds`` ≤ 0 always computes (tests)."""
    if seconds <= 0:
        return compute()
    held = current_app.extensions.setdefault("hotline_live", {})
    now = time.monotonic()
    entry = held.get((name, key))
    if entry is not None and now - entry[0] < seconds:
        return entry[1]
    value = compute()
    if len(held) >= _MAX_KEYS:
        for stale in [k for k, (at, _) in held.items() if now - at >= seconds]:
            del held[stale]
    if len(held) < _MAX_KEYS:  # full of fresh entries (many distinct keys at once): serve, do not keep
        held[(name, key)] = (now, value)
    return value
