"""The SMS gateway's two directions, provider by provider.

Outbound, a provider sends one message and answers its id for the message (``provider_ref``: the delivery
receipt names it). Inbound, the provider calls our webhooks with citizens' replies and delivery receipts in its
own JSON shape; each provider parses its shape into ``InboundMessage`` / ``Receipt``. Every webhook body is
signed with the shared ``SMS_WEBHOOK_SECRET`` (``verify_webhook``), whatever the provider.

``SMS_GATEWAY`` chooses the provider (``sms_provider``): ``logging`` (the default: writes to the log, keeps what
it sent in ``LoggingSmsGateway.sent``), ``http`` (posts JSON to a relay) or ``aliyun`` (Alibaba Cloud SMS,
pre-approved templates only). A failed send raises ``DeliveryError``: the outbox tries again later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from flask import current_app

from hotline.core.clock import to_utc_naive, utcnow
from hotline.notify.channels import DeliveryError

log = logging.getLogger(__name__)

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
    out_id: str | None = None  # our notification id, when the provider echoes it (Aliyun's OutId)


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


# --- the providers ------------------------------------------------------------------------------------------


class LoggingSmsGateway(GenericFormat):
    """Development and tests: the message goes to the log, and into ``sent``."""

    name = "logging"
    sent: ClassVar[list[tuple[str, str]]] = []

    def send(self, phone: str, text: str, *, template: str, params: dict[str, Any], out_id: str) -> str | None:
        log.info("SMS → %s: %s", phone, text)
        self.sent.append((phone, text))
        return None


class HttpSmsGateway(GenericFormat):
    """A relay that takes ``{"phone", "text"}`` as JSON (bearer token) and may answer ``{"id": …}``, the id its
    receipts will name. Its webhooks use the generic shape."""

    name = "http"

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0):
        if not url:
            raise DeliveryError("SMS_GATEWAY_URL is not set")
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, phone: str, text: str, *, template: str, params: dict[str, Any], out_id: str) -> str | None:
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
                answer = response.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"SMS gateway answered {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"SMS gateway unreachable: {exc}") from exc
        try:
            ref = json.loads(answer).get("id")
        except (ValueError, AttributeError):  # a relay that answers no JSON object gives no id
            return None
        return str(ref)[:64] if isinstance(ref, str | int) and str(ref) else None


# Alibaba Cloud SMS (dysmsapi), RPC style with signature V1 (docs/sms.md, "The signature").
ALIYUN_DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
ALIYUN_API_VERSION = "2017-05-25"


def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 over UTF-8: only ``A-Z a-z 0-9 - _ . ~`` stay as they are (space is %20, ``*`` is %2A)."""
    return urllib.parse.quote(value, safe="")


