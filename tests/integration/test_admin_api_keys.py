"""/admin/api-keys (issue 20.1): partner channels' keys: create (shown once), revoke, last use and request count;
audited."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from hotline.api.models import ApiKey
from hotline.api.services import usage_meter
from hotline.extensions import db
from tests.integration.test_admin_users import get, post
from tests.integration.test_sessions import audit_details, signed_in_client


@pytest.fixture
def admin(app, world):
    return signed_in_client(app, "admin")


def key_of(channel) -> ApiKey:
    db.session.expire_all()
    return db.session.execute(sa.select(ApiKey).filter_by(channel=channel)).scalar_one()


def create(client, channel) -> str:
    response = post(client, "/admin/api-keys", data={"channel": channel})
    assert response.status_code == 200, response.status_code
    return re.search(r'data-testid="api-key">(hk_[^<]+)<', response.get_data(as_text=True)).group(1)


def test_a_created_key_is_shown_once_works_and_is_audited(client, admin, world):
    raw = create(admin, "民意网")
    assert key_of("民意网").prefix == raw[:10]
    assert client.get("/api/v1/tickets", headers={"X-API-Key": raw}).status_code == 200
    page = get(admin, "/admin/api-keys").get_data(as_text=True)
    assert "民意网" in page and raw not in page and raw[:10] in page
    assert (
        "apikey.create",
        f"api key {key_of('民意网').id}",
        {"channel": "民意网", "kind": "partner"},
    ) in audit_details()


def test_a_second_active_key_for_a_channel_or_a_blank_name_is_refused(admin, world):
    create(admin, "民心网")
    for channel, message in (("民心网", "已有有效密钥"), ("", "")):
        response = post(admin, "/admin/api-keys", data={"channel": channel})
        assert response.status_code == 400
        assert 'class="invalid-feedback' in response.get_data(as_text=True)
        assert message in response.get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count()).select_from(ApiKey)).scalar() == 1


def test_revoking_stops_the_key_at_once(client, admin, world):
    raw = create(admin, "民心网")
    key = key_of("民心网")
    assert post(admin, f"/admin/api-keys/{key.id}/revoke").status_code == 302
    assert key_of("民心网").revoked_at is not None
    assert client.get("/api/v1/tickets", headers={"X-API-Key": raw}).status_code == 401
    assert ("apikey.revoke", f"api key {key.id}", {"channel": "民心网"}) in audit_details()
    assert "已吊销" in get(admin, "/admin/api-keys").get_data(as_text=True)
    assert post(admin, "/admin/api-keys/999999/revoke").status_code == 404


def test_last_use_and_request_count_are_shown(app, client, admin, world, monkeypatch):
    raw = create(admin, "民心网")
    monkeypatch.setitem(
        app.config, "API_KEY_USAGE_FLUSH_SECONDS", 3600
    )  # counted in the process, written when the page is read
    for _ in range(3):
        assert client.get("/api/v1/tickets", headers={"X-API-Key": raw}).status_code == 200
    assert client.get("/api/v1/tickets", headers={"X-API-Key": raw + "x"}).status_code == 401  # not counted
    page = get(admin, "/admin/api-keys").get_data(as_text=True)
    row = page[page.index(f'id="api-key-{key_of("民心网").id}"') :]
    row = row[: row.index("</tr>")]
    assert '<td class="text-end">3</td>' in row and "从未" not in row
    key = key_of("民心网")
    assert key.request_count == 3 and key.last_used_at is not None


def test_usage_survives_a_failed_write(app, world, monkeypatch):
    """A database blip while writing the counts keeps them for the next write."""
    from hotline.api.services import create_api_key

    key, _raw = create_api_key("民心网")
    db.session.commit()
    monkeypatch.setitem(app.config, "API_KEY_USAGE_FLUSH_SECONDS", 3600)
    usage_meter.count(key.id)
    usage_meter.count(key.id)
    real_begin = db.engine.begin

    def broken():
        raise sa.exc.OperationalError("UPDATE", {}, Exception("server closed the connection"))

    monkeypatch.setattr(db.engine, "begin", broken)
    usage_meter.flush()
    monkeypatch.setattr(db.engine, "begin", real_begin)
    usage_meter.count(key.id)
    usage_meter.flush()
    assert key_of("民心网").request_count == 3


def test_the_old_address_redirects(admin, world):
    response = get(admin, "/admin/apikeys")
    assert response.status_code == 301 and response.headers["Location"].endswith("/admin/api-keys")
