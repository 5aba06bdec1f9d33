"""hotline.core.live: a figure reused for a few seconds per process, and the store kept bounded."""

from flask import Flask

from hotline.core import live


def test_reused_within_the_window_recomputed_after_and_never_kept_at_zero(monkeypatch):
    app = Flask(__name__)
    clock = [100.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    with app.app_context():
        assert live.reused("n", "k", 10, compute) == 1
        clock[0] += 9
        assert live.reused("n", "k", 10, compute) == 1 and live.reused("n", "other", 10, compute) == 2
        clock[0] += 2
        assert live.reused("n", "k", 10, compute) == 3
        assert live.reused("n", "k", 0, compute) == 4 and live.reused("n", "k", 10, compute) == 3


def test_expired_entries_are_dropped_when_the_store_is_full(monkeypatch):
    app = Flask(__name__)
    clock = [0.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(live, "_MAX_KEYS", 5)
    with app.app_context():
        for key in range(5):
            live.reused("n", key, 10, lambda key=key: key)
        clock[0] = 20.0  # all five expired
        live.reused("n", "fresh", 10, lambda: "x")
        assert list(app.extensions["hotline_live"]) == [("n", "fresh")]


def test_a_store_full_of_fresh_entries_serves_new_keys_without_keeping_them(monkeypatch):
    app = Flask(__name__)
    monkeypatch.setattr(live.time, "monotonic", lambda: 0.0)
    monkeypatch.setattr(live, "_MAX_KEYS", 3)
    with app.app_context():
        for key in range(3):
            live.reused("n", key, 10, lambda key=key: key)
        assert live.reused("n", "new", 10, lambda: "computed") == "computed"
        assert len(app.extensions["hotline_live"]) == 3 and ("n", "new") not in app.extensions["hotline_live"]
