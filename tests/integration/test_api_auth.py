"""API authentication: staff bearer tokens, partner API keys (CLI-managed), and no credentials."""

import pytest

from hotline.api.models import ApiKey
from hotline.extensions import db, limiter
from tests.factories import PASSWORD
from tests.integration.api_helpers import assert_error, new_key, token_for


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()


def test_token_for_staff_and_its_use(client, world):
    response = client.post("/api/v1/auth/token", json={"username": "dispatcher", "password": PASSWORD})
    assert response.status_code == 200
    data = response.get_json()
    assert data["token_type"] == "Bearer" and data["expires_in"] > 0
    listed = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {data['access_token']}"})
    assert listed.status_code == 200


@pytest.mark.parametrize(
    "credentials", [{"username": "dispatcher", "password": "wrong-pass"}, {"username": "nobody", "password": PASSWORD}]
)
def test_wrong_credentials_get_401_json(client, world, credentials):
    error = assert_error(client.post("/api/v1/auth/token", json=credentials), 401, "unauthorized")
    assert error["message"] == "用户名或密码错误。"


def test_inactive_user_gets_no_token_and_loses_the_one_held(client, world):
    headers = token_for(world.operator)
    world.operator.active = False
    db.session.commit()
    assert_error(
        client.post("/api/v1/auth/token", json={"username": "operator", "password": PASSWORD}), 401, "unauthorized"
    )
    assert_error(client.get("/api/v1/tickets", headers=headers), 401, "unauthorized")


def test_token_missing_fields_is_422(client, world):
    assert_error(
        client.post("/api/v1/auth/token", json={"username": "x"}), 422, "validation_failed", fields=["password"]
    )


def test_expired_tampered_or_stale_tokens_are_refused(app, client, world, monkeypatch):
    headers = token_for(world.dispatcher)
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    value = headers["Authorization"]
    tampered = {"Authorization": value[:-6] + ("A" if value[-6] != "A" else "B") + value[-5:]}
    assert_error(client.get("/api/v1/tickets", headers=tampered), 401, "unauthorized")
    assert_error(client.get("/api/v1/tickets", headers={"Authorization": "Basic abc"}), 401, "unauthorized")
    monkeypatch.setitem(app.config, "API_TOKEN_MAX_AGE", -1)
    assert_error(client.get("/api/v1/tickets", headers=headers), 401, "unauthorized")
    monkeypatch.setitem(app.config, "API_TOKEN_MAX_AGE", 3600)
    world.dispatcher.set_password("another-secret-9")
    db.session.commit()
    assert_error(client.get("/api/v1/tickets", headers=headers), 401, "unauthorized")


def test_no_credentials_on_staff_endpoints_is_401(client, world):
    response = client.get("/api/v1/tickets")
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.get("/api/v1/tickets/20990101000001"), 401, "unauthorized")


def test_api_key_cli_create_list_revoke(app, client, world):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["apikeys", "create", "民意网"])
    assert created.exit_code == 0, created.output
    raw = next(line for line in created.output.splitlines() if line.startswith("hk_"))
    key = db.session.execute(db.select(ApiKey)).scalar_one()
    assert key.channel == "民意网" and raw not in (key.key_hash, key.prefix) and len(key.key_hash) == 64
    assert client.get("/api/v1/tickets", headers={"X-API-Key": raw}).status_code == 200

    again = runner.invoke(args=["apikeys", "create", "民意网"])
    assert again.exit_code != 0  # one active key per channel

    listed = runner.invoke(args=["apikeys", "list"])
    assert "民意网" in listed.output and "active" in listed.output and raw not in listed.output

    assert runner.invoke(args=["apikeys", "revoke", str(key.id)]).exit_code == 0
    db.session.expire_all()
    assert "revoked" in runner.invoke(args=["apikeys", "list"]).output
    error = assert_error(client.get("/api/v1/tickets", headers={"X-API-Key": raw}), 401, "unauthorized")
    assert "API" in error["message"]
    assert runner.invoke(args=["apikeys", "revoke", "999"]).exit_code != 0


def test_unknown_api_key_is_401_not_anonymous(client, world):
    assert_error(client.post("/api/v1/tickets", json={}, headers={"X-API-Key": "hk_nope"}), 401, "unauthorized")


def test_password_guessing_is_rate_limited(client, world):
    """Per address (10 failures a minute, whatever the names) and per account (the web's lockout, issue 23.6)."""
    for n in range(10):
        assert (
            client.post("/api/v1/auth/token", json={"username": f"nobody{n}", "password": "guess-guess"}).status_code
            == 401
        )
    response = client.post("/api/v1/auth/token", json={"username": "operator", "password": PASSWORD})
    assert_error(response, 429, "rate_limited")
    assert "Retry-After" in response.headers


def test_guessing_one_account_locks_it_after_five_failures(client, world):
    for n in range(5):
        assert (
            client.post(
                "/api/v1/auth/token",
                json={"username": "operator", "password": "guess-guess"},
                environ_base={"REMOTE_ADDR": f"10.9.0.{n}"},
            ).status_code
            == 401
        )
    response = client.post(
        "/api/v1/auth/token",
        json={"username": "operator", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.1.1"},
    )
    assert_error(response, 429, "rate_limited")


def test_successful_logins_do_not_use_up_the_limit(client, world):
    for _ in range(12):
        assert client.post("/api/v1/auth/token", json={"username": "operator", "password": PASSWORD}).status_code == 200


def test_key_channels_are_separate(client, world):
    _, first = new_key("民心网")
    _, second = new_key("民意网")
    assert first != second
