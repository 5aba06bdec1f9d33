"""``POST /api/v1/cti/events``: the telephony's door (a key of kind ``cti``, header ``X-API-Key``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import Unauthorized

from hotline.api.auth import API_KEY_HEADER, InvalidCredentials
from hotline.api.models import KeyKind
from hotline.api.services import find_active_key
from hotline.api.views import API_KEY, bp, error_responses
from hotline.core.clock import to_utc_naive, utcnow
from hotline.cti.services import EVENTS, CallEvent, record_call_event, tell_consoles
from hotline.extensions import db


class CtiEventSchema(Schema):
    event = fields.String(
        required=True, validate=validate.OneOf(EVENTS), metadata={"description": "ringing, answered or hangup."}
    )
    call_id = fields.String(
        required=True, metadata={"description": "The telephony's id of the call (1–64 characters)."}
    )
    caller = fields.String(
        metadata={
            "description": "The calling number: E.164 (+8613800138000) or a Chinese local number. Required but on hangup."
        }
    )
    agent = fields.String(metadata={"description": "The extension that answered (required on answered)."})
    time = fields.AwareDateTime(metadata={"description": "When it happened, ISO 8601 with offset (default: now)."})
    recording_url = fields.String(metadata={"description": "hangup only: where the recording can be played."})


class CtiResultSchema(Schema):
    call_id = fields.String()
    state = fields.String(metadata={"description": "ringing, answered or ended."})
    duplicate = fields.Boolean(metadata={"description": "This event of this call had been reported before."})


def cti_key_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The telephony's key, checked before the body is read: a stranger learns nothing of the format."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        raw = request.headers.get(API_KEY_HEADER)
        if raw is None:
            raise Unauthorized()
        key = find_active_key(raw.strip(), kind=KeyKind.CTI.value)
        if key is None:
            raise InvalidCredentials(_l("The API key is invalid, revoked, or not a telephony (cti) key."))
        g.cti_key_id = key.id
        return view(*args, **kwargs)

    return wrapped


@bp.route("/cti/events", methods=["POST"])
@cti_key_required
@bp.arguments(CtiEventSchema)
@bp.response(200, CtiResultSchema)
@bp.doc(security=[API_KEY], responses=error_responses(401, 422))
def cti_events(data):
    """One telephony event. Idempotent per `call_id` and `event`: a repeat answers `duplicate: true` and changes
    nothing. An `answered` call pops up on the console of the operator with that extension; a call that ends
    without a ticket appears on that operator's wrap-up list (on every operator's, when abandoned in the queue)."""
    at = to_utc_naive(data["time"]) if data.get("time") else utcnow()
    event = CallEvent(
        data["event"], data["call_id"], data.get("caller"), data.get("agent"), at, data.get("recording_url")
    )
    call, duplicate = record_call_event(event, g.cti_key_id)
    db.session.commit()
    if not duplicate:
        tell_consoles(call)
    return {"call_id": call.call_id, "state": call.state, "duplicate": duplicate}
