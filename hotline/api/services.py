"""API credentials: partner API keys (create, list, revoke, look up) and staff bearer tokens."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import Counter
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from hotline.accounts.models import User
from hotline.accounts.services import load_user, session_is_current
from hotline.api.models import ApiKey, ApiSubmission, KeyKind
from hotline.core.audit import record_audit
from hotline.core.clock import utcnow
from hotline.core.errors import NotFound, ValidationFailed
from hotline.core.models import table_of
from hotline.extensions import db
from hotline.tickets.models import Ticket

log = logging.getLogger(__name__)
KEY_PREFIX = "hk_"
TOKEN_SALT = "hotline.api.token"


def _digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


# --- API keys ----------------------------------------------------------------------------------------------


def create_api_key(
    channel: str, created_by: User | None = None, kind: str = KeyKind.PARTNER.value
) -> tuple[ApiKey, str]:
    """A new key for ``channel`` (a partner's, or with ``kind="cti"`` the telephony's); the raw key is returned
    once and never stored."""
    channel = (channel or "").strip()
    if not channel or len(channel) > 64:
        raise ValidationFailed(_l("A channel name of at most 64 characters is required."), field="channel")
    if kind not in {k.value for k in KeyKind}:
        raise ValidationFailed(_l("The kind is partner or cti."), field="kind")
    active = (
        db.session.execute(select(ApiKey).where(ApiKey.channel == channel, ApiKey.revoked_at.is_(None)))
        .scalars()
        .first()
    )
    if active is not None:
        raise ValidationFailed(
            _l("Channel %(name)s already has an active key (%(id)d); revoke it first.", name=channel, id=active.id),
            field="channel",
        )
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        channel=channel, kind=kind, prefix=raw[:10], key_hash=_digest(raw), created_at=utcnow(), created_by=created_by
    )
    db.session.add(key)
    db.session.flush()
    record_audit(created_by or "cli", "apikey.create", f"api key {key.id}", {"channel": key.channel, "kind": kind})
    return key, raw


def revoke_api_key(key_id: int, actor: User | None = None) -> ApiKey:
    """Requests with the key get 401 from the next request on; the key stays listed for the record."""
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(_l("No API key with id %(id)d.", id=key_id))
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.flush()
        record_audit(actor or "cli", "apikey.revoke", f"api key {key.id}", {"channel": key.channel})
    return key


def list_api_keys() -> list[ApiKey]:
    """Every key, active ones first, newest first; with this process's usage not yet written added in."""
    usage_meter.flush()
    return list(db.session.execute(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())).scalars())


class ActiveKey(NamedTuple):
    """What a request needs of its key: which key (its submissions), which channel, and its kind (a partner's
    or the telephony's)."""

    id: int
    channel: str
    kind: str


# Statements every partner request runs, built once (building one costs more than running it). The key is
# read as a plain row: an ORM object of it cost a tenth of a partner intake's CPU.
_ACTIVE_KEY = select(ApiKey.id, ApiKey.channel, ApiKey.kind).where(
    ApiKey.key_hash == bindparam("key_hash"), ApiKey.kind == bindparam("kind"), ApiKey.revoked_at.is_(None)
)
_INSERT_SUBMISSION = insert(table_of(ApiSubmission))


def find_active_key(raw_key: str | None, kind: str = KeyKind.PARTNER.value) -> ActiveKey | None:
    """The active key of that kind: a partner's door does not open to the telephony's key, nor the reverse."""
    if not raw_key or not raw_key.startswith(KEY_PREFIX) or len(raw_key) > 100:
        return None
    row = db.session.execute(_ACTIVE_KEY, {"key_hash": _digest(raw_key), "kind": kind}).first()
    if row is None:
        return None
    key = ActiveKey(*row)
    usage_meter.count(key.id)
    return key


class UsageMeter:
    """Each key's last use and request count, for the admin page.

    Counted in the process and written at most every ``API_KEY_USAGE_FLUSH_SECONDS`` (one UPDATE per key), in a
    transaction of its own at the start of a request: an UPDATE in every partner request would hold the key's
    row lock until that request ends and line a partner's parallel requests up behind each other. A process
    that dies loses at most that many seconds of counts; the appeals themselves are never at stake here.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: Counter[int] = Counter()
        self._last_used: dict[int, object] = {}
        self._written_at = time.monotonic()  # the first counts wait their turn too, whatever the machine's uptime

    def count(self, key_id: int) -> None:
        with self._lock:
            self._pending[key_id] += 1
            self._last_used[key_id] = utcnow()
            due = time.monotonic() - self._written_at >= current_app.config["API_KEY_USAGE_FLUSH_SECONDS"]
        if due:
            self.flush()

    def discard(self) -> None:
        """Forget what is not written yet (tests: counts must not leak into the next test's database)."""
        with self._lock:
            self._pending.clear()
            self._last_used.clear()
            self._written_at = time.monotonic()

    def flush(self) -> None:
        with self._lock:
            pending, last_used = self._pending, self._last_used
            self._pending, self._last_used, self._written_at = Counter(), {}, time.monotonic()
        if not pending:
            return
        statement = (
            update(ApiKey)
            .where(ApiKey.id == bindparam("key_id"))
            .values(request_count=ApiKey.request_count + bindparam("n"), last_used_at=bindparam("at"))
        )
        try:
            with db.engine.begin() as connection:
                connection.execute(statement, [{"key_id": k, "n": n, "at": last_used[k]} for k, n in pending.items()])
        except SQLAlchemyError:  # the database blipped: keep the counts for the next write
            log.warning("could not record API key usage; will retry", exc_info=True)
            with self._lock:
                self._pending.update(pending)
                for key_id, at in last_used.items():
                    self._last_used.setdefault(key_id, at)


usage_meter = UsageMeter()


def record_submission(ticket: Ticket, key: ActiveKey) -> None:
    # A plain INSERT of a row nothing reads back in this request: no unit-of-work flush for it.
    db.session.execute(_INSERT_SUBMISSION, {"ticket_id": ticket.id, "api_key_id": key.id})


def submitted_with(key: ActiveKey) -> Select[tuple[int]]:
    """A subquery of the ids of tickets filed with ``key``."""
    return select(ApiSubmission.ticket_id).where(ApiSubmission.api_key_id == key.id)


# --- staff bearer tokens -----------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _password_stamp(user: User) -> str:
    # Changing the password invalidates every token issued before.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:12]


def issue_token(user: User) -> str:
    # "sv": the session version; revoking the user's sessions (accounts.services.revoke_sessions) ends the token.
    return _serializer().dumps({"uid": user.id, "pw": _password_stamp(user), "sv": user.session_version})


def token_lifetime() -> int:
    return int(current_app.config.get("API_TOKEN_MAX_AGE", 8 * 3600))


def user_for_token(token: str) -> User | None:
    """The active user a valid, unexpired token was issued to, or None."""
    try:
        payload = _serializer().loads(token, max_age=token_lifetime())
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(payload, dict):
        return None
    uid = payload.get("uid")
    user = load_user(uid) if isinstance(uid, int) else None
    if user is None or not session_is_current(user, payload.get("sv")) or payload.get("pw") != _password_stamp(user):
        return None
    return user
