"""The JSON API under /api/v1: tokens, tickets, tracking. Thin: parse, authorise, call one service, commit."""

from __future__ import annotations

import base64
import binascii
import io
import math

import marshmallow as ma
from flask import current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from hotline.accounts.decorators import record_lockout, sign_in_lockout
from hotline.accounts.services import authenticate
from hotline.api import idempotency, present
from hotline.api.auth import current_caller, is_authenticated_quietly, require_authenticated
from hotline.api.errors import flatten_messages, json_error
from hotline.api.queries import filtered, page_of, page_of_matches, visible_ticket
from hotline.api.schemas import (
    ErrorSchema,
    TicketCreateFormSchema,
    TicketCreateSchema,
    TicketPageSchema,
    TicketQuerySchema,
    TicketSchema,
    TicketSummarySchema,
    TokenRequestSchema,
    TokenSchema,
    TrackQuerySchema,
    TrackSchema,
)
from hotline.api.services import issue_token, record_submission, token_lifetime
from hotline.core.errors import NotFound, ValidationFailed
from hotline.extensions import db, limiter
from hotline.intake.services import MAX_PHOTO_BYTES, MAX_PHOTOS, Photo, intake_appeal, read_photo
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.permissions import can_register_calls
from hotline.tickets.models import Category
from hotline.tickets.services import AppealInput
from hotline.tickets.validation import normalise_phone, validate_appeal
from hotline.tickets.workflow import Channel

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Tickets for staff tools and partner channels; tracking for citizens.",
)

BEARER: dict[str, list[str]] = {"bearerAuth": []}
API_KEY: dict[str, list[str]] = {"apiKey": []}
ERRORS = {
    status: {"description": text, "content": {"application/json": {"schema": ErrorSchema}}}
    for status, text in [
        (400, "Malformed request"),
        (401, "Missing or invalid credentials"),
        (403, "Not allowed"),
        (404, "Not found (or not yours to see)"),
        (409, "Conflict"),
        (413, "Body too large"),
        (422, "Invalid fields"),
        (429, "Rate limited"),
    ]
}


def error_responses(*statuses):
    return {s: ERRORS[s] for s in statuses}


def _config_limit(name: str, default: str):
    return lambda: current_app.config.get(name, default)


def _status_is(code: int):
    return lambda response: response.status_code == code


# --- tokens -------------------------------------------------------------------------------------------------


def _posted_username() -> str | None:
    body = request.get_json(silent=True)
    return body.get("username") if isinstance(body, dict) and isinstance(body.get("username"), str) else None


def _token_locked(limit) -> None:
    """Audited like a locked web sign-in; the usual 429 answer (rate_limited, Retry-After) follows."""
    record_lockout(_posted_username(), limit)


@bp.route("/auth/token", methods=["POST"])
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.doc(security=[], responses=error_responses(401, 403, 422, 429))
@limiter.limit(_config_limit("API_TOKEN_RATE_LIMIT", "10 per minute"), deduct_when=_status_is(401))
@sign_in_lockout(_posted_username, _status_is(401), on_breach=_token_locked)
def token(credentials):
    """Exchange a staff username and password for a bearer token.

    The token is signed (itsdangerous) and expires after `expires_in` seconds; changing the password
    invalidates it. Send it as `Authorization: Bearer <token>`. Failed attempts are rate limited.
    """
    user = authenticate(credentials["username"], credentials["password"])
    if user is None:
        return json_error(401, _l("Wrong username or password."))
    if user.must_change_password:  # a temporary password from an admin opens only the web's password form
        return json_error(403, _l("Choose a new password at /account/password first; then request a token."))
    db.session.commit()  # last_login_at
    return {"access_token": issue_token(user), "token_type": "Bearer", "expires_in": token_lifetime()}


# --- tickets ------------------------------------------------------------------------------------------------


