"""Short signed links for an SMS: two ids and an expiry day, signed with the app's secret under a purpose, so
that one kind of link never opens another (the release SMS's rating link ``/r/``, the evaluation link ``/e/``).
About 25 characters, short enough for an SMS; a forged, mangled or expired token reads as None."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from hotline.core.clock import utcnow

_EPOCH = datetime(2026, 1, 1)


@dataclass(frozen=True)
class SignedLink:
    first: int
    second: int
    expires: datetime


def _signature(purpose: str, message: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"{purpose}:{message}".encode(), hashlib.sha256).digest()[:9]
    return base64.urlsafe_b64encode(digest).decode()


def link_token(purpose: str, first: int, second: int, days: int, now: datetime | None = None) -> str:
    expires_day = ((now or utcnow()) - _EPOCH).days + days + 1
    message = f"{first:x}.{second:x}.{expires_day:x}"
    return f"{message}.{_signature(purpose, message)}"


def parse_link_token(purpose: str, token: str, now: datetime | None = None) -> SignedLink | None:
    parts = token.split(".")
    if len(parts) != 4 or len(token) > 80:
        return None
    message = ".".join(parts[:3])
    if not hmac.compare_digest(_signature(purpose, message), parts[3]):
        return None
    try:
        first, second, expires_day = (int(p, 16) for p in parts[:3])
    except ValueError:
        return None
    expires = _EPOCH + timedelta(days=expires_day)
    if (now or utcnow()) >= expires:
        return None
    return SignedLink(first, second, expires)
