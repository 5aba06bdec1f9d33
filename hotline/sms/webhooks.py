"""The SMS provider's signed doors on the API: ``POST /api/v1/sms/receipts`` (delivery receipts) and
``POST /api/v1/sms/inbound`` (citizens' replies).

Every body is checked against ``SMS_WEBHOOK_SECRET`` (``verify_webhook``) before it is read: a stranger learns
nothing of the format, and an unsigned or replayed body changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields

from hotline.api.auth import InvalidCredentials
from hotline.api.views import bp, error_responses
from hotline.core.errors import ValidationFailed
from hotline.extensions import db
from hotline.sms.inbound import handle_inbound
from hotline.sms.providers import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookFormatError, sms_provider, verify_webhook
from hotline.sms.receipts import record_receipts

SIGNATURE_PARAMETERS = [
    {
        "in": "header",
        "name": TIMESTAMP_HEADER,
        "required": True,
        "schema": {"type": "string"},
        "description": "Unix time (seconds) of signing; more than five minutes away from ours is refused.",
    },
    {
        "in": "header",
        "name": SIGNATURE_HEADER,
        "required": True,
        "schema": {"type": "string"},
        "description": 'hex HMAC-SHA256 of `timestamp + "." + body` with SMS_WEBHOOK_SECRET (docs/sms.md).',
    },
]


def signed_webhook(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (401) a body not signed with our secret within the last five minutes, before parsing it."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not verify_webhook(request.headers, request.get_data(cache=True)):
            raise InvalidCredentials(_l("The webhook signature is missing, wrong or too old."))
        return view(*args, **kwargs)

    return wrapped


class ReceiptResultSchema(Schema):
    code = fields.Integer(metadata={"description": "0: received (the acknowledgement Aliyun's push expects)."})
    msg = fields.String()
    received = fields.Integer(metadata={"description": "Receipts in the body."})
    updated = fields.Integer(metadata={"description": "Messages whose receipt was recorded."})
    unchanged = fields.Integer(metadata={"description": "Repeats, and receipts older than the recorded one."})
    ignored = fields.Integer(metadata={"description": "Receipts naming no message of ours."})


@bp.route("/sms/receipts", methods=["POST"])
@signed_webhook
@bp.response(200, ReceiptResultSchema)
@bp.doc(
    security=[],
    parameters=SIGNATURE_PARAMETERS,
    requestBody={
        "required": True,
        "description": "The configured provider's receipt shape: Aliyun's SmsReport array, or "
        '`{"receipts": [{"id", "status": "delivered" | "undelivered", "error"}]}` (logging, http).',
        "content": {"application/json": {"schema": {}}},
    },
    responses=error_responses(401, 422),
)
def sms_receipts():
    """Delivery receipts from the SMS provider. Idempotent: a repeated receipt changes nothing; receipts for
    messages we did not send are counted and ignored."""
    try:
        receipts = sms_provider().parse_receipts(request.get_data(cache=True))
    except WebhookFormatError as exc:
        raise ValidationFailed(fields={exc.field: str(exc)}) from exc
    counts = record_receipts(receipts)
    db.session.commit()
    return {"code": 0, "msg": "OK", **vars(counts)}


class InboundResultSchema(Schema):
    code = fields.Integer(metadata={"description": "0: received (the acknowledgement Aliyun's push expects)."})
    msg = fields.String()
    received = fields.Integer(metadata={"description": "Messages in the body."})
    outcomes = fields.List(
        fields.String(),
        metadata={
            "description": "Per message, in order: rated, noted, drafted, opted_out, refused (a rating with nothing "
            "to rate), ignored (no valid phone or no text), or duplicate (handled before)."
        },
    )


@bp.route("/sms/inbound", methods=["POST"])
@signed_webhook
@bp.response(200, InboundResultSchema)
@bp.doc(
    security=[],
    parameters=SIGNATURE_PARAMETERS,
    requestBody={
        "required": True,
        "description": "The configured provider's reply shape: Aliyun's SmsUp array, or "
        '`{"messages": [{"id", "phone", "text"}]}` (logging, http).',
        "content": {"application/json": {"schema": {}}},
    },
    responses=error_responses(401, 422),
)
def sms_inbound():
    """Citizens' SMS to the hotline. A reply `1`, `2` or `3` rates the phone's latest released answer (满意 /
    基本满意 / 不满意, as the release SMS says); `TD` or `退订` stops non-essential SMS; other text becomes a note
    on the phone's open appeal, or a draft for an operator. Idempotent per provider message id."""
    provider = sms_provider()
    try:
        messages = provider.parse_inbound(request.get_data(cache=True))
    except WebhookFormatError as exc:
        raise ValidationFailed(fields={exc.field: str(exc)}) from exc
    outcomes = []
    for message in messages:
        handled = handle_inbound(provider.name, message)
        outcomes.append("duplicate" if handled.duplicate else handled.sms.outcome)
    db.session.commit()
    return {"code": 0, "msg": "OK", "received": len(messages), "outcomes": outcomes}
