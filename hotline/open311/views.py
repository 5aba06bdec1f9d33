"""GeoReport v2 endpoints, each as .json and .xml. Thin: parse, check the key, call intake, commit.

Tracking numbers are the ``service_request_id``s. Intake is synchronous, so POST returns the id at
once and ``tokens/<token>`` simply answers with the same number. Readers see published requests only, scrubbed
(hotline.core.privacy); a partner key also sees, as it sent them, the requests it filed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select
from werkzeug.exceptions import BadRequest, Forbidden

from hotline.api import idempotency
from hotline.api.present import released_answer
from hotline.api.services import ActiveKey, find_active_key, record_submission, submitted_with
from hotline.core import privacy
from hotline.core.clock import to_local, to_utc_naive, utcnow
from hotline.core.errors import NotFound, ValidationFailed
from hotline.extensions import db
from hotline.intake.services import intake_appeal
from hotline.open311.formats import open311_error, render
from hotline.tickets.labels import label
from hotline.tickets.models import Category, Ticket
from hotline.tickets.services import PUBLIC, AppealInput
from hotline.tickets.validation import LIMITS
from hotline.tickets.workflow import OPEN_STATUSES, Appeal, Channel

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FMT = "<any(json, xml):fmt>"
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
_OPEN = {s.value for s in OPEN_STATUSES}


# Intake's field names as a GeoReport client knows them.
SPEC_NAMES = {
    "citizen_phone": "phone",
    "body": "description",
    "title": "attribute[title]",
    "appeal_type": "attribute[appeal_type]",
    "address": "address_string",
    "lon": "long",
    "citizen_name": "last_name",
    "category_id": "service_code",
}


class InvalidApiKey(Forbidden):
    def __init__(self):
        super().__init__()
        self.data = {"message": _l("Invalid api_key received -- can't proceed.")}


class MissingArgument(BadRequest):
    def __init__(self, message):
        super().__init__()
        self.data = {"message": message}


def _iso(moment: datetime | None) -> str | None:
    return to_local(moment).isoformat(timespec="seconds") if moment else None


# --- discovery and services --------------------------------------------------------------------------------


@bp.route(f"/discovery.{FMT}")
def discovery(fmt):
    changeset = "2026-01-01T00:00:00+08:00"
    payload = {
        "changeset": changeset,
        "contact": current_app.config.get("OPEN311_CONTACT", "12345"),
        "key_service": current_app.config.get(
            "OPEN311_KEY_SERVICE", "API keys are issued by the hotline administrator."
        ),
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": url_for("open311.discovery", fmt=fmt, _external=True).rsplit("/discovery", 1)[0],
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", payload)


def _services():
    return db.session.execute(
        select(Category).where(Category.parent_id.is_not(None), Category.active).order_by(Category.code)
    ).scalars()


@bp.route(f"/services.{FMT}")
def services(fmt):
    payload = [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.full_name,
            "metadata": True,
            "type": "realtime",
            "keywords": "",
            "group": c.parent.name if c.parent else "",
        }
        for c in _services()
    ]
    return render(fmt, "services", payload)


def _service(code: str) -> Category:
    category = db.session.execute(
        select(Category).where(Category.code == code, Category.parent_id.is_not(None), Category.active)
    ).scalar_one_or_none()
    if category is None:
        raise NotFound(_l("No service with code %(code)s.", code=code))
    return category


@bp.route(f"/services/<service_code>.{FMT}")
def service_definition(service_code, fmt):
    category = _service(service_code)
    attributes = [
        {
            "variable": True,
            "code": "appeal_type",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": gettext("Default: complaint"),
            "order": 1,
            "description": gettext("Type of appeal"),
            "values": [{"key": a.value, "name": label("appeal", a.value)} for a in Appeal],
        },
        {
            "variable": True,
            "code": "title",
            "datatype": "string",
            "required": False,
            "datatype_description": gettext(
                "At most %(n)d characters; default: the start of the description.", n=LIMITS["title"]
            ),
            "order": 2,
            "description": gettext("Title"),
            "values": [],
        },
    ]
    for i, question in enumerate(category.questions or [], start=1):
        attributes.append(
            {
                "variable": True,
                "code": f"q{i}",
                "datatype": "string",
                "required": False,
                "datatype_description": "",
                "order": 2 + i,
                "description": question,
                "values": [],
            }
        )
    return render(fmt, "service_definition", {"service_code": category.code, "attributes": attributes})


# --- requests ----------------------------------------------------------------------------------------------


def as_request(ticket: Ticket, own: bool = False) -> dict:
    """A request as GeoReport has it. The partner that filed it (``own``) reads back what it sent; everyone
    else reads the published version (hotline.core.privacy): texts scrubbed, street-level address and point."""
    answer = released_answer(ticket)
    closed = ticket.status not in _OPEN
    notes = answer["body"] if answer else label("status", ticket.status)
    description, address, (lat, lon) = ticket.body, ticket.address, (ticket.lat, ticket.lon)
    if not own:
        known: dict[str, list[str | None]] = dict(
            names=[ticket.citizen_name], phones=[ticket.citizen_phone], addresses=[ticket.address]
        )
        notes, description = privacy.scrub_text(notes, **known), privacy.scrub_text(description, **known)
        address = privacy.public_address(address) or None
        lat, lon = privacy.public_point(lat, lon)
    return {
        "service_request_id": ticket.tracking_no,
        "status": "closed" if closed else "open",
        "status_notes": notes,
        "service_name": ticket.category.name if ticket.category else None,
        "service_code": ticket.category.code if ticket.category else None,
        "description": description,
        "agency_responsible": ticket.lead_unit.name if ticket.lead_unit else None,
        "service_notice": None,
        "requested_datetime": _iso(ticket.created_at),
        "updated_datetime": _iso(ticket.updated_at),
        "expected_datetime": _iso(ticket.answer_deadline_at),
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": None,
    }


def _key_from_request(required: bool) -> ActiveKey | None:
    raw = request.values.get("api_key") or request.headers.get("X-API-Key")
    if not raw:
        if required:
            raise InvalidApiKey()
        return None
    key = find_active_key(raw.strip())
    if key is None:
        raise InvalidApiKey()
    return key


def _own(key: ActiveKey | None):
    return Ticket.id.in_(submitted_with(key)) if key is not None else false()


def _visible(key: ActiveKey | None):
    """Published appeals (hotline.core.privacy.publicly_visible), plus those this key filed."""
    return or_(privacy.publicly_visible(), _own(key))


def _parse_time(name: str) -> datetime | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return to_utc_naive(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise MissingArgument(_l("%(name)s must be an ISO 8601 date-time.", name=name)) from None
    except OverflowError:  # 9999-12-31T23:59:59-12:00 is past the year 9999 in UTC
        raise MissingArgument(_l("%(name)s is outside the years 1 to 9999.", name=name)) from None


def _csv(name: str) -> list[str]:
    return [v.strip() for v in (request.args.get(name) or "").split(",") if v.strip()]


@bp.route(f"/requests.{FMT}", methods=["GET"])
def list_requests(fmt):
    key = _key_from_request(required=False)
    query = select(Ticket, _own(key).label("own")).where(_visible(key))
    ids = _csv("service_request_id")
    if ids:  # the spec: with ids given, the other filters are ignored
        query = query.where(Ticket.tracking_no.in_(ids[:MAX_REQUESTS]))
    else:
        codes = _csv("service_code")
        if codes:
            query = query.join(Category, Ticket.category_id == Category.id).where(Category.code.in_(codes))
        statuses = _csv("status")
        if any(s not in ("open", "closed") for s in statuses):
            raise MissingArgument(_l("status must be open or closed."))
        if statuses and len(set(statuses)) == 1:
            wanted_open = statuses[0] == "open"
            query = query.where(Ticket.status.in_(_OPEN) if wanted_open else Ticket.status.notin_(_OPEN))
        start, end = _parse_time("start_date"), _parse_time("end_date")
        if start and end and start > end:
            raise MissingArgument(_l("start_date is after end_date."))
        if start is None and end is None:
            start = utcnow() - DEFAULT_WINDOW
        if start is not None:
            query = query.where(Ticket.created_at >= start)
        if end is not None:
            query = query.where(Ticket.created_at <= end)
    rows = db.session.execute(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(MAX_REQUESTS))
    return render(fmt, "service_requests", [as_request(ticket, bool(own)) for ticket, own in rows])


@bp.route(f"/requests/<service_request_id>.{FMT}", methods=["GET"])
def show_request(service_request_id, fmt):
    key = _key_from_request(required=False)
    row = db.session.execute(
        select(Ticket, _own(key).label("own")).where(Ticket.tracking_no == service_request_id, _visible(key))
    ).first()
    if row is None:
        raise NotFound(_l("No service request with id %(id)s.", id=service_request_id))
    return render(fmt, "service_requests", [as_request(row[0], bool(row[1]))])


@bp.route(f"/tokens/<token>.{FMT}", methods=["GET"])
def show_token(token, fmt):
    """Requests are created synchronously: the token is the service_request_id itself."""
    key = _key_from_request(required=False)
    exists = db.session.execute(select(Ticket.id).where(Ticket.tracking_no == token, _visible(key))).first()
    if exists is None:
        raise NotFound(_l("No service request with token %(token)s.", token=token))
    return render(fmt, "service_requests", [{"service_request_id": token, "token": token}])


def _float(name: str) -> float | None:
    value = (request.form.get(name) or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValidationFailed(_l("Enter a number."), field=name) from None


@bp.route(f"/requests.{FMT}", methods=["POST"])
def create_request(fmt):
    """Create a service request (form-encoded, as the spec has it). It waits in review like any web appeal."""
    form = request.form
    key = _key_from_request(required=True)
    attempt = idempotency.requested_attempt(f"open311:key:{key.id}")
    if attempt is not None:
        try:
            first = idempotency.previous_answer(attempt)
        except idempotency.KeyReused as exc:  # 422 as in the JSON API (the spec has no code for it)
            return open311_error(422, str(exc.message), {k: str(v) for k, v in exc.fields.items()})
        if first is not None:
            return first
    code = (form.get("service_code") or "").strip()
    if not code:
        raise MissingArgument(_l("service_code is required."))
    category = _service(code)
    lat, lon = _float("lat"), _float("long")
    address = (form.get("address_string") or form.get("address_id") or "").strip() or None
    if address is None and (lat is None or lon is None):
        raise MissingArgument(_l("A location is required: lat and long, address_string or address_id."))
    description = (form.get("description") or "").strip()
    answers = [
        f"{q}：{form.get(f'attribute[q{i}]').strip()}"
        for i, q in enumerate(category.questions or [], start=1)
        if (form.get(f"attribute[q{i}]") or "").strip()
    ]
    title = (form.get("attribute[title]") or "").strip() or description[:30] or category.name
    name = ((form.get("last_name") or "").strip() + (form.get("first_name") or "").strip()) or None
    media_url = (form.get("media_url") or "").strip()
    appeal = AppealInput(
        appeal_type=(form.get("attribute[appeal_type]") or Appeal.COMPLAINT.value).strip(),
        title=title,
        body="\n".join([description, *answers]).strip(),
        citizen_phone=form.get("phone") or "",
        channel=Channel.OPEN311.value,
        category_id=category.id,
        address=address,
        lat=lat,
        lon=lon,
        citizen_name=name,
    )
    # media_url is recorded for the operator, never fetched by the server.
    note = f"media_url: {media_url[:500]}" if media_url else None
    try:
        ticket = intake_appeal(appeal, PUBLIC, "submit", note=note)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={SPEC_NAMES.get(k, k): v for k, v in exc.fields.items()}) from None
    record_submission(ticket, key)
    response = render(
        fmt,
        "service_requests",
        [{"service_request_id": ticket.tracking_no, "service_notice": None, "account_id": None}],
        status=201,
    )
    return idempotency.commit_with_answer(attempt, response)
