"""Fixtures shared by the integration tests of one integration (the SMS provider's fake)."""

from __future__ import annotations

import pytest

from tests.integration.sms_helpers import FakeAliyun, aliyun_config


@pytest.fixture
def aliyun(app, monkeypatch):
    """The app configured for Alibaba Cloud SMS, talking to a fake provider on loopback."""
    fake = FakeAliyun()
    for name, value in aliyun_config(fake.url).items():
        monkeypatch.setitem(app.config, name, value)
    yield fake
    fake.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An empty, unmigrated database on each back end (tests that run the migrations themselves)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrate.db'}"
    return request.getfixturevalue("pg_databases").create("migrate")
