"""Issue 21.6: the language chosen stays through sign-in and sign-out, and notifications speak one language."""

import re

from flask import g
from flask_babel import refresh

from hotline.extensions import db, mail
from hotline.notify import services as notify
from hotline.notify.models import Notification
from hotline.notify.services import deliver
from hotline.notify.templates import TEMPLATES, VARIANTS, render
from tests.factories import PASSWORD

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def login(client, username):
    g.pop("_login_user", None)
    return client.post("/login", data={"username": username, "password": PASSWORD})


def page(client, url) -> str:
    """The tests share one app context, where Flask-Login caches the user and Flask-Babel the locale."""
    g.pop("_login_user", None)
    refresh()
    return client.get(url).get_data(as_text=True)


def test_english_chosen_before_sign_in_stays_after_sign_in_and_sign_out(client, world):
    client.post("/lang/en")
    assert "Sign in" in page(client, "/login")
    assert login(client, "operator").status_code == 302
    assert '<html lang="en">' in page(client, "/")
    g.pop("_login_user", None)
    client.post("/logout")
    signed_out = page(client, "/login")
    assert '<html lang="en">' in signed_out and "You have signed out." in signed_out
    client.post("/lang/zh_Hans_CN")
    assert '<html lang="zh-Hans-CN">' in page(client, "/login")


def test_a_signed_in_choice_is_the_accounts_preference_in_another_browser(app, client, world):
    login(client, "operator")
    client.post("/lang/en")
    db.session.expire_all()
    assert world.operator.locale == "en"
    other = app.test_client()  # no language cookie: the account's preference
    login(other, "operator")
    assert '<html lang="en">' in page(other, "/")


def test_an_unknown_language_changes_nothing(client, world):
    client.post("/lang/xx")
    assert client.get_cookie("lang") is None
    assert '<html lang="zh-Hans-CN">' in page(client, "/login")


def test_every_notification_text_is_in_both_languages(app):
    payload = {
        "tracking_no": "20261123000001",
        "title": "",
        "unit": "",
        "deadline": "2026-11-24 23:59",
        "response_deadline": "2026-11-24 23:59",
        "to_unit": "",
        "master": "20261123000002",
        "numbers": "20261123000001",
    }
    keys = [(name, None) for name in TEMPLATES] + list(VARIANTS)
    for name, code in keys:
        values = {**payload, "decision": code, "kind": code}
        subject, body = render(name, values, locale="en")
        assert not CJK.search(subject + body), (name, code, subject, body)
        zh_subject, zh_body = render(name, values, locale="zh_Hans_CN")
        assert CJK.search(zh_subject) and CJK.search(zh_body), (name, code)


def test_rows_written_before_the_codes_read_in_one_language(app):
    """Payloads used to carry Chinese words ("Extension 批准 on ticket…" in English)."""
    for name, word in (("extension_decided", "批准"), ("suspension_decided", "驳回")):
        subject, body = render(name, {"tracking_no": "20261123000001", "decision": word}, locale="en")
        assert not CJK.search(subject + body) and ("approved" in body or "denied" in body)
    subject, body = render("supervision_overdue", {"tracking_no": "1", "unit": "Donghu", "kind": "督办单"}, locale="en")
    assert subject == "Unanswered supervision order on ticket 1"
    assert (
        render("supervision_overdue", {"tracking_no": "1", "unit": "东湖区", "kind": "urging"}, locale="zh_Hans_CN")[0]
        == "工单1的催办逾期未反馈"
    )


def test_the_inbox_in_english_has_no_chinese_words_but_the_data(client, world):
    notify.notify_users(
        [world.supervisor],
        "extension_decided",
        payload={"tracking_no": "20261123000001", "unit": "", "decision": "approved"},
    )
    notify.notify_users(
        [world.supervisor],
        "suspension_decided",
        payload={"tracking_no": "20261123000001", "unit": "", "decision": "驳回"},
    )
    db.session.commit()
    client.post("/lang/en")
    login(client, "supervisor")
    inbox = page(client, "/notifications")
    assert "Extension approved on ticket 20261123000001" in inbox
    assert "Suspension denied on ticket 20261123000001" in inbox
    assert "批准" not in inbox and "驳回" not in inbox


def test_an_email_is_written_in_the_recipients_language(app, world):
    user = world.supervisor
    user.email, user.locale = "supervisor@hotline.example.cn", "en"
    db.session.commit()
    notify.notify_users(
        [user],
        "urging",
        email=True,
        payload={"tracking_no": "20261123000002", "unit": "Donghu District", "response_deadline": "2026-11-24 23:59"},
    )
    db.session.commit()
    email = db.session.query(Notification).filter_by(channel="email").one()
    with mail.record_messages() as outbox:
        assert deliver(email.id) == "sent"
        db.session.commit()
    assert outbox[0].subject == "Urging on ticket 20261123000002" and not CJK.search(outbox[0].body)
