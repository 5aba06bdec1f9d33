"""Errors of the machine channels: JSON under /api, Open311's own format under /open311. Never HTML.

``machine_error_response`` is called by the application's error handlers first; it answers for
requests under those prefixes and returns None for everything else (the HTML pages).
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from hotline.core.errors import DomainError, ValidationFailed

API_PREFIX = "/api/"
OPEN311_PREFIX = "/open311/"

# A stable machine code and a translated default message per HTTP status.
CODES = {
    400: ("bad_request", _l("The request is malformed.")),
    401: ("unauthorized", _l("Authentication is required: a valid bearer token or API key.")),
    403: ("forbidden", _l("You are not allowed to do that.")),
    404: ("not_found", _l("Not found.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    409: ("conflict", _l("The request conflicts with the ticket's current state.")),
    413: ("payload_too_large", _l("The request body is too large.")),
    414: ("uri_too_long", _l("The address is too long. Send long values in the request body.")),
    415: ("unsupported_media_type", _l("Send JSON or multipart/form-data.")),
    422: ("validation_failed", _l("Please correct the marked fields.")),
    429: ("rate_limited", _l("Too many requests. Please wait and try again.")),
    500: ("internal_error", _l("Something went wrong on our side.")),
    503: ("service_unavailable", _l("The service is briefly unavailable. Please try again after Retry-After seconds.")),
}

# marshmallow's field messages, so API clients get them in the catalogue's language too.
MARSHMALLOW_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field may not be empty."),
    "Not a valid string.": _l("Enter text."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Not a valid number.": _l("Enter a number."),
    "Not a valid boolean.": _l("Enter true or false."),
    "Not a valid date.": _l("Enter a date as YYYY-MM-DD."),
    "Not a valid datetime.": _l("Enter a date and time in ISO 8601."),
    "Not a valid list.": _l("Enter a list."),
    "Invalid input type.": _l("This value has the wrong type."),
    "Unknown field.": _l("Unknown field."),
    "Invalid value.": _l("Invalid value."),
}


def translate_field_message(message) -> str:
    text = str(message)
    if text in MARSHMALLOW_MESSAGES:
        return str(MARSHMALLOW_MESSAGES[text])
    if text.startswith("Must be one of"):
        return gettext("Choose one of the listed values.")
    if text.startswith("Longer than maximum length"):
        return gettext("At most %(n)s characters.", n=text.rstrip(".").rsplit(" ", 1)[-1])
    if text.startswith("Length must be between") or text.startswith("Shorter than minimum length"):
        return gettext("This field is required.")
    if text.startswith("Must be greater than or equal to") or text.startswith("Must be less than"):
        return gettext("This value is out of range.")
    return text


def flatten_messages(messages, prefix: str = "") -> dict[str, str]:
    """webargs/marshmallow's nested messages as ``{"field": "message", "photos.0.data": "..."}``."""
    flat: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, name))
    elif isinstance(messages, (list, tuple)):
        if messages and all(not isinstance(m, (dict, list, tuple)) for m in messages):
            flat[prefix or "_schema"] = translate_field_message(messages[0])
        else:
            for value in messages:
                flat.update(flatten_messages(value, prefix))
    else:
        flat[prefix or "_schema"] = translate_field_message(messages)
    return flat


def describe(exc: Exception) -> tuple[int, str, dict[str, str]]:
    """(status, message, fields) for any exception, whatever its origin."""
    if isinstance(exc, DomainError):
        status = 422 if isinstance(exc, ValidationFailed) else exc.status_code
        return status, str(exc.message), {k: str(v) for k, v in exc.fields.items()}
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        fields = {}
        if "messages" in data:  # webargs: {"json": {...}} or {"query": {...}}
            messages = data["messages"]
            for location in ("json", "query", "form", "files", "headers"):
                if isinstance(messages, dict) and location in messages:
                    fields.update(flatten_messages(messages[location]))
            if not fields:
                fields = flatten_messages(messages)
            status = 422
        message = data.get("message") or (CODES.get(status) or CODES[500])[1]
        return status, str(message), fields
    return 500, str(CODES[500][1]), {}


def json_error(status: int, message: str | None = None, fields: dict | None = None, headers=None):
    code, default = CODES.get(status, ("error", CODES[500][1]))
    response = jsonify({"error": {"code": code, "message": str(message or default), "fields": fields or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _headers_of(exc: Exception) -> dict:
    headers = {}
    if isinstance(exc, HTTPException):
        for name, value in exc.get_headers():
            if name.lower() in ("retry-after", "allow", "www-authenticate"):
                headers[name] = value
    return headers


def machine_error_response(exc: Exception):
    """The error response for /api and /open311 requests, or None for the HTML part of the site."""
    path = request.path
    if not (path.startswith(API_PREFIX) or path.startswith(OPEN311_PREFIX)):
        return None
    status, message, fields = describe(exc)
    headers = _headers_of(exc)
    if status == 401 and path.startswith(API_PREFIX):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="hotline"')
    if path.startswith(OPEN311_PREFIX):
        from hotline.open311.formats import open311_error

        status = 400 if status == 422 else status  # GeoReport v2 reports bad input as 400
        return open311_error(status, message, fields, headers)
    return json_error(status, message, fields, headers)
