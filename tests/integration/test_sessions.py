"""Revocable sessions (issue 28.2): a session cookie, a remember cookie or an API token issued before a
password change, deactivation, a role or unit change or "sign out everywhere" stops working at once."""

from __future__ import annotations

from datetime import UTC

import pytest
import sqlalchemy as sa
from flask import g

from hotline.accounts.models import Role
from hotline.accounts.services import (
    deactivate_user,
    parse_session_identity,
    revoke_sessions,
    set_password,
    set_user_roles,
    set_user_unit,
)
from hotline.core.audit import AuditEntry
from hotline.extensions import db
from tests.factories import PASSWORD
from tests.integration.api_helpers import assert_error, token_for


def signed_in_client(app, username="district_handler", remember=False):
    client = app.test_client()
    g.pop("_login_user", None)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, **({"remember": "y"} if remember else {})}
    )
    assert response.status_code == 302
    return client


def copy_of(app, client, *names):
    """A fresh client holding copies of ``client``'s cookies, as a thief or a second browser would."""
    other = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        other.set_cookie(name, cookie.value)
    return other


def audit_details() -> list[tuple]:
    db.session.expire_all()
    entries = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars()
    return [(e.action, e.target, e.detail_data) for e in entries]


def page_status(client, path="/"):
    g.pop("_login_user", None)  # the test's app context would otherwise keep the previous request's user
    return client.get(path).status_code


def _change_password(world):
    set_password(world.district_handler, "a-brand-new-secret-7")


def _deactivate(world):
    deactivate_user(world.district_handler, actor=world.admin)


def _change_role(world):
    set_user_roles(world.district_handler, [(Role.HANDLER, world.street)], actor=world.admin)


def _change_unit(world):
    set_user_unit(world.district_handler, world.street, actor=world.admin)


def _revoke(world):
    revoke_sessions(world.district_handler)


EVENTS = {
    "password change": _change_password,
    "deactivation": _deactivate,
    "role change": _change_role,
    "unit change": _change_unit,
    "sign out everywhere": _revoke,
}


@pytest.mark.parametrize("event", EVENTS)
def test_a_copied_session_cookie_stops_working(app, world, event):
    client = signed_in_client(app)
    copy = copy_of(app, client, "session")
    assert page_status(copy) == 200  # the copy works while nothing has happened
    EVENTS[event](world)
    db.session.commit()
    assert page_status(copy) == 302 and page_status(client) == 302  # both sent to the sign-in page


@pytest.mark.parametrize("event", EVENTS)
def test_a_copied_remember_cookie_stops_working(app, world, event):
    client = signed_in_client(app, remember=True)
    thief = copy_of(app, client, "remember_token")  # no session cookie: the remember cookie alone signs in
    assert page_status(thief) == 200
    thief = copy_of(app, client, "remember_token")
    EVENTS[event](world)
    db.session.commit()
    assert page_status(thief) == 302


@pytest.mark.parametrize("event", EVENTS)
def test_an_api_token_stops_working(app, client, world, event):
    headers = token_for(world.district_handler)
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    EVENTS[event](world)
    db.session.commit()
    assert_error(client.get("/api/v1/tickets", headers=headers), 401, "unauthorized")


def test_the_set_password_command_ends_sessions(app, world):
    client = signed_in_client(app)
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "district_handler", "--password", "a-brand-new-secret-7"]
    )
    assert result.exit_code == 0, result.output
    assert page_status(client) == 302


def test_other_users_keep_their_sessions(app, world):
    mine, theirs = signed_in_client(app), signed_in_client(app, "street_handler")
    _change_password(world)
    db.session.commit()
    assert page_status(mine) == 302 and page_status(theirs) == 200


def test_a_session_from_before_session_versions_is_over(app, world):
    """An identity without a version (a cookie issued before this change) or with a forged one loads nobody."""
    user = world.district_handler
    loader = app.login_manager._user_callback
    assert loader(user.get_id()).id == user.id
    assert loader(str(user.id)) is None
    assert loader(f"{user.id}:{user.session_version + 1}") is None
    assert parse_session_identity("1:x") is None and parse_session_identity(":1") is None
    assert parse_session_identity("7:3") == (7, 3)


def test_role_and_unit_changes_are_audited_with_before_and_after(app, world):
    _change_role(world)
    _change_unit(world)
    db.session.commit()
    assert audit_details() == [
        ("user.set_roles", "user district_handler", {"roles": [["handler@d1"], ["handler@d1-s1"]]}),
        ("user.set_unit", "user district_handler", {"unit": ["d1", "d1-s1"]}),
    ]


def test_an_unchanged_role_or_unit_keeps_sessions(app, world):
    client = signed_in_client(app)
    set_user_roles(world.district_handler, [(Role.HANDLER, world.district)], actor=world.admin)
    set_user_unit(world.district_handler, world.district, actor=world.admin)
    db.session.commit()
    assert page_status(client) == 200


# --- sign-out (issue 28.1) -------------------------------------------------------------------------------------


def sign_out(client):
    g.pop("_login_user", None)
    return client.post("/logout")


@pytest.mark.parametrize("remember", [False, True], ids=["session only", "remember me"])
def test_sign_out_signs_out_this_browser_and_every_copy(app, world, remember):
    client = signed_in_client(app, remember=remember)
    names = ["session", "remember_token"] if remember else ["session"]
    copies = [copy_of(app, client, name) for name in names]
    assert all(page_status(copy) == 200 for copy in copies)
    copies = [copy_of(app, client, name) for name in names]
    response = sign_out(client)
    assert response.status_code == 302
    if remember:  # the browser is told to delete the remember cookie
        assert any(h.startswith("remember_token=;") for h in response.headers.getlist("Set-Cookie"))
        assert client.get_cookie("remember_token") is None
    assert page_status(client) == 302
    assert [page_status(copy) for copy in copies] == [302] * len(copies)
    assert signed_in_client(app).get("/").status_code == 200  # signing in again works


def test_the_remember_cookie_is_same_site_and_lasts_a_fortnight(app, world):
    client = app.test_client()
    g.pop("_login_user", None)
    response = client.post("/login", data={"username": "district_handler", "password": PASSWORD, "remember": "y"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    expires = client.get_cookie("remember_token").expires
    from datetime import datetime

    days = (expires - datetime.now(UTC)).days
    assert 13 <= days <= 14
