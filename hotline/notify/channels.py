"""Delivery channels. In-app needs none; e-mail goes over SMTP (Flask-Mail); SMS through a gateway.

The SMS gateway is pluggable (``SMS_GATEWAY``): ``logging`` writes the message to the log (development
and tests keep what they sent in ``LoggingSmsGateway.sent``); ``http`` posts JSON to ``SMS_GATEWAY_URL``
(with ``SMS_GATEWAY_TOKEN`` as a bearer token), the shape most vendors' relays accept.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from flask import current_app

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The channel refused or failed; the notification is tried again later."""


class LoggingSmsGateway:
    sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        log.info("SMS → %s: %s", phone, text)
        self.sent.append((phone, text))


class HttpSmsGateway:
    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0):
        if not url:
            raise DeliveryError("SMS_GATEWAY_URL is not set")
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, phone: str, text: str) -> None:
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"SMS gateway answered {response.status}")
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"SMS gateway unreachable: {exc}") from exc


def sms_gateway() -> LoggingSmsGateway | HttpSmsGateway:
    kind = current_app.config.get("SMS_GATEWAY", "logging")
    if kind == "http":
        return HttpSmsGateway(
            current_app.config.get("SMS_GATEWAY_URL", ""),
            current_app.config.get("SMS_GATEWAY_TOKEN"),
            float(current_app.config.get("SMS_GATEWAY_TIMEOUT", 10)),
        )
    return LoggingSmsGateway()


def send_email(recipient: str, subject: str, body: str) -> None:
    from flask_mail import Message

    from hotline.extensions import mail

    try:
        mail.send(Message(subject=subject, recipients=[recipient], body=body))
    except Exception as exc:  # SMTP errors of every kind: try again later
        raise DeliveryError(f"e-mail failed: {exc}") from exc
