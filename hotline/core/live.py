"""Figures a process may reuse for a few seconds: counts over hundreds of thousands of rows that every
page view would otherwise repeat (the dashboard's open tickets, the ticket list's per-status counts), and
work a busy page would otherwise redo on every view (the dispatch desk's duplicate hints)."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
_MAX_KEYS = 2000  # per process; expired entries are dropped when there are more


def reused(name: str, key: Hashable, seconds: float, compute: Callable[[], T]) -> T:
    """``compute()``, or what it returned for the same ``name`` and ``key`` less than ``seconds`` ago in
    this process. ``seconds`` ≤ 0 always computes (tests)."""
    return reused_each(name, [key], seconds, lambda missing: {key: compute()})[key]


def reused_each(name: str, keys: Iterable[K], seconds: float, compute: Callable[[list[K]], dict[K, T]]) -> dict[K, T]:
    """``reused`` for many keys at once: ``compute(missing)`` gives the values of the keys this process does not
    hold from less than ``seconds`` ago, in one go (one query for a page's missing rows, say)."""
    keys = list(keys)
    if seconds <= 0:
        return compute(keys)
    held = current_app.extensions.setdefault("hotline_live", {})
    now = time.monotonic()
    values: dict[K, T] = {}
    missing = []
    for key in keys:
        entry = held.get((name, key))
        if entry is not None and now - entry[0] < seconds:
            values[key] = entry[1]
        else:
            missing.append(key)
    if not missing:
        return values
    computed = compute(missing)
    if len(held) + len(computed) > _MAX_KEYS:
        for stale in [k for k, (at, _) in held.items() if now - at >= seconds]:
            del held[stale]
    for key, value in computed.items():
        if len(held) < _MAX_KEYS:  # full of fresh entries (many distinct keys at once): serve, do not keep
            held[(name, key)] = (now, value)
    values.update(computed)
    return values