@bp.route("/tickets", methods=["POST"])
@bp.doc(
    security=[{}, BEARER, API_KEY],
    parameters=[idempotency.OPENAPI_PARAMETER],
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": TicketCreateSchema},
            # The same fields as form fields; photos as file parts named `photos`.
            "multipart/form-data": {"schema": TicketCreateFormSchema},
        },
    },
    responses=error_responses(400, 401, 403, 413, 422, 429),
)
@bp.response(201, TicketSummarySchema)
@limiter.limit(_config_limit("API_PUBLIC_INTAKE_RATE_LIMIT", "10 per minute"), exempt_when=is_authenticated_quietly)
def create_ticket():
    """File an appeal.

    Anonymous callers and partner API keys file into review (`pending_review`) with the default urgency
    (staff decide urgency); staff with the operator role may `register` straight to dispatch. Photos: base64
    in JSON (`photos: [{filename, data}]`) or file parts in multipart/form-data; at most 5, each a JPEG, PNG
    or WebP of at most 5 MB. The answer is the ticket's summary; its `Location` header points at the full
    record. With an `Idempotency-Key` header a retry gets the first answer again instead of a second ticket.
    """
    caller = current_caller()
    attempt = idempotency.requested_attempt(_idempotency_scope(caller))
    if attempt is not None:
        first = idempotency.previous_answer(attempt)
        if first is not None:
            return first
    data, photos = _read_appeal()
    appeal, errors = _appeal_input(data)
    if errors:
        try:
            validate_appeal(appeal)
        except ValidationFailed as exc:
            errors = {**_rename(exc.fields), **errors}
        raise ValidationFailed(_l("Please correct the marked fields."), fields=errors)
    is_operator = caller.user is not None and can_register_calls(caller.user)
    outcome = data["outcome"] or ("register" if is_operator else "submit")
    try:
        ticket = intake_appeal(appeal, caller.actor, outcome, photos=photos, note=data["note"])
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields=_rename(exc.fields)) from None
    if caller.api_key is not None:
        record_submission(ticket, caller.api_key)
    # The summary, not the full record: intake stays cheap; GET the Location for history and photos.
    # Built before the commit, so the committed (expired) ticket need not be read back.
    response = jsonify(_SUMMARY_SCHEMA.dump(present.summary(ticket, caller)))
    response.status_code = 201
    response.headers["Location"] = url_for("api.ticket_detail", tracking_no=ticket.tracking_no)
    return idempotency.commit_with_answer(attempt, response)


def _idempotency_scope(caller) -> str:
    """Whose keys these are: a partner key, a staff user, or (anonymous) the client address."""
    if caller.api_key is not None:
        return f"api:key:{caller.api_key.id}"
    if caller.user is not None:
        return f"api:user:{caller.user.id}"
    return f"api:address:{get_remote_address()}"


_RENAMED = {"category_id": "category_code", "district_id": "district_code"}


def _rename(fields: dict) -> dict:
    return {_RENAMED.get(k, k): v for k, v in fields.items()}


_CREATE_SCHEMA = TicketCreateSchema()  # schemas are reusable; building one deep-copies every field
_SUMMARY_SCHEMA = TicketSummarySchema()


def _read_appeal() -> tuple[dict, list[Photo]]:
    schema = _CREATE_SCHEMA
    if request.mimetype == "multipart/form-data":
        raw = {name: request.form.get(name) for name in request.form.keys()}
        try:
            data = schema.load(raw)
        except ma.ValidationError as exc:
            raise ValidationFailed(
                _l("Please correct the marked fields."), fields=flatten_messages(exc.messages)
            ) from None
        files = [f for f in request.files.getlist("photos") if f and f.filename]
        if len(files) > MAX_PHOTOS:
            raise ValidationFailed(_l("At most %(n)d photos.", n=MAX_PHOTOS), field="photos")
        return data, _checked([(f.filename, f.stream) for f in files])
    if not request.is_json:
        raise UnsupportedMediaType()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest()
    try:
        data = schema.load(body)
    except ma.ValidationError as exc:
        raise ValidationFailed(_l("Please correct the marked fields."), fields=flatten_messages(exc.messages)) from None
    streams, errors = [], {}
    encoded_limit = math.ceil(MAX_PHOTO_BYTES / 3) * 4 + 4
    for i, photo in enumerate(data["photos"]):
        if len(photo["data"]) > encoded_limit:
            errors[f"photos.{i}"] = str(_l("Each photo may be at most 5 MB."))
            continue
        try:
            streams.append((photo["filename"], io.BytesIO(base64.b64decode(photo["data"], validate=True))))
        except (binascii.Error, ValueError):
            errors[f"photos.{i}"] = str(_l("Not valid base64."))
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), fields=errors)
    return data, _checked(streams)


