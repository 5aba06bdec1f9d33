"""/admin/users (issue 20.1): list, search and filters, create, edit, deactivate and reactivate, reset a
password, unlock; every change audited with before -> after; sessions and tokens end at once."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import g

from hotline.accounts.models import User
from hotline.accounts.services import authenticate, get_user
from hotline.extensions import db
from tests.factories import PASSWORD
from tests.integration.api_helpers import assert_error, token_for
from tests.integration.test_sessions import audit_details, page_status, signed_in_client


@pytest.fixture
def admin(app, world):
    return signed_in_client(app, "admin")


def get(client, path):
    g.pop("_login_user", None)
    return client.get(path)


def post(client, path, data=None):
    g.pop("_login_user", None)
    return client.post(path, data=data or {})


def listed(client, query="") -> list[str]:
    html = get(client, f"/admin/users{query}").get_data(as_text=True)
    return re.findall(r'<td[^>]*><a href="/admin/users/\d+">([^<]+)</a></td>', html)


def shown_password(response) -> str:
    return re.search(r'data-testid="temporary-password">([^<]+)<', response.get_data(as_text=True)).group(1)


def test_the_list_searches_and_filters(admin, world):
    assert len(listed(admin)) == 9
    assert listed(admin, "?q=handler") == ["department_handler", "district_handler", "street_handler"]
    assert listed(admin, "?q=%25") == []  # a LIKE wildcard is searched for literally
    assert listed(admin, f"?unit={world.district.id}") == ["department_handler", "district_handler", "street_handler"]
    assert listed(admin, "?role=dispatcher") == ["dispatcher"]
    world.outsider.active = False
    db.session.commit()
    assert listed(admin, "?active=0") == ["outsider"]
    assert "outsider" not in listed(admin, "?active=1")
    assert listed(admin, "?role=nonsense&active=maybe&unit=abc") == listed(admin)  # unknown filters are ignored


def test_the_list_is_paginated_keeping_the_filters(admin, app, world):
    from hotline.admin import views

    original, views.USERS_PER_PAGE = views.USERS_PER_PAGE, 2
    try:
        assert len(listed(admin)) == 2 and len(listed(admin, "?page=5")) == 1
        html = get(admin, "/admin/users?q=handler").get_data(as_text=True)
        assert re.search(r'href="/admin/users\?(?=[^"]*page=2)(?=[^"]*q=handler)[^"]*"', html)
        assert listed(admin, "?q=handler&page=2") == ["street_handler"]
    finally:
        views.USERS_PER_PAGE = original


def test_an_admin_creates_a_user_who_must_choose_a_password(app, admin, world):
    response = post(
        admin,
        "/admin/users/new",
        data={
            "username": "wangfang",
            "display_name": "王芳",
            "phone": "13800001111",
            "org_unit_id": world.street.id,
            "roles": ["handler"],
            "scope_unit_id": "",
        },
    )
    assert response.status_code == 200
    password = shown_password(response)
    user = get_user("wangfang")
    assert user.org_unit_id == world.street.id and user.must_change_password
    assert [(r.role, r.scope_unit_id) for r in user.roles] == [("handler", world.street.id)]
    assert authenticate("wangfang", password) is not None
    assert "wangfang" not in str(admin.get_cookie("session").value)  # not flashed into the cookie
    action, target, detail = audit_details()[-1]
    assert (action, target) == ("user.create", "user wangfang")
    assert detail == {"display_name": "王芳", "roles": ["handler@d1-s1"], "unit": "d1-s1"}
    # the new user signs in and is sent to choose a password first
    client = app.test_client()
    g.pop("_login_user", None)
    assert client.post("/login", data={"username": "wangfang", "password": password}).status_code == 302
    assert get(client, "/").headers["Location"].endswith("/account/password")


def test_a_chosen_temporary_password_follows_the_rules(admin, world):
    weak = post(
        admin,
        "/admin/users/new",
        data={
            "username": "zhao",
            "display_name": "赵",
            "org_unit_id": world.street.id,
            "roles": ["handler"],
            "password": "12345678",
        },
    )
    assert weak.status_code == 400 and get_user("zhao") is None
    taken = post(
        admin,
        "/admin/users/new",
        data={"username": "operator", "display_name": "x", "org_unit_id": world.street.id, "roles": ["handler"]},
    )
    assert taken.status_code == 400 and "已被占用" in taken.get_data(as_text=True)
    no_role = post(
        admin, "/admin/users/new", data={"username": "qian", "display_name": "钱", "org_unit_id": world.street.id}
    )
    assert no_role.status_code == 400 and get_user("qian") is None
    assert [a for a, _t, _d in audit_details() if a == "user.create"] == []


def test_an_inactive_unit_cannot_be_chosen(admin, world):
    world.other_district.active = False
    db.session.commit()
    response = post(
        admin,
        "/admin/users/new",
        data={"username": "sun", "display_name": "孙", "org_unit_id": world.other_district.id, "roles": ["handler"]},
    )
    assert response.status_code == 400 and get_user("sun") is None


def test_editing_roles_and_unit_is_audited_and_ends_sessions(app, admin, world):
    handler = signed_in_client(app, "district_handler")
    headers = token_for(world.district_handler)
    response = post(
        admin,
        f"/admin/users/{world.district_handler.id}",
        data={
            "display_name": "东湖区承办人",
            "org_unit_id": world.street.id,
            "roles": ["handler", "supervisor"],
            "scope_unit_id": world.district.id,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, world.district_handler.id)
    assert user.org_unit_id == world.street.id and user.display_name == "东湖区承办人"
    assert sorted((r.role, r.scope_unit_id) for r in user.roles) == [
        ("handler", world.district.id),
        ("supervisor", world.district.id),
    ]
    assert [d[:2] for d in audit_details()] == [
        ("user.update", "user district_handler"),
        ("user.set_unit", "user district_handler"),
        ("user.set_roles", "user district_handler"),
    ]
    assert audit_details()[0][2] == {"display_name": ["district_handler", "东湖区承办人"]}
    assert audit_details()[2][2] == {"roles": [["handler@d1"], ["handler@d1", "supervisor@d1"]]}
    assert page_status(handler) == 302
    assert_error(handler.get("/api/v1/tickets", headers=headers), 401, "unauthorized")


def test_the_edit_form_shows_the_current_roles(admin, world):
    html = get(admin, f"/admin/users/{world.district_handler.id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="handler"|<input[^>]*value="handler"[^>]*checked', html)
    assert not re.search(r'<input[^>]*value="admin"[^>]*checked', html)


def test_an_admin_cannot_lock_themselves_out(admin, world):
    own = f"/admin/users/{world.admin.id}"
    response = post(
        admin,
        own,
        data={
            "display_name": "admin",
            "org_unit_id": world.hotline.id,
            "roles": ["operator"],
            "scope_unit_id": world.city.id,
        },
    )
    assert response.status_code == 400 and "不能移除自己的管理员角色" in response.get_data(as_text=True)
    assert post(admin, own + "/deactivate").status_code == 302
    db.session.expire_all()
    assert get_user("admin").active and get_user("admin").has_role("admin")
    assert audit_details() == []


def test_deactivate_and_reactivate(app, admin, world):
    victim = signed_in_client(app, "district_handler")
    headers = token_for(world.district_handler)
    path = f"/admin/users/{world.district_handler.id}"
    assert post(admin, path + "/deactivate").status_code == 302
    assert page_status(victim) == 302
    assert_error(victim.get("/api/v1/tickets", headers=headers), 401, "unauthorized")
    g.pop("_login_user", None)
    assert (
        app.test_client().post("/login", data={"username": "district_handler", "password": PASSWORD}).status_code == 200
    )  # refused
    again = post(admin, path + "/deactivate")
    assert "已是停用状态" in get(admin, again.headers["Location"]).get_data(as_text=True)
    assert post(admin, path + "/activate").status_code == 302
    assert signed_in_client(app, "district_handler") is not None
    assert [d[0] for d in audit_details()] == ["user.deactivate", "user.activate"]
    assert audit_details()[0][2] == {"active": [True, False]}


def test_reset_password_shows_it_once_and_forces_a_change(app, admin, world):
    victim = signed_in_client(app, "district_handler")
    response = post(admin, f"/admin/users/{world.district_handler.id}/password")
    assert response.status_code == 200
    password = shown_password(response)
    assert page_status(victim) == 302
    db.session.expire_all()
    assert authenticate("district_handler", PASSWORD) is None
    assert authenticate("district_handler", password).must_change_password
    chosen = post(admin, f"/admin/users/{world.district_handler.id}/password", data={"password": "spring-river-88"})
    assert shown_password(chosen) == "spring-river-88"
    weak = post(admin, f"/admin/users/{world.district_handler.id}/password", data={"password": "123456789"})
    assert weak.status_code == 302
    db.session.expire_all()
    assert authenticate("district_handler", "spring-river-88") is not None
    assert [d[0] for d in audit_details()] == ["user.reset_password", "user.reset_password"]


def test_unlock_after_throttling(app, admin, world):
    from hotline.extensions import limiter

    limiter.enabled = True
    client = app.test_client()
    for n in range(5):
        g.pop("_login_user", None)
        client.post(
            "/login",
            data={"username": "operator", "password": "wrong-guess"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
        )
    g.pop("_login_user", None)
    locked = client.post(
        "/login", data={"username": "operator", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.50"}
    )
    assert locked.status_code == 429
    assert post(admin, f"/admin/users/{world.operator.id}/unlock").status_code == 302
    g.pop("_login_user", None)
    assert (
        client.post(
            "/login", data={"username": "operator", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.51"}
        ).status_code
        == 302
    )
    assert "user.unlock" in [d[0] for d in audit_details()]


def test_an_unknown_user_is_404(admin, world):
    assert get(admin, "/admin/users/999999").status_code == 404
    assert post(admin, "/admin/users/999999/deactivate").status_code == 404


def test_non_admins_are_refused(app, world):
    for username in ("dispatcher", "supervisor", "district_handler"):
        client = signed_in_client(app, username)
        assert get(client, "/admin/users").status_code == 403
        assert post(client, f"/admin/users/{world.operator.id}/deactivate").status_code == 403
    db.session.expire_all()
    assert db.session.execute(sa.select(User.active).filter_by(username="operator")).scalar_one()


def test_a_temporary_password_gets_no_api_token(app, admin, world):
    password = shown_password(post(admin, f"/admin/users/{world.district_handler.id}/password"))
    response = app.test_client().post("/api/v1/auth/token", json={"username": "district_handler", "password": password})
    assert_error(response, 403, "forbidden")
