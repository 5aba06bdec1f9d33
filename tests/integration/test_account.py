"""The signed-in user's own account: /account, /account/password, sign out everywhere (issues 20.1, 28.2)."""

from __future__ import annotations

from hotline.accounts.services import authenticate
from hotline.extensions import db
from tests.factories import PASSWORD
from tests.integration.api_helpers import assert_error, token_for
from tests.integration.test_sessions import audit_details, copy_of, page_status, signed_in_client

NEW = "lake-side-lantern-42"


def change(client, current=PASSWORD, new=NEW, confirm=None):
    page_status(client)  # forget the previous request's user
    return client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "confirm": confirm if confirm is not None else new},
    )


def test_the_account_page_shows_who_is_signed_in(app, world):
    client = signed_in_client(app)
    html = client.get("/account").get_data(as_text=True)
    assert "district_handler" in html and "东湖区" in html and 'data-testid="sign-out-everywhere"' in html


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, world):
    client = signed_in_client(app)
    other = copy_of(app, client, "session")
    response = change(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    assert page_status(client) == 200 and page_status(other) == 302
    db.session.expire_all()
    assert authenticate("district_handler", NEW) is not None and authenticate("district_handler", PASSWORD) is None
    assert audit_details()[-1] == ("user.change_password", "user district_handler", {})


def test_changing_the_password_keeps_a_remembered_session_signed_in(app, world):
    client = signed_in_client(app, remember=True)
    assert change(client).status_code == 302
    fresh = copy_of(app, client, "session", "remember_token")
    assert page_status(fresh) == 200


def test_the_current_password_is_required(app, world):
    client = signed_in_client(app)
    response = change(client, current="not-my-password")
    assert response.status_code == 400 and "当前密码不正确" in response.get_data(as_text=True)
    db.session.expire_all()
    assert authenticate("district_handler", PASSWORD) is not None and audit_details() == []


def test_a_weak_or_mistyped_new_password_is_refused_and_changes_nothing(app, world):
    client = signed_in_client(app)
    weak = change(client, new="12345678901")
    assert weak.status_code == 400 and "数字" in weak.get_data(as_text=True)
    mistyped = change(client, confirm=NEW + "x")
    assert mistyped.status_code == 400 and "两次输入的新密码不一致" in mistyped.get_data(as_text=True)
    same = change(client, new=PASSWORD)
    assert same.status_code == 400
    db.session.expire_all()
    assert authenticate("district_handler", PASSWORD) is not None
    assert page_status(client) == 200  # still signed in: nothing was revoked


def test_sign_out_everywhere_ends_every_session_and_token(app, world):
    client = signed_in_client(app, remember=True)
    elsewhere = signed_in_client(app)
    stolen = copy_of(app, client, "remember_token")
    headers = token_for(world.district_handler)
    page_status(client)
    response = client.post("/account/sign-out-everywhere")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert page_status(client) == 302 and page_status(elsewhere) == 302 and page_status(stolen) == 302
    assert_error(client.get("/api/v1/tickets", headers=headers), 401, "unauthorized")
    assert audit_details()[-1][0] == "user.sign_out_everywhere"
    assert signed_in_client(app) is not None  # signing in again works


def test_a_user_who_must_change_the_password_is_sent_to_the_form(app, world):
    world.district_handler.must_change_password = True
    db.session.commit()
    client = signed_in_client(app)
    for path in ("/", "/account", "/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/password"), path
    page_status(client)
    assert client.get("/account/password").status_code == 200
    assert change(client).status_code == 302
    db.session.expire_all()
    assert not world.district_handler.must_change_password
    assert page_status(client) == 200
