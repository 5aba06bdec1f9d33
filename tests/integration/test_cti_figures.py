"""The dashboard's telephone figures (issue 25.5) on a small known set of calls: received, answered, abandoned,
the abandonment rate, median and P90 time to answer, with and without a ticket, per Asia/Shanghai day."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from hotline.core.clock import to_utc_naive
from hotline.cti.models import Call
from hotline.cti.stats import call_figures, call_figures_for, p90
from hotline.extensions import db
from tests.integration.test_cti import as_own
from tests.integration.test_cti_wrap_up import signed_in


def local(text: str) -> datetime:
    return to_utc_naive(datetime.fromisoformat(text))


def add_call(call_id, ringing=None, answered=None, ended=None, ticket_id=None):
    first = local(ringing or answered)
    db.session.add(
        Call(
            call_id=call_id,
            caller="13800138000",
            state="ended" if ended else "answered" if answered else "ringing",
            ringing_at=local(ringing) if ringing else None,
            answered_at=local(answered) if answered else None,
            ended_at=local(ended) if ended else None,
            ticket_id=ticket_id,
            created_at=first,
        )
    )


@pytest.fixture
def known_calls(app, world):
    """Eight calls on 1–2 December 2026 (Asia/Shanghai) and one on each side of the period."""
    ticket = world.ticket_in("in_progress")
    add_call("A1", "2026-12-01T09:00:00", "2026-12-01T09:00:05", "2026-12-01T09:03:00", ticket_id=ticket.id)
    add_call("A2", "2026-12-01T09:10:00", "2026-12-01T09:10:10", "2026-12-01T09:12:00")
    add_call("A3", "2026-12-01T09:20:00", "2026-12-01T09:20:20", "2026-12-01T09:22:00")
    add_call("A4", "2026-12-02T23:30:00", "2026-12-02T23:31:00", "2026-12-02T23:40:00")  # 15:30 UTC: still 2 Dec
    add_call("A5", None, "2026-12-02T10:00:00", "2026-12-02T10:05:00")  # reported from its answer: no wait known
    add_call("B1", "2026-12-01T11:00:00", None, "2026-12-01T11:01:00")  # abandoned
    add_call("B2", "2026-12-02T11:00:00", None, "2026-12-02T11:00:30")  # abandoned
    add_call("R1", "2026-12-02T12:00:00")  # ringing still: received, neither answered nor abandoned
    add_call("X1", "2026-12-03T00:30:00", "2026-12-03T00:30:03", "2026-12-03T00:32:00")  # 2 Dec 16:30 UTC: next day
    add_call("X2", "2026-11-30T23:59:00", None, "2026-12-01T00:00:10")  # rang the day before
    db.session.commit()
    return world


def test_the_call_figures_of_a_known_set(known_calls):
    figures = call_figures(date(2026, 12, 1), date(2026, 12, 2))
    assert (figures.received, figures.answered, figures.abandoned) == (8, 5, 2)
    assert figures.abandonment_rate == 0.25
    assert figures.median_answer_seconds == 15  # waits 5, 10, 20, 60 s
    assert figures.p90_answer_seconds == 60
    assert (figures.with_ticket, figures.without_ticket) == (1, 7)
    assert figures.days == [(date(2026, 12, 1), 4, 3, 1), (date(2026, 12, 2), 4, 2, 1)]
    empty = call_figures(date(2026, 11, 1), date(2026, 11, 2))
    assert empty.received == 0 and empty.abandonment_rate is None and empty.median_answer_seconds is None
    # A district takes no calls: its dashboard has no call figures.
    assert call_figures_for(known_calls.district, date(2026, 12, 1), date(2026, 12, 2)) is None
    assert call_figures_for(known_calls.city, date(2026, 12, 1), date(2026, 12, 2)).received == 8


def test_p90_is_the_nearest_rank():
    assert p90([]) is None and p90([7.0]) == 7.0
    assert p90([float(n) for n in range(1, 11)]) == 9.0 and p90([float(n) for n in range(1, 12)]) == 10.0


def test_the_dashboard_shows_the_call_figures(app, known_calls):
    supervisor = signed_in(app, "supervisor")
    page = as_own(supervisor.get, "/dashboard/?from=2026-12-01&to=2026-12-02").get_data(as_text=True)
    figures = dict(re.findall(r'data-call-figure="([a-z_0-9]+)">([^<]*)<', page))
    assert figures == {
        "received": "8",
        "answered": "5",
        "abandoned": "2",
        "abandonment_rate": "25.0%",
        "median_answer": "15",
        "p90_answer": "60",
        "with_ticket": "1",
        "without_ticket": "7",
    }
    assert 'id="chart-data-calls"' in page
