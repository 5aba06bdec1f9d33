"""The SMS gateway's two directions, provider by provider.

Outbound, a provider sends one message and answers its id for the message (``provider_ref``: the delivery
receipt names it). Inbound, the provider calls our webhooks with citizens' replies and delivery receipts in its
own JSON shape; each provider parses its shape into ``InboundMessage`` / ``Receipt``. Every webhook body is
signed with the shared ``SMS_WEBHOOK_SECRET`` (``verify_webhook``), whatever the provider.

``SMS_GATEWAY`` chooses the provider: ``logging`` (the default: writes to the log, keeps what it sent in
``LoggingSmsGateway.sent``), ``http`` (posts JSON to a relay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flask import current_app

from hotline.core.clock import utcnow

SIGNATURE_HEADER = "X-Hotline-Signature"
TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_MAX_AGE_SECONDS = 300  # a replayed webhook older than this is refused


class WebhookFormatError(ValueError):
    """The webhook's body is not the provider's shape; ``field`` names what is wrong."""

    def __init__(self, message: str, field: str = "body"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class InboundMessage:
    message_id: str  # the provider's id: a retried webhook carries the same one
    phone: str
    text: str
    received_at: datetime


@dataclass(frozen=True)
class Receipt:
    provider_ref: str
    delivered: bool
    error: str | None
    at: datetime


class SmsProvider(Protocol):
    name: str

    def send(self, phone: str, text: str, *, template: str, params: dict[str, Any], out_id: str) -> str | None:
        """Send one message; the provider's id for it (None when the provider gives none)."""

    def parse_inbound(self, body: bytes) -> list[InboundMessage]: ...

    def parse_receipts(self, body: bytes) -> list[Receipt]: ...


def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of ``timestamp.body``, hex: what a provider (or its relay) sends in ``X-Hotline-Signature``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_webhook(headers: Any, body: bytes, now: float | None = None) -> bool:
    """The body was signed with our secret within the last five minutes. No secret configured: refused."""
    secret = current_app.config.get("SMS_WEBHOOK_SECRET")
    timestamp, signature = headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
    if not secret or not timestamp.isdigit() or not signature:
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(sign_webhook(secret, timestamp, body), signature.strip().lower())


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookFormatError("The body is not JSON (UTF-8).") from exc


def _items(body: bytes, key: str) -> list[dict[str, Any]]:
    data = _json(body)
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise WebhookFormatError(f"Expected an object with a list {key!r}.", field=key)
    return items


def _text(item: dict[str, Any], field: str, where: str) -> str:
    value = item.get(field)
    if not isinstance(value, str | int) or str(value).strip() == "":
        raise WebhookFormatError(f"{field} is missing.", field=f"{where}.{field}")
    return str(value)


class GenericFormat:
    """The hotline's own webhook shape, for relays and the logging gateway:
    ``{"messages": [{"id", "phone", "text"}]}`` and ``{"receipts": [{"id", "status": "delivered" |
    "undelivered", "error"}]}``."""

    def parse_inbound(self, body: bytes) -> list[InboundMessage]:
        now = utcnow()
        return [
            InboundMessage(_text(m, "id", "messages"), _text(m, "phone", "messages"), str(m.get("text") or ""), now)
            for m in _items(body, "messages")
        ]

    def parse_receipts(self, body: bytes) -> list[Receipt]:
        now, receipts = utcnow(), []
        for r in _items(body, "receipts"):
            status = _text(r, "status", "receipts")
            if status not in ("delivered", "undelivered"):
                raise WebhookFormatError("status is delivered or undelivered.", field="receipts.status")
            receipts.append(Receipt(_text(r, "id", "receipts"), status == "delivered", r.get("error"), now))
        return receipts
