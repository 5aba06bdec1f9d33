"""The operator's end of the screen pop: a Server-Sent Events stream per signed-in operator, and the call it
names. The console's script (static/js/screen-pop.js) fills the intake form from it without a reload, and reloads
the wrap-up lists when the stream says a call ended without a ticket. And the wrap-up of those calls (the
operator's own and the queue's shared abandoned ones): record one as a direct answer, close an abandoned one."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from hotline.accounts.decorators import permission_required
from hotline.core.clock import to_local
from hotline.core.errors import ValidationFailed
from hotline.core.forms import add_errors
from hotline.cti.bus import bus
from hotline.cti.forms import CloseCallForm, DirectAnswerForm
from hotline.cti.services import (
    WRAP_UP_EVENT,
    answer_call_directly,
    call_for_operator,
    call_to_wrap_up,
    close_abandoned_call,
    direct_answer_defaults,
    tell_consoles,
    waiting_call,
    wrap_up_board,
)
from hotline.extensions import db
from hotline.intake.services import category_choices
from hotline.permissions import can_register_calls

bp = Blueprint("cti", __name__, url_prefix="/console/calls")

HEARTBEAT_SECONDS = 15.0  # a comment line keeps proxies from closing an idle stream


@bp.route("/stream")
@permission_required(can_register_calls)
def stream():
    """Calls answered at this operator's extension (``call``), and calls to wrap up (``wrap-up``: theirs, or
    abandoned in the queue), as they happen. The stream ends after
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
                if message is None:
                    yield ": heartbeat\n\n"
                elif message.get("event") == WRAP_UP_EVENT:  # a call to wrap up: the script reloads the lists
                    yield f"event: wrap-up\ndata: {json.dumps({'call_id': message['call_id']})}\n\n"
                else:
                    yield f"event: call\ndata: {json.dumps(message)}\n\n"

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


# --- wrap-up (the lists are on the console: intake.register_call) --------------------------------------------


@bp.route("/")
@permission_required(can_register_calls)
def wrap_up_list():
    """The console's wrap-up section alone, as the script reloads it when the stream names a call to wrap up."""
    board = wrap_up_board(current_user, current_app.config["CTI_WRAP_UP_HOURS"])
    return render_template("cti/_wrap_up.html", board=board)


def _back_to_console(exc: ValidationFailed):
    """Wrapped up meanwhile (another operator, another tab, a double submit): say by whom; nothing changed."""
    db.session.rollback()
    flash(str(exc.message), "warning")
    return redirect(url_for("intake.register_call"))


@bp.route("/<call_id>/answer", methods=["GET", "POST"])
@permission_required(can_register_calls)
def answer_directly(call_id: str):
    """A call recorded as a consultation answered directly and linked to the call: answered by voice, or an
    abandoned call the operator called back. The form opens filled in (category, title, stock answer), so
    saving it is the second click."""
    try:
        call = call_to_wrap_up(call_id, current_user, lock=request.method == "POST")
    except ValidationFailed as exc:
        return _back_to_console(exc)
    form = DirectAnswerForm()
    if request.method == "GET":
        defaults = direct_answer_defaults(call, current_user)
        form.category_id.data, form.title.data, form.answer.data = defaults.category_id, defaults.title, defaults.answer
    if form.validate_on_submit():
        try:
            ticket = answer_call_directly(
                call, current_user, category_id=form.category_id.data, title=form.title.data, answer=form.answer.data
            )
        except ValidationFailed as exc:
            if "call" in exc.fields:
                return _back_to_console(exc)
            db.session.rollback()
            add_errors(form, exc, default="answer")
        else:
            db.session.commit()
            tell_consoles(call)
            flash(_("Recorded as a direct answer: %(no)s.", no=ticket.tracking_no), "success")
            return redirect(url_for("intake.register_call", last=ticket.tracking_no))
    return render_template(
        "cti/answer.html", form=form, call=call, category_groups=category_choices()
    ), 400 if form.errors else 200


@bp.route("/<call_id>/close", methods=["POST"])
@permission_required(can_register_calls)
def close_call(call_id: str):
    """An abandoned call marked called back or dismissed: it leaves the wrap-up list."""
    try:
        call = call_to_wrap_up(call_id, current_user, lock=True)
    except ValidationFailed as exc:
        return _back_to_console(exc)
    form = CloseCallForm()
    if not form.validate_on_submit():
        raise ValidationFailed(_("Choose called back or dismissed."), field="outcome")
    try:
        close_abandoned_call(call, current_user, form.outcome.data)
    except ValidationFailed as exc:
        if "call" not in exc.fields:
            raise
        return _back_to_console(exc)
    db.session.commit()
    tell_consoles(call)
    flash(_("Call marked as called back.") if form.outcome.data == "called_back" else _("Call dismissed."), "success")
    return redirect(url_for("intake.register_call"))