def _checked(streams) -> list[Photo]:
    """Every photo read (up to its limit) and checked; all problems reported at once."""
    photos, errors = [], {}
    for i, (filename, stream) in enumerate(streams):
        try:
            photos.append(read_photo(filename, stream, field=f"photos.{i}"))
        except ValidationFailed as exc:
            errors.update({k: str(v) for k, v in exc.fields.items()})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), fields=errors)
    return photos


def _appeal_input(data: dict) -> tuple[AppealInput, dict]:
    errors = {}
    category_id = district_id = None
    if data["category_code"]:
        category = db.session.execute(db.select(Category).filter_by(code=data["category_code"])).scalar_one_or_none()
        if category is None or not category.active:
            errors["category_code"] = str(_l("Unknown category."))
        else:
            category_id = category.id
    if data["district_code"]:
        district = db.session.execute(db.select(OrgUnit).filter_by(code=data["district_code"])).scalar_one_or_none()
        if district is None or district.kind != UnitKind.DISTRICT.value:
            errors["district_code"] = str(_l("Unknown district."))
        else:
            district_id = district.id
    appeal = AppealInput(
        appeal_type=data["appeal_type"],
        title=data["title"],
        body=data["body"],
        citizen_phone=data["citizen_phone"],
        channel=Channel.API.value,
        urgency=data["urgency"],
        category_id=category_id,
        address=data["address"],
        district_id=district_id,
        lat=data["lat"],
        lon=data["lon"],
        citizen_name=data["citizen_name"] or None,
        confidential=data["confidential"],
        allow_publish=data["allow_publish"],
    )
    return appeal, errors


@bp.route("/tickets", methods=["GET"])
@bp.arguments(TicketQuerySchema, location="query")
@bp.response(200, TicketPageSchema)
@bp.doc(security=[BEARER, API_KEY], responses=error_responses(401, 422))
def list_tickets(args):
    """Tickets the caller may see, newest first.

    Staff see what their roles cover (their units and below); a partner key sees the appeals it filed.
    With `q` (Chinese words, all must match) the list holds the newest 1,000 matches: `total` counts up to
    1,000 and `total_capped` is true when more tickets match (narrow the search with the other filters).
    """
    caller = require_authenticated()
    capped = False
    if args.get("q"):
        items, total, capped = page_of_matches(filtered(caller, args), args["q"], args["page"], args["per_page"])
    else:
        items, total = page_of(filtered(caller, args), args["page"], args["per_page"])
    return {
        "items": [present.summary(t, caller) for t in items],
        "page": args["page"],
        "per_page": args["per_page"],
        "total": total,
        "total_capped": capped,
        "pages": math.ceil(total / args["per_page"]),
    }


@bp.route("/tickets/<tracking_no>", methods=["GET"])
@bp.response(200, TicketSchema)
@bp.doc(security=[BEARER, API_KEY], responses=error_responses(401, 404))
def ticket_detail(tracking_no):
    """One ticket with its history. Not found, too, when it exists but is outside the caller's scope."""
    caller = require_authenticated()
    data = present.detail(visible_ticket(caller, tracking_no), caller)
    db.session.commit()  # the audit row of a full-contact view
    return data


# --- the citizen's view -------------------------------------------------------------------------------------


@bp.route("/track", methods=["GET"])
@bp.arguments(TrackQuerySchema, location="query")
@bp.response(200, TrackSchema)
@bp.doc(security=[], responses=error_responses(404, 422, 429))
@limiter.limit(_config_limit("API_TRACK_RATE_LIMIT", "10 per minute"), deduct_when=_status_is(404))
def track(args):
    """The citizen's view: tracking number + phone → status, public timeline, released answer.

    A wrong number or phone gets one neutral answer; failed attempts are rate limited per address.
    """
    from hotline.tickets.services import find_for_citizen

    # The caller's own appeal; a merged caller may also give the master's number (as on /track).
    ticket = find_for_citizen(args["tracking_no"].strip(), normalise_phone(args["phone"]))
    if ticket is None:
        raise NotFound(_l("No appeal matches this tracking number and phone number."))
    return present.track(ticket)
