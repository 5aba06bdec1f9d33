"""A fake Alibaba Cloud SMS endpoint on 127.0.0.1 that checks requests the way dysmsapi does, and signed webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hotline.sms.providers import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_webhook

ACCESS_KEY_ID, ACCESS_KEY_SECRET = "LTAI-test-id", "test-secret-never-real"
SIGN_NAME = "12345热线"
TEMPLATE_CODES = {"reply_released": "SMS_400100001", "tracking_numbers": "SMS_400100002"}
WEBHOOK_SECRET = "webhook-secret-for-tests"


def _encode(value: str) -> str:
    # Written here from Alibaba's description, not imported from the app: the fake checks the app's signature.
    return urllib.parse.quote(value.encode("utf-8"), safe="-_.~")


def expected_signature(params: dict[str, str], secret: str) -> str:
    query = "&".join(_encode(k) + "=" + _encode(params[k]) for k in sorted(params) if k != "Signature")
    string_to_sign = "POST&" + _encode("/") + "&" + _encode(query)
    return base64.b64encode(hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()


class FakeAliyun:
    """Answers SendSms like dysmsapi: refuses a bad signature (SignatureDoesNotMatch), an unknown sign name or
    template, and while ``refuse_with`` is set answers that Code; otherwise Code OK and a new BizId."""

    def __init__(self):
        self.requests: list[dict[str, str]] = []
        self.refuse_with: str | None = None
        self.nonces: set[str] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8")
                params = dict(urllib.parse.parse_qsl(body, keep_blank_values=True, strict_parsing=True))
                status, answer = fake.answer(self.path, self.headers.get("Content-Type", ""), params)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, content_type: str, params: dict[str, str]) -> tuple[int, dict]:
        request_id = f"req-{len(self.requests) + 1}"
        self.requests.append(params)
        if path != "/" or not content_type.startswith("application/x-www-form-urlencoded"):
            return 400, {"Code": "InvalidParameter", "Message": "form POST to /", "RequestId": request_id}
        common = {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "Format": "JSON",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
        }
        for name, value in common.items():
            if params.get(name) != value:
                return 400, {"Code": "MissingParameter", "Message": name, "RequestId": request_id}
        if params.get("AccessKeyId") != ACCESS_KEY_ID:
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "no such key", "RequestId": request_id}
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", params.get("Timestamp", "")):
            return 400, {"Code": "InvalidTimeStamp.Format", "Message": "timestamp", "RequestId": request_id}
        nonce = params.get("SignatureNonce", "")
        if not nonce or nonce in self.nonces:
            return 400, {"Code": "SignatureNonceUsed", "Message": "nonce", "RequestId": request_id}
        self.nonces.add(nonce)
        if not hmac.compare_digest(params.get("Signature", ""), expected_signature(params, ACCESS_KEY_SECRET)):
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched with our calculation.",
                "RequestId": request_id,
            }
        if params.get("SignName") != SIGN_NAME:
            return 200, {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "sign name", "RequestId": request_id}
        if params.get("TemplateCode") not in TEMPLATE_CODES.values():
            return 200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "template", "RequestId": request_id}
        try:
            template_param = json.loads(params.get("TemplateParam", ""))
        except ValueError:
            template_param = None
        if not isinstance(template_param, dict) or not all(isinstance(v, str) for v in template_param.values()):
            return 200, {"Code": "isv.INVALID_JSON_PARAM", "Message": "TemplateParam", "RequestId": request_id}
        if self.refuse_with:
            return 200, {"Code": self.refuse_with, "Message": "refused for the test", "RequestId": request_id}
        return 200, {"Code": "OK", "Message": "OK", "RequestId": request_id, "BizId": f"90{len(self.requests):04d}^0"}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def aliyun_config(endpoint: str) -> dict:
    return {
        "SMS_GATEWAY": "aliyun",
        "SMS_ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "SMS_ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "SMS_ALIYUN_SIGN_NAME": SIGN_NAME,
        "SMS_ALIYUN_TEMPLATES": dict(TEMPLATE_CODES),
        "SMS_ALIYUN_ENDPOINT": endpoint,
        "SMS_GATEWAY_TIMEOUT": 5,
        "SMS_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def signed_headers(body: bytes, secret: str = WEBHOOK_SECRET, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(at if at is not None else time.time()))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign_webhook(secret, timestamp, body),
        "Content-Type": "application/json",
    }