def aliyun_signature(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """Base64(HMAC-SHA1(secret + "&", METHOD & %2F & encode(the sorted, encoded query string)))."""
    canonical = "&".join(
        f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}" for k, v in sorted(params.items()) if k != "Signature"
    )
    string_to_sign = f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(canonical)}"
    digest = hmac.new(f"{access_key_secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _aliyun_time(value: Any) -> datetime:
    """Aliyun's ``2017-01-01 00:00:00`` is Beijing time; stored as naive UTC. Missing or unreadable: now."""
    try:
        return to_utc_naive(datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return utcnow()


def _report_items(body: bytes) -> list[dict[str, Any]]:
    """Aliyun pushes a JSON array of reports."""
    data = _json(body)
    if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
        raise WebhookFormatError("Expected a JSON array of objects.")
    return data


class AliyunSmsGateway:
    """Alibaba Cloud SMS: ``SendSms`` with the TemplateCode configured for our template and the notification's
    payload as TemplateParam (Chinese providers send only pre-approved templates; ``text`` is not sent)."""

    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: Mapping[str, str],
        endpoint: str = ALIYUN_DEFAULT_ENDPOINT,
        region: str = "cn-hangzhou",
        timeout: float = 10.0,
    ):
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.sign_name, self.templates, self.endpoint = sign_name, templates, endpoint
        self.region, self.timeout = region, timeout

    def request_params(
        self, phone: str, template_code: str, params: Mapping[str, Any], out_id: str, *, nonce: str, timestamp: str
    ) -> dict[str, str]:
        """Every parameter of one SendSms call, signed."""
        values = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": out_id,
            "PhoneNumbers": phone,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce,
            "SignatureVersion": "1.0",
            "TemplateCode": template_code,
            # Template variables are strings; non-ASCII kept as is (percent-encoded once, with the rest).
            "TemplateParam": json.dumps({k: str(v) for k, v in params.items()}, ensure_ascii=False),
            "Timestamp": timestamp,
            "Version": ALIYUN_API_VERSION,
        }
        values["Signature"] = aliyun_signature("POST", values, self.access_key_secret)
        return values

    def send(self, phone: str, text: str, *, template: str, params: dict[str, Any], out_id: str) -> str | None:
        template_code = self.templates.get(template)
        if not template_code:
            raise DeliveryError(
                f"no Aliyun TemplateCode for the template {template!r}: add it to SMS_ALIYUN_TEMPLATES (docs/sms.md)"
            )
        values = self.request_params(
            phone,
            template_code,
            params,
            out_id,
            nonce=uuid.uuid4().hex,
            timestamp=utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        body = "&".join(f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}" for k, v in values.items())
        request = urllib.request.Request(
            self.endpoint,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as exc:  # Aliyun answers its errors as JSON with a 4xx/5xx status
            status, answer = exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"Aliyun SMS unreachable: {exc}") from exc
        try:
            data = json.loads(answer)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise DeliveryError(f"Aliyun SMS answered {status} without a JSON object")
        if data.get("Code") != "OK" or not data.get("BizId"):
            raise DeliveryError(f"Aliyun SMS refused ({status}): {data.get('Code')}: {data.get('Message')}")
        return str(data["BizId"])[:64]

    def parse_receipts(self, body: bytes) -> list[Receipt]:
        """SmsReport: ``[{"phone_number", "send_time", "report_time", "success", "err_code", "err_msg",
        "sms_size", "biz_id", "out_id"}]``."""
        receipts = []
        for index, item in enumerate(_report_items(body)):
            if not isinstance(item.get("success"), bool):
                raise WebhookFormatError("success is true or false.", field=f"{index}.success")
            delivered = item["success"]
            error = ": ".join(str(item[k]) for k in ("err_code", "err_msg") if item.get(k)) or "undelivered"
            out_id = item.get("out_id")
            receipts.append(
                Receipt(
                    _text(item, "biz_id", str(index)),
                    delivered,
                    None if delivered else error,
                    _aliyun_time(item.get("report_time")),
                    str(out_id) if isinstance(out_id, str | int) and str(out_id) else None,
                )
            )
        return receipts

    def parse_inbound(self, body: bytes) -> list[InboundMessage]:
        """SmsUp: ``[{"phone_number", "send_time", "content", "sign_name", "dest_code", "sequence_id"}]``."""
        return [
            InboundMessage(
                _text(item, "sequence_id", str(index)),
                _text(item, "phone_number", str(index)),
                str(item.get("content") or ""),
                _aliyun_time(item.get("send_time")),
            )
            for index, item in enumerate(_report_items(body))
        ]


PROVIDERS = ("logging", "http", "aliyun")
ALIYUN_SETTINGS = ("SMS_ALIYUN_ACCESS_KEY_ID", "SMS_ALIYUN_ACCESS_KEY_SECRET", "SMS_ALIYUN_SIGN_NAME")


def _not_a_provider(kind: object) -> RuntimeError:
    return RuntimeError(f"SMS_GATEWAY={kind!r} is not a provider: choose one of {', '.join(PROVIDERS)}")


def check_sms_config(config: Mapping[str, Any]) -> None:
    """At start-up: ``SMS_GATEWAY`` names a provider and the provider has what it needs; a clear error if not."""
    kind = config.get("SMS_GATEWAY") or "logging"
    if kind not in PROVIDERS:
        raise _not_a_provider(kind)
    needed = {"http": ("SMS_GATEWAY_URL",), "aliyun": ALIYUN_SETTINGS}.get(kind, ())
    missing = [name for name in needed if not config.get(name)]
    if missing:
        raise RuntimeError(f"SMS_GATEWAY={kind} needs {', '.join(missing)} (docs/sms.md)")
    if kind == "aliyun":
        from hotline.notify.templates import TEMPLATES

        templates = config.get("SMS_ALIYUN_TEMPLATES") or {}
        if not isinstance(templates, Mapping):
            raise RuntimeError("SMS_ALIYUN_TEMPLATES maps template names to Aliyun TemplateCodes (a JSON object)")
        unknown = sorted(set(templates) - set(TEMPLATES))
        if unknown:
            raise RuntimeError(f"SMS_ALIYUN_TEMPLATES names no such templates: {', '.join(unknown)}")


def sms_provider() -> SmsProvider:
    """The configured provider (``SMS_GATEWAY``)."""
    config = current_app.config
    kind = config.get("SMS_GATEWAY") or "logging"
    timeout = float(config.get("SMS_GATEWAY_TIMEOUT") or 10)
    if kind == "logging":
        return LoggingSmsGateway()
    if kind == "http":
        return HttpSmsGateway(config.get("SMS_GATEWAY_URL", ""), config.get("SMS_GATEWAY_TOKEN"), timeout)
    if kind == "aliyun":
        return AliyunSmsGateway(
            access_key_id=config.get("SMS_ALIYUN_ACCESS_KEY_ID") or "",
            access_key_secret=config.get("SMS_ALIYUN_ACCESS_KEY_SECRET") or "",
            sign_name=config.get("SMS_ALIYUN_SIGN_NAME") or "",
            templates=config.get("SMS_ALIYUN_TEMPLATES") or {},
            endpoint=config.get("SMS_ALIYUN_ENDPOINT") or ALIYUN_DEFAULT_ENDPOINT,
            region=config.get("SMS_ALIYUN_REGION") or "cn-hangzhou",
            timeout=timeout,
        )
    raise _not_a_provider(kind)
