"""Delivering the outbox: the HTTP SMS gateway, e-mail through Flask-Mail, retries with backoff."""

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hotline.core.clock import frozen_at
from hotline.extensions import db, mail
from hotline.notify import services as notify
from hotline.notify.models import Notification
from hotline.notify.services import MAX_ATTEMPTS, backoff, deliver, pending_ids, queue_notification


class Gateway:
    """A tiny SMS relay on 127.0.0.1: records every request, answers with ``status``."""

    def __init__(self, status=200):
        self.status, self.requests = status, []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                gateway.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(gateway.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(app):
    gw = Gateway()
    saved = {
        k: app.config.get(k) for k in ("SMS_GATEWAY", "SMS_GATEWAY_URL", "SMS_GATEWAY_TOKEN", "SMS_GATEWAY_TIMEOUT")
    }
    app.config.update(
        SMS_GATEWAY="http", SMS_GATEWAY_URL=gw.url, SMS_GATEWAY_TOKEN="secret-token", SMS_GATEWAY_TIMEOUT=5
    )
    yield gw
    app.config.update(saved)
    gw.close()


def sms(template="reply_released", payload=None):
    note = queue_notification("sms", "13800138000", template, payload=payload or {"tracking_no": "20261123000001"})
    db.session.commit()
    return note


def test_http_gateway_posts_the_chinese_text_as_json_with_the_token(gateway):
    note = sms()
    assert deliver(note.id) == "sent"
    db.session.commit()
    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["path"] == "/sms/send"
    assert request["headers"]["Authorization"] == "Bearer secret-token"
    assert request["headers"]["Content-Type"].startswith("application/json")
    body = json.loads(request["body"].decode("utf-8"))
    assert body["phone"] == "13800138000"
    assert body["text"] == "【12345】您的诉求20261123000001已答复，请凭工单号和手机号查询。"  # Chinese, filled in
    db.session.refresh(note)
    assert note.status == "sent" and note.attempts == 1 and note.sent_at is not None and note.last_error is None
    # delivering again (a duplicate task, a re-drive) sends nothing more
    assert deliver(note.id) == "skipped"
    assert len(gateway.requests) == 1


def test_email_goes_through_flask_mail(app, world):
    user = world.supervisor
    user.email = "supervisor@hotline.example.cn"
    db.session.commit()
    notify.notify_users(
        [user],
        "urging",
        payload={"tracking_no": "20261123000002", "unit": "东湖区", "response_deadline": "2026-11-24 23:59"},
        email=True,
    )
    db.session.commit()
    email = db.session.query(Notification).filter_by(channel="email").one()
    assert email.status == "pending" and email.recipient == "supervisor@hotline.example.cn"
    with mail.record_messages() as outbox:
        assert deliver(email.id) == "sent"
        db.session.commit()
    assert len(outbox) == 1
    message = outbox[0]
    assert message.recipients == ["supervisor@hotline.example.cn"]
    assert message.sender == app.config["MAIL_DEFAULT_SENDER"]
    assert "20261123000002" in message.subject and "催办" in message.subject
    assert "东湖区" in message.body and "2026-11-24 23:59" in message.body
    # the in-app twin was delivered by being written
    in_app = db.session.query(Notification).filter_by(channel="in_app").one()
    assert in_app.status == "sent" and in_app.recipient_user_id == user.id


def test_failing_gateway_backs_off_and_gives_up_at_the_maximum(gateway):
    gateway.status = 503
    now, waits = datetime(2031, 11, 24, 2, 0), []  # a moment after the real one: the row is created then
    with frozen_at(now):
        note = sms()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with frozen_at(now):
            outcome = deliver(note.id)
            db.session.commit()
            db.session.refresh(note)
            assert note.attempts == attempt and "503" in note.last_error
            if attempt < MAX_ATTEMPTS:
                assert outcome == "retry" and note.status == "pending"
                waits.append(note.next_attempt_at - now)
                assert note.next_attempt_at - now == backoff(attempt)
                # the re-drive leaves it alone until its next attempt is due, then takes it
                with frozen_at(note.next_attempt_at - timedelta(seconds=1)):
                    assert note.id not in pending_ids(older_than=timedelta(0))
                now = note.next_attempt_at
                with frozen_at(now):
                    assert note.id in pending_ids(older_than=timedelta(0))
    assert outcome == "failed" and note.status == "failed"
    assert waits == sorted(waits) and waits[0] == timedelta(seconds=30) and waits[1] == timedelta(seconds=60)
    assert len(gateway.requests) == MAX_ATTEMPTS
    # given up: neither a re-drive nor a late task tries again
    with frozen_at(now + timedelta(days=1)):
        assert note.id not in pending_ids(older_than=timedelta(0))
        assert deliver(note.id) == "skipped"
    assert len(gateway.requests) == MAX_ATTEMPTS


def test_unreachable_gateway_is_a_retry_not_a_crash(app, gateway):
    app.config["SMS_GATEWAY_URL"] = "http://127.0.0.1:9/unreachable"  # discard port: nothing listens
    note = sms()
    assert deliver(note.id) == "retry"
    db.session.commit()
    db.session.refresh(note)
    assert note.status == "pending" and "unreachable" in note.last_error and note.next_attempt_at is not None


def test_the_task_retries_until_it_gives_up(app, gateway):
    """The Celery task itself: each failed attempt schedules a retry (run at once here, eagerly) until
    the maximum; the row ends ``failed`` after exactly MAX_ATTEMPTS requests."""
    import workers.tasks  # noqa: F401 — registers the shared tasks on every app's Celery

    deliver_notification = app.extensions["celery"].tasks[notify.DELIVER_TASK]  # this app's, not the default one
    gateway.status = 500
    note = sms()
    result = deliver_notification.apply(args=[note.id])
    db.session.expire_all()
    note = db.session.get(Notification, note.id)
    assert result.successful() and result.result is False
    assert note.status == "failed" and note.attempts == MAX_ATTEMPTS
    assert len(gateway.requests) == MAX_ATTEMPTS
    gateway.status = 200
    assert deliver_notification.apply(args=[note.id]).result is False  # given up stays given up
    assert len(gateway.requests) == MAX_ATTEMPTS


def test_the_sweep_writes_emails_pending_and_sends_them_only_after_its_commit(app, world, monkeypatch):
    """The ladder's bulk-written e-mail rows are handed to the delivery task once their batch commits
    (in-app rows are written as sent); nothing is sent for a batch that is rolled back."""
    from hotline.core.clock import LOCAL_TZ, to_utc_naive
    from hotline.sla.ladder import run_sweep, sweep_batch

    sent = []
    monkeypatch.setattr(
        app.extensions["celery"], "send_task", lambda name, args=None, **options: sent.append((name, args, options))
    )
    world.supervisor.email = "supervisor@hotline.example.cn"
    db.session.commit()
    with frozen_at(to_utc_naive(datetime(2026, 11, 23, 10, tzinfo=LOCAL_TZ))):
        world.ticket_in("in_progress")
    late = to_utc_naive(datetime(2026, 12, 31, 9, tzinfo=LOCAL_TZ))
    with frozen_at(late):
        sweep_batch(late, 10)
    db.session.rollback()
    assert sent == [] and db.session.query(Notification).filter_by(channel="email").count() == 0

    counts = run_sweep(late)
    assert counts["red"] == 1 and counts["escalate"] == 1
    emails = db.session.query(Notification).filter_by(channel="email").order_by(Notification.id).all()
    # red card and escalation e-mail the supervisor (the district handler has no address)
    assert [(n.template, n.status, n.recipient) for n in emails] == [
        ("red_card", "pending", "supervisor@hotline.example.cn"),
        ("escalated", "pending", "supervisor@hotline.example.cn"),
    ]
    assert sent == [(notify.DELIVER_TASK, [n.id], {"ignore_result": True}) for n in emails]
    in_app = db.session.query(Notification).filter_by(channel="in_app").all()
    assert in_app and {n.status for n in in_app} == {"sent"}
