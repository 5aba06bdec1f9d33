"""Idempotent retries for the intake POSTs (``POST /api/v1/tickets``, Open311 ``POST requests``).

A caller that sends an ``Idempotency-Key`` header gets, for every retry with the same key and the same body,
the answer of the first request (same status, same body) and no second ticket; the same key with another
body is refused (422). Only a created appeal is remembered: an error answer keeps nothing, so the request
may simply be sent again. Keys are kept for ``IDEMPOTENCY_KEY_HOURS`` (24) and then purged by beat.

Race-safe through the UNIQUE (scope, key) of ``idempotency_key``: the answer is inserted in the transaction
that created the ticket, so of two requests racing with one key the second waits at its INSERT, fails once
the first commits, rolls its own ticket back and replays the first answer (docs/api.md "Idempotent retries").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Response, current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from hotline.api.models import IdempotencyKey
from hotline.core.clock import utcnow
from hotline.core.errors import DomainError, ValidationFailed
from hotline.core.models import rows_matched, table_of
from hotline.extensions import db

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")  # visible ASCII: a UUID, a ULID, a hash
OPENAPI_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"^[\x21-\x7e]+$"},
    "description": "Optional: a unique value per appeal (a UUID). A retry with the same key and the same body "
    "gets the first answer again and files no second ticket; the same key with another body "
    "is refused with 422. Kept for 24 hours.",
}


class KeyReused(DomainError):
    """The key was used for a different request: 422, naming the header."""

    status_code = 422
    default_message = _l("This Idempotency-Key was already used for a different request; send a new key.")

    def __init__(self) -> None:
        super().__init__(field=HEADER)


@dataclass(frozen=True)
class Attempt:
    """A request that carries a key: where the key belongs and what the request was."""

    scope: str
    key: str
    request_sha256: str


def requested_attempt(scope: str) -> Attempt | None:
    """The request's key and fingerprint, or None without the header; a malformed key is refused."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationFailed(
            _l("Idempotency-Key must be 1 to %(n)d visible ASCII characters.", n=MAX_KEY_LENGTH), field=HEADER
        )
    return Attempt(scope=scope[:100], key=key, request_sha256=request_fingerprint())


def request_fingerprint() -> str:
    """SHA-256 of what the request asks for: its path and its body.

    Form bodies are hashed field by field (each file by its content), not as bytes: a client's multipart
    retry picks a new boundary, and the same appeal must still be the same request. The ``api_key`` field
    is left out: it is the scope already, and a secret.
    """
    digest = hashlib.sha256(request.path.encode())
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name, value in sorted(request.form.items(multi=True)):
            if name != "api_key":
                digest.update(b"\0f" + name.encode() + b"\0" + value.encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: (item[0], item[1].filename or "")):
            digest.update(b"\0u" + name.encode() + b"\0" + (upload.filename or "").encode() + b"\0")
            stream = upload.stream
            while chunk := stream.read(65536):
                digest.update(chunk)
            stream.seek(0)
    else:
        digest.update(b"\0b" + request.get_data(cache=True))
    return digest.hexdigest()


def _lifetime() -> timedelta:
    return timedelta(hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])


def previous_answer(attempt: Attempt) -> Response | None:
    """The first answer for this key, to send again; None if the key is new (or expired, and then forgotten).

    Raises ``KeyReused`` when the key came with a different request."""
    row = db.session.execute(
        select(IdempotencyKey).where(IdempotencyKey.scope == attempt.scope, IdempotencyKey.key == attempt.key)
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.created_at < utcnow() - _lifetime():  # not purged yet: as good as gone
        db.session.delete(row)
        db.session.flush()
        return None
    if row.request_sha256 != attempt.request_sha256:
        raise KeyReused()
    response = Response(row.response_body, status=row.response_status, content_type=row.response_content_type)
    if row.response_location:
        response.headers["Location"] = row.response_location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def remember_answer(attempt: Attempt, response: Response) -> None:
    """Keep the answer in the current transaction; an IntegrityError means another request with the key won."""
    db.session.execute(
        insert(table_of(IdempotencyKey)).values(
            scope=attempt.scope,
            key=attempt.key,
            request_sha256=attempt.request_sha256,
            response_status=response.status_code,
            response_body=response.get_data(as_text=True),
            response_content_type=response.content_type,
            response_location=response.headers.get("Location"),
            created_at=utcnow(),
        )
    )


def purge_expired_keys(now: datetime | None = None) -> int:
    """Forget the keys older than their lifetime (beat, hourly); the number deleted."""
    cutoff = (now or utcnow()) - _lifetime()
    return rows_matched(db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))) or 0


def commit_with_answer(attempt: Attempt | None, response: Response) -> Response:
    """The request boundary's one commit, with the answer kept for the key when there is one.

    If another request with the same key committed first, this request's work is rolled back (its ticket,
    its stored photos) and the first answer is sent instead."""
    if attempt is None:
        db.session.commit()
        return response
    try:
        remember_answer(attempt, response)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        first = previous_answer(attempt)
        if first is None:  # not a lost race on the key: a real error
            raise
        return first
    return response
