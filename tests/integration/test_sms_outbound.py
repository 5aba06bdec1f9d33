"""SMS through Alibaba Cloud (dysmsapi SendSms, signature V1) by the real outbox path: queue, deliver, the
provider's BizId kept on the row; refusals and a network down are retries with the reason on the row."""

from __future__ import annotations

import json

import pytest

from hotline import create_app
from hotline.extensions import db
from hotline.notify.models import Notification
from hotline.notify.services import MAX_ATTEMPTS, deliver, queue_notification
from hotline.sms.providers import LoggingSmsGateway
from tests.integration.sms_helpers import SIGN_NAME, TEMPLATE_CODES, aliyun_config


def sms(template="reply_released", payload=None) -> Notification:
    note = queue_notification("sms", "13800138000", template, payload=payload or {"tracking_no": "20261207000001"})
    db.session.commit()
    return note


def reloaded(note: Notification) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, note.id)


def test_a_queued_sms_is_sent_with_its_template_and_keeps_the_biz_id(aliyun):
    note = sms(payload={"tracking_no": "20261207000001", "count": 2})
    assert deliver(note.id) == "sent"
    db.session.commit()
    assert len(aliyun.requests) == 1
    sent = aliyun.requests[0]  # the fake checked the signature, the nonce and the common parameters
    assert sent["PhoneNumbers"] == "13800138000"
    assert sent["SignName"] == SIGN_NAME
    assert sent["TemplateCode"] == TEMPLATE_CODES["reply_released"]
    assert json.loads(sent["TemplateParam"]) == {"tracking_no": "20261207000001", "count": "2"}
    assert sent["OutId"] == str(note.id)
    note = reloaded(note)
    assert note.status == "sent" and note.provider_ref == "900001^0" and note.last_error is None
    assert note.receipt is None  # until the provider reports
    assert deliver(note.id) == "skipped" and len(aliyun.requests) == 1


def test_each_request_is_signed_afresh(aliyun):
    first, second = sms(), sms(template="tracking_numbers", payload={"numbers": "20261207000001、20261207000002"})
    assert deliver(first.id) == "sent" and deliver(second.id) == "sent"
    db.session.commit()
    nonces = {r["SignatureNonce"] for r in aliyun.requests}
    assert len(nonces) == 2
    assert json.loads(aliyun.requests[1]["TemplateParam"]) == {"numbers": "20261207000001、20261207000002"}
    assert {reloaded(first).provider_ref, reloaded(second).provider_ref} == {"900001^0", "900002^0"}


def test_a_wrong_secret_is_refused_by_the_provider_and_retried(app, aliyun):
    app.config["SMS_ALIYUN_ACCESS_KEY_SECRET"] = "not-the-secret"
    note = sms()
    assert deliver(note.id) == "retry"
    db.session.commit()
    note = reloaded(note)
    assert note.status == "pending" and note.next_attempt_at is not None and note.provider_ref is None
    assert "SignatureDoesNotMatch" in note.last_error


def test_a_business_limit_is_a_retry_with_the_code_and_message_on_the_row(aliyun):
    aliyun.refuse_with = "isv.BUSINESS_LIMIT_CONTROL"
    note = sms()
    assert deliver(note.id) == "retry"
    db.session.commit()
    note = reloaded(note)
    assert note.status == "pending" and note.attempts == 1 and note.provider_ref is None
    assert "isv.BUSINESS_LIMIT_CONTROL" in note.last_error and "refused for the test" in note.last_error
    aliyun.refuse_with = None
    assert deliver(note.id) == "sent"  # the next attempt (the beat's re-drive or the task's retry) goes through
    db.session.commit()
    note = reloaded(note)
    assert note.status == "sent" and note.attempts == 2 and note.last_error is None and note.provider_ref


def test_network_down_is_a_retry(app, aliyun):
    app.config["SMS_ALIYUN_ENDPOINT"] = "http://127.0.0.1:9/"  # the discard port: nothing listens
    note = sms()
    assert deliver(note.id) == "retry"
    db.session.commit()
    note = reloaded(note)
    assert note.status == "pending" and "unreachable" in note.last_error and aliyun.requests == []


def test_a_template_without_a_template_code_says_so_on_the_row_and_sends_nothing(aliyun):
    note = sms(template="ticket_merged", payload={"tracking_no": "20261207000003", "master": "20261207000001"})
    for _ in range(MAX_ATTEMPTS):
        deliver(note.id)
        db.session.commit()
    note = reloaded(note)
    assert note.status == "failed" and aliyun.requests == []
    assert "ticket_merged" in note.last_error and "SMS_ALIYUN_TEMPLATES" in note.last_error


def test_the_logging_provider_keeps_what_it_sent(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "logging")
    monkeypatch.setattr(LoggingSmsGateway, "sent", [])
    note = sms()
    assert deliver(note.id) == "sent"
    db.session.commit()
    assert LoggingSmsGateway.sent == [
        ("13800138000", "【12345】您的诉求20261207000001已答复，请凭工单号和手机号查询。")
    ]
    assert reloaded(note).provider_ref is None  # it has no id to give


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"SMS_GATEWAY": "aliyn"}, "logging, http, aliyun"),
        ({"SMS_GATEWAY": "http", "SMS_GATEWAY_URL": ""}, "SMS_GATEWAY_URL"),
        ({"SMS_GATEWAY": "aliyun"}, "SMS_ALIYUN_ACCESS_KEY_ID, SMS_ALIYUN_ACCESS_KEY_SECRET, SMS_ALIYUN_SIGN_NAME"),
        ({**aliyun_config("http://127.0.0.1:9/"), "SMS_ALIYUN_TEMPLATES": {"reply_relased": "SMS_1"}}, "reply_relased"),
        ({**aliyun_config("http://127.0.0.1:9/"), "SMS_ALIYUN_TEMPLATES": ["SMS_1"]}, "SMS_ALIYUN_TEMPLATES"),
    ],
)
def test_a_bad_sms_configuration_stops_the_start(settings, says):
    with pytest.raises(RuntimeError, match="SMS_") as refused:
        create_app("testing", **settings)
    assert says in str(refused.value)


def test_a_complete_aliyun_configuration_starts():
    app = create_app("testing", **aliyun_config("http://127.0.0.1:9/"))
    assert app.config["SMS_GATEWAY"] == "aliyun"
