"""The operator's end of the screen pop: a Server-Sent Events stream per signed-in operator, and the call it
names. The console's script (static/js/screen-pop.js) fills the intake form from it without a reload."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Blueprint, Response, abort, current_app, jsonify, stream_with_context
from flask_login import current_user

from hotline.accounts.decorators import permission_required
from hotline.core.clock import to_local
from hotline.cti.bus import bus
from hotline.cti.services import call_for_operator, waiting_call
from hotline.extensions import db
from hotline.permissions import can_register_calls

bp = Blueprint("cti", __name__, url_prefix="/console/calls")

HEARTBEAT_SECONDS = 15.0  # a comment line keeps proxies from closing an idle stream


@bp.route("/stream")
@permission_required(can_register_calls)
def stream():
    """Calls answered at this operator's extension, as they happen. The stream ends after
    ``CTI_STREAM_SECONDS`` (default 300) so a web thread is not held forever; the browser reconnects by itself
    (EventSource, ``retry: 2000``)."""
    user_id = current_user.id
    lifetime = float(current_app.config.get("CTI_STREAM_SECONDS", 300))
    events = bus()
    waiting = waiting_call(current_user)
    first = {"call_id": waiting.call_id} if waiting else None
    db.session.remove()  # nothing below reads the database: give the connection back for the stream's life

    def generate() -> Iterator[str]:
        yield "retry: 2000\n: connected\n\n"
        if first:  # answered while this console was away (reconnecting): the script skips a call it has
            yield f"event: call\ndata: {json.dumps(first)}\n\n"
        ends = time.monotonic() + lifetime
        with events.subscribe(user_id) as receive:
            while (left := ends - time.monotonic()) > 0:
                message = receive(min(HEARTBEAT_SECONDS, left))
                yield f"event: call\ndata: {json.dumps(message)}\n\n" if message else ": heartbeat\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # nginx: pass each event on at once
    return Response(stream_with_context(generate()), mimetype="text/event-stream", headers=headers)


@bp.route("/<call_id>")
@permission_required(can_register_calls)
def show(call_id: str):
    """The call the stream named, for its operator only (another operator's call: 404)."""
    call = call_for_operator(call_id, current_user)
    if call is None:
        abort(404)
    answered = to_local(call.answered_at).strftime("%H:%M:%S") if call.answered_at else None
    return jsonify(call_id=call.call_id, caller=call.caller, state=call.state, answered_at=answered)
