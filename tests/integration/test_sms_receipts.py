"""``POST /api/v1/sms/receipts``: delivery receipts, signed with SMS_WEBHOOK_SECRET and checked before the body is
read; Aliyun's SmsReport array and the generic shape; unknown ids ignored; a repeat changes nothing."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from hotline.extensions import db
from hotline.notify.models import Notification
from hotline.notify.services import deliver, queue_notification
from tests.integration.sms_helpers import signed_headers

URL = "/api/v1/sms/receipts"


@pytest.fixture
def sent(aliyun) -> Notification:
    """An SMS delivered through the fake provider: its BizId is on the row."""
    note = queue_notification("sms", "13800138000", "reply_released", payload={"tracking_no": "20261207000001"})
    db.session.commit()
    assert deliver(note.id) == "sent"
    db.session.commit()
    return note


def report(note_or_ref, success=True, code="DELIVERED", message="ok", at="2026-12-07 10:00:05", out_id=None):
    ref = note_or_ref if isinstance(note_or_ref, str) else note_or_ref.provider_ref
    item = {
        "phone_number": "13800138000",
        "send_time": "2026-12-07 10:00:00",
        "report_time": at,
        "success": success,
        "err_code": code,
        "err_msg": message,
        "sms_size": "1",
        "biz_id": ref,
    }
    if out_id is not None:
        item["out_id"] = out_id
    return item


def post(client, items, headers=None):
    body = json.dumps(items, ensure_ascii=False).encode()
    return client.post(URL, data=body, headers=headers if headers is not None else signed_headers(body))


def row(note) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, note.id)


def test_a_signed_delivered_receipt_is_recorded(client, sent):
    response = post(client, [report(sent)])
    assert response.status_code == 200
    assert response.get_json() == {"code": 0, "msg": "OK", "received": 1, "updated": 1, "unchanged": 0, "ignored": 0}
    note = row(sent)
    assert note.receipt == "delivered" and note.last_error is None
    assert note.receipt_at == datetime(2026, 12, 7, 2, 0, 5)  # Beijing time from Aliyun, kept in UTC
    assert note.status == "sent"


def test_an_undelivered_receipt_keeps_the_providers_error(client, sent):
    response = post(client, [report(sent, success=False, code="MK:0001", message="user is out of service")])
    assert response.status_code == 200 and response.get_json()["updated"] == 1
    note = row(sent)
    assert note.receipt == "undelivered" and note.last_error == "MK:0001: user is out of service"
    assert note.receipt_at == datetime(2026, 12, 7, 2, 0, 5)


def test_a_repeated_receipt_changes_nothing_and_an_older_one_never_wins(client, sent):
    assert post(client, [report(sent)]).get_json()["updated"] == 1
    again = post(client, [report(sent)])
    assert again.status_code == 200 and again.get_json()["unchanged"] == 1 and again.get_json()["updated"] == 0
    older = post(client, [report(sent, success=False, code="MK:0001", at="2026-12-07 10:00:01")])
    assert older.get_json()["unchanged"] == 1
    note = row(sent)
    assert note.receipt == "delivered" and note.receipt_at == datetime(2026, 12, 7, 2, 0, 5) and note.last_error is None


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"X-Hotline-Timestamp": "x", "X-Hotline-Signature": "y"},
        "wrong-secret",
        "stale",
        "future",
    ],
)
def test_an_unsigned_wrongly_signed_or_stale_receipt_is_refused_and_changes_nothing(client, sent, headers):
    body = json.dumps([report(sent)]).encode()
    if headers == "wrong-secret":
        headers = signed_headers(body, secret="guessed")
    elif headers == "stale":
        headers = signed_headers(body, at=time.time() - 301)
    elif headers == "future":
        headers = signed_headers(body, at=time.time() + 301)
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == {
        "code": "unauthorized",
        "fields": {},
        "message": "回调签名缺失、错误或已过期。",
    }
    assert row(sent).receipt is None


def test_a_signature_over_another_body_is_refused(client, sent):
    signed_for = json.dumps([report(sent, success=False)]).encode()
    response = client.post(URL, data=json.dumps([report(sent)]).encode(), headers=signed_headers(signed_for))
    assert response.status_code == 401 and row(sent).receipt is None


def test_without_a_configured_secret_every_receipt_is_refused(app, client, sent):
    body = json.dumps([report(sent)]).encode()
    headers = signed_headers(body)
    app.config["SMS_WEBHOOK_SECRET"] = None
    assert client.post(URL, data=body, headers=headers).status_code == 401
    assert row(sent).receipt is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"\xff\xfe not json", "body"),
        (b'{"biz_id": "1"}', "body"),  # an object, not Aliyun's array
        (b"[1, 2]", "body"),
        (json.dumps([{"success": True}]).encode(), "0.biz_id"),
        (json.dumps([{"biz_id": "x", "success": "yes"}]).encode(), "0.success"),
    ],
)
def test_a_signed_garbage_body_is_422_naming_the_field_and_changes_nothing(client, sent, body, field):
    response = client.post(URL, data=body, headers=signed_headers(body))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"]
    assert row(sent).receipt is None


def test_a_half_bad_batch_changes_nothing(client, sent):
    response = post(client, [report(sent), {"success": True}])
    assert response.status_code == 422 and "1.biz_id" in response.get_json()["error"]["fields"]
    assert row(sent).receipt is None


def test_unknown_biz_ids_are_counted_and_ignored(client, sent):
    response = post(client, [report("123456789^0"), report(sent)])
    assert response.status_code == 200
    assert response.get_json() == {"code": 0, "msg": "OK", "received": 2, "updated": 1, "unchanged": 0, "ignored": 1}
    assert row(sent).receipt == "delivered"


def test_the_out_id_finds_a_message_whose_send_answer_was_lost(client, sent):
    """Aliyun sent it but its answer never reached us (a timeout): the row has no BizId, the receipt's OutId is
    ours. It is matched and learns its BizId; an OutId of a row sent as another message is not trusted."""
    lost = queue_notification("sms", "13900139000", "reply_released", payload={"tracking_no": "20261207000002"})
    db.session.commit()
    response = post(client, [report("777^0", out_id=str(lost.id)), report("888^0", out_id=str(sent.id))])
    assert response.get_json()["updated"] == 1 and response.get_json()["ignored"] == 1
    assert (row(lost).receipt, row(lost).provider_ref) == ("delivered", "777^0")
    assert row(sent).receipt is None and row(sent).provider_ref != "888^0"


def test_the_generic_shape_for_the_logging_and_http_providers(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "logging")
    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", "webhook-secret-for-tests")
    note = queue_notification("sms", "13800138000", "reply_released", payload={"tracking_no": "20261207000001"})
    note.provider_ref = "relay-42"
    db.session.commit()
    body = json.dumps({"receipts": [{"id": "relay-42", "status": "undelivered", "error": "EXPIRED"}]}).encode()
    response = client.post(URL, data=body, headers=signed_headers(body))
    assert response.status_code == 200 and response.get_json()["updated"] == 1
    assert (row(note).receipt, row(note).last_error) == ("undelivered", "EXPIRED")
    bad = json.dumps({"receipts": [{"id": "relay-42", "status": "lost"}]}).encode()
    response = client.post(URL, data=bad, headers=signed_headers(bad))
    assert response.status_code == 422 and "receipts.status" in response.get_json()["error"]["fields"]


def test_the_route_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/sms/receipts"]["post"]
    assert {p["name"] for p in operation["parameters"]} >= {"X-Hotline-Signature", "X-Hotline-Timestamp"}
    assert {"200", "401", "422"} <= set(operation["responses"])
