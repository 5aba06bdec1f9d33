"""Sessions, CSRF, sign-in throttling, password rules, headers and the audit history (issue 9, docs/security.md)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g

from hotline.accounts.services import create_user, set_password
from hotline.core.audit import AuditEntry
from hotline.core.errors import ValidationFailed
from hotline.extensions import db
from tests.factories import PASSWORD

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def login(client, username, password=PASSWORD, **kwargs):
    g.pop("_login_user", None)  # the test's app context would otherwise keep the previous user
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


def audit_actions() -> list[str]:
    db.session.expire_all()
    return [e.action for e in db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars()]


# --- headers --------------------------------------------------------------------------------------------------


def test_every_page_carries_the_hardening_headers(client, world):
    for path in ("/portal", "/login", "/api/v1/openapi.json", "/open311/v2/services.json", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp, path
        for directive in (
            "default-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ):
            assert directive in csp, (path, directive)
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers  # not over plain HTTP in development and tests
    assert client.get("/portal").headers["Cache-Control"] == "no-store"  # personal pages are never cached
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_hsts_and_the_tile_server_follow_the_configuration(app):
    from hotline import create_app

    other = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SESSION_COOKIE_SECURE=True,
        MAP_TILE_URL="https://tiles.city.gov.cn/{z}/{x}/{y}.png",
    )
    headers = other.test_client().get("/portal").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "img-src 'self' data: blob: https://tiles.city.gov.cn;" in headers["Content-Security-Policy"]
    with other.app_context():
        db.engine.dispose()


def test_swagger_ui_runs_only_its_own_inline_script(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data()
    scripts = re.findall(rb"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0]).digest()).decode()
    csp = response.headers["Content-Security-Policy"]
    assert f"script-src 'self' 'sha256-{digest}';" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]


def test_templates_have_no_inline_script_handler_or_style():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in match.group(1) and 'type="application/json"' not in match.group(1):
                offenders.append(f"{path.name}: inline <script>")
        if re.search(r"<style\b", text):
            offenders.append(f"{path.name}: <style> block")
        if re.search(r"\sstyle\s*=", text):
            offenders.append(f"{path.name}: style= attribute")
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{path.name}: inline event handler")
        if "javascript:" in text:
            offenders.append(f"{path.name}: javascript: URL")
    assert not offenders, offenders


# --- cookies and sessions ---------------------------------------------------------------------------------------


def test_session_cookie_flags(app, client, world):
    cookie = login(client, "operator").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE


def test_sign_in_starts_a_new_session(client, world):
    client.post("/lang/en")  # an anonymous session exists before signing in
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    login(client, "operator")
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session and "lang" not in session and session.get("_user_id")


def test_sign_out_ends_the_session(client, world):
    login(client, "operator")
    client.post("/logout")
    g.pop("_login_user", None)
    assert client.get("/").status_code == 302


# --- CSRF on every form ------------------------------------------------------------------------------------------


def _row_counts() -> dict:
    counts = {}
    for table in db.metadata.sorted_tables:
        counts[table.name] = db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar()
    return counts


def test_every_html_post_route_refuses_a_missing_csrf_token(app, world):
    from hotline import create_app
    from tests.integration.test_access_matrix import build_objects, url_for_rule

    objects = build_objects(world)
    protected = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True
    )
    client = protected.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 400
    assert (
        client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}).status_code == 302
    )
    values = {**objects, "action": "sign", "kind": "note", "code": "en", "decision": "approve"}
    before = _row_counts()
    checked = []
    for rule in protected.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith(("/api/", "/open311/")):
            continue
        kinds = {"sla.decide": "extension", "sla.respond": "urging", "knowledge.change_state": "retire"}
        actions = {
            "knowledge.change_state": "retire",
            "admin.user_action": "unlock",
            "admin.unit_action": "activate",
            "admin.category_action": "activate",
        }
        path = url_for_rule(
            rule,
            {**values, **({"kind": kinds[rule.endpoint]} if rule.endpoint in kinds else {})}
            | ({"action": actions[rule.endpoint]} if rule.endpoint in actions else {}),
        )
        response = client.post(path, data={"note": "x", "title": "x", "body": "x", "version": "1"})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        checked.append(rule.endpoint)
    db.session.expire_all()
    assert _row_counts() == before
    assert len(checked) >= 25 and "tickets.act" in checked and "public.new_appeal" in checked
    with protected.app_context():
        db.engine.dispose()


# --- sign-in throttling ------------------------------------------------------------------------------------------


def test_sign_in_is_locked_per_account_with_a_clear_message(client, world):
    for n in range(5):
        response = login(client, "operator", "wrong-guess", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        assert response.status_code == 200
    locked = login(client, "operator", "wrong-guess", environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert 'data-testid="login-locked"' in locked.get_data(as_text=True)
    # the right password does not get through while the account is locked …
    assert login(client, "operator", environ_base={"REMOTE_ADDR": "10.0.0.98"}).status_code == 429
    # … but other accounts can still sign in from the same addresses
    assert login(client, "dispatcher", environ_base={"REMOTE_ADDR": "10.0.0.99"}).status_code == 302
    assert "login.locked" in audit_actions()


def token_request(client, username, password=PASSWORD, address="10.2.0.1"):
    return client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_a_lock_on_the_web_holds_for_api_tokens(client, world):
    """Issue 23.6: one lockout per account across every door."""
    for n in range(5):
        assert login(client, "operator", "wrong-guess", environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code == 200
    assert login(client, "operator", "wrong-guess").status_code == 429
    refused = token_request(client, "operator")  # the right password, another door, another address
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"]["code"] == "rate_limited" and "access_token" not in refused.get_json()
    assert token_request(client, "dispatcher").status_code == 200  # other accounts are not affected


def test_a_lock_through_api_tokens_holds_on_the_web(client, world):
    for n in range(5):
        assert token_request(client, "operator", "wrong-guess", address=f"10.0.2.{n}").status_code == 401
    assert token_request(client, "operator").status_code == 429
    assert login(client, "operator", environ_base={"REMOTE_ADDR": "10.0.2.99"}).status_code == 429
    assert audit_actions().count("login.locked") == 2


def test_failures_at_both_doors_add_up_and_an_unlock_opens_both(app, client, world):
    from hotline.accounts.services import unlock_sign_in

    for n in range(3):
        login(client, "operator", "wrong-guess", environ_base={"REMOTE_ADDR": f"10.0.3.{n}"})
    for n in range(2):
        token_request(client, "operator", "wrong-guess", address=f"10.0.4.{n}")
    assert token_request(client, "operator").status_code == 429
    assert login(client, "operator").status_code == 429
    unlock_sign_in(world.operator, actor=world.admin)
    db.session.commit()
    assert token_request(client, "operator").status_code == 200
    assert login(client, "operator").status_code == 302


def test_sign_in_is_locked_per_address(client, world):
    for n in range(30):
        assert login(client, f"nobody{n}", "wrong-guess").status_code == 200
    assert login(client, "operator").status_code == 429  # even a right password from that address
    assert login(client, "operator", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 302


def test_successful_sign_ins_are_not_counted(app, world):
    for _ in range(8):
        client = app.test_client()
        assert login(client, "operator").status_code == 302


# --- password rules -------------------------------------------------------------------------------------------

WEAK = [
    "short",
    "1234567890123",
    "password123",
    "QwertyUIOP",
    "x" * 129,
    # issue 23.7: accepted before zxcvbn; pinyin names with a birthday, love numbers, the name's own pinyin
    "aaaaaaaa",
    "qwertyuiop1",
    "zhangwei1990",
    "lihua19880101",
    "woaini1314!",
    "chenjing888",
    "wangfang.1985",
]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused(world, password):
    with pytest.raises(ValidationFailed) as refused:
        create_user("zhangwei", password, "张伟", org_unit=world.district, roles=[("handler", world.district)])
    assert refused.value.fields == {"password": refused.value.fields["password"]}
    with pytest.raises(ValidationFailed):
        set_password(world.operator, password)


@pytest.mark.parametrize("password", ["lake-side-1997", "a-brand-new-secret-7", "x7#kQ9!mZp", "海川市热线2026"])
def test_strong_passwords_are_accepted(world, password):
    assert create_user("liuyang", password, "刘洋", org_unit=world.district, roles=[("handler", world.district)]).id


def test_the_users_own_name_in_pinyin_is_refused_in_both_languages(app, world):
    from flask_babel import force_locale

    with pytest.raises(ValidationFailed) as refused:
        create_user("liuyang", "Wangfang@2024", "王芳", org_unit=world.district, roles=[("handler", world.district)])
    with force_locale("zh_Hans_CN"):
        assert "用户名或姓名" in str(refused.value.fields["password"])
    with force_locale("en"):
        assert "your username or name" in str(refused.value.fields["password"])
    wang_fang = create_user(
        "wf", "lake-side-1997", "王芳", org_unit=world.district, roles=[("handler", world.district)]
    )
    with pytest.raises(ValidationFailed) as refused:
        set_password(wang_fang, "Fangwang-1988")  # given name first, as on an English form
    assert "password" in refused.value.fields


def test_a_password_containing_the_username_is_refused(world):
    with pytest.raises(ValidationFailed):
        create_user("zhangwei", "Zhangwei-2024-x", "张伟", org_unit=world.district, roles=[("handler", world.district)])
    assert create_user(
        "zhangwei", "lake-side-1997", "张伟", org_unit=world.district, roles=[("handler", world.district)]
    ).id


def test_set_password_command_checks_the_rules_and_is_audited(app, world):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["users", "set-password", "operator", "--password", "12345678901"])
    assert weak.exit_code == 1 and ("数字" in weak.output or "digits" in weak.output)
    ok = runner.invoke(args=["users", "set-password", "operator", "--password", "a-new-long-secret"])
    assert ok.exit_code == 0, ok.output
    db.session.expire_all()
    from hotline.accounts.services import authenticate

    assert authenticate("operator", "a-new-long-secret") is not None
    assert audit_actions() == ["user.set_password"]


# --- the audit history ------------------------------------------------------------------------------------------


def test_admin_actions_exports_and_contact_views_are_audited(client, world):
    from hotline.sla.models import SlaPolicy

    ticket = world.ticket_in("in_progress")
    login(client, "admin")
    assert client.post("/admin/canned", data={"title": "已转交", "body": "已转交相关部门。"}).status_code == 302
    assert client.post("/admin/canned/1/toggle").status_code == 302
    assert (
        client.post(
            f"/admin/routing?district={world.district.id}",
            data={f"route-{world.category.id}": str(world.department.id)},
        ).status_code
        == 302
    )
    assert client.post("/admin/calendar/day", data={"day": "2026-12-01", "is_workday": ""}).status_code == 302
    policy = db.session.execute(sa.select(SlaPolicy).limit(1)).scalar_one()
    assert (
        client.post(
            f"/admin/sla-policies/{policy.id}",
            data={"sign_limit": "1", "sign_unit": "working_days", "answer_limit": "10", "answer_unit": "working_days"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            "/dashboard/projects/new", data={"year": "2026", "name": "背街小巷整治", "lead_unit_id": "0", "active": "y"}
        ).status_code
        == 302
    )
    assert client.get("/dashboard/export/tickets.csv?board=overdue").status_code == 200
    assert client.post(f"/tickets/{ticket.tracking_no}/contact").status_code == 200
    token = client.post("/api/v1/auth/token", json={"username": "operator", "password": PASSWORD}).get_json()
    assert (
        client.get(
            f"/api/v1/tickets/{ticket.tracking_no}", headers={"Authorization": f"Bearer {token['access_token']}"}
        ).status_code
        == 200
    )
    assert audit_actions() == [
        "canned.create",
        "canned.toggle",
        "routing.update",
        "calendar.day",
        "sla_policy.update",
        "project.create",
        "export.tickets",
        "contact.view",
        "contact.view",
    ]
    entry = db.session.execute(sa.select(AuditEntry).filter_by(action="contact.view")).scalars().first()
    assert entry.actor.username == "admin" and entry.target == ticket.tracking_no and entry.at is not None
    page = client.get("/admin/audit?action=contact")
    assert page.status_code == 200 and ticket.tracking_no in page.get_data(as_text=True)
    other = client.application.test_client()
    login(other, "supervisor")
    assert other.get("/admin/audit").status_code == 403


def test_api_key_commands_are_audited(app, world):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["apikeys", "create", "wechat"]).exit_code == 0
    assert runner.invoke(args=["apikeys", "revoke", "1"]).exit_code == 0
    assert audit_actions() == ["apikey.create", "apikey.revoke"]
