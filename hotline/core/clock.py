"""The one source of "now". Times are stored as naive UTC and shown in Asia/Shanghai.

Services read the time here so that the demo seeder and the tests can move it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import overload
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_frozen: datetime | None = None


def utcnow() -> datetime:
    """Naive UTC, as stored in the database."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(tzinfo=None)


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Make ``utcnow()`` return ``moment`` (naive UTC) inside the block."""
    global _frozen
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous


@overload
def to_local(moment: datetime) -> datetime: ...
@overload
def to_local(moment: None) -> None: ...
def to_local(moment: datetime | None) -> datetime | None:
    """A stored moment (naive UTC) in Asia/Shanghai; None stays None."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_TZ)


def to_utc_naive(moment: datetime) -> datetime:
    """An aware datetime (any zone) as naive UTC; naive input is taken as Asia/Shanghai."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC).replace(tzinfo=None)
