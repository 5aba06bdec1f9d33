"""Every id and number that arrives in a URL, a query string or a form field is read here (issue 23.5), so a
value the database cannot hold never reaches a query.

- Path parts: the app's URL converters (``install_converters``). ``<int:…>`` matches only ids a column can hold
  (1 … 2³¹−1, PostgreSQL's ``integer``), text parts never hold a control character; anything else answers 404,
  as an unknown id does.
- Query arguments and form fields: ``query_id``/``form_id``, ``query_page`` and ``coerce_id`` (WTForms) raise
  ``ValidationFailed`` naming the field: a 400 page on the web, 422 with ``fields`` in the JSON API, 400 in
  Open311. (The API's own arguments are marshmallow fields with ranges; webargs answers 422 the same way.)
- Before every request, ``refuse_unstorable_input`` refuses NUL in query strings, form fields and JSON; other
  control characters in query strings; lone surrogates (which UTF-8 cannot encode) and nesting deeper than
  ``MAX_JSON_DEPTH`` in JSON bodies; and a ``?page=`` that is not 1 … ``MAX_PAGE`` on any list (one meaning
  everywhere, so no list's OFFSET overflows).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

from flask import Flask, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestURITooLarge
from werkzeug.routing import BaseConverter, IntegerConverter, PathConverter, UnicodeConverter, ValidationError

from hotline.core.errors import DomainError, ValidationFailed

MAX_ID = 2**31 - 1  # every primary key is an ``integer`` column
MAX_PAGE = 100_000  # the API's bound too: page × page size stays far inside a 64-bit OFFSET
MAX_JSON_DEPTH = 32  # the deepest legitimate body (photos in an appeal) has 3 levels
# Longer URLs get the app's own 414 (JSON under /api); gunicorn runs with --limit-request-line 8190
# (docs/deployment.md) so that it is the app, not gunicorn's HTML page, that answers up to 8 KB.
MAX_URL_BYTES = 4096
# The days a date filter or a deadline may name: wide (a filter "to 2999" is fine, it finds nothing), but
# clear of the edges of Python's calendar, which overflow when a local time moves to UTC (0001-01-01 00:00
# in Beijing is in year 0; 9999-12-31 23:59 at UTC-12 is in year 10000).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
FIRST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LAST_MOMENT = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)
_DIGITS = re.compile(r"[0-9]{1,10}", re.ASCII)
# C0 controls and DEL; tab, line feed and carriage return are text (a pasted appeal in the assistant's query).
_QUERY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PATH_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # no path part may hold any control character
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class BodyTooDeep(DomainError):
    """A malformed body, like invalid JSON: 400 on every channel."""

    status_code = 400
    default_message = _l("The JSON body is nested too deeply.")


def refused(field: str, problem) -> ValidationFailed:
    """The error for one bad parameter: its name in the message (pages) and in ``fields`` (API)."""
    field = _PATH_CONTROL.sub("", _SURROGATE.sub("", field))[:40] or "_schema"
    return ValidationFailed(
        gettext("%(field)s: %(problem)s", field=field, problem=str(problem)), fields={field: problem}
    )


def parse_int(raw: str | None, field: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """``raw`` as an int within [minimum, maximum]; None when absent or empty. ASCII digits only."""
    text = (raw or "").strip()
    if not text:
        return None
    if not _DIGITS.fullmatch(text):
        raise refused(field, _l("Enter a whole number."))
    value = int(text)
    if not minimum <= value <= maximum:
        raise refused(field, _l("This value is out of range."))
    return value


def query_id(name: str) -> int | None:
    """An id from the query string (``?unit=``); None when absent or empty."""
    return parse_int(request.args.get(name), name)


def form_id(name: str) -> int | None:
    return parse_int(request.form.get(name), name)


def query_page(name: str = "page") -> int:
    return parse_int(request.args.get(name), name, maximum=MAX_PAGE) or 1


def in_date_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def coerce_id(value) -> int | None:
    """WTForms ``coerce`` for a select of ids: a bad or out-of-range value fails the field's validation."""
    if value in (None, "", "None", 0, "0"):  # 0: the "none" choice of a select
        return None
    text = str(value).strip()
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_ID:
        raise ValueError(value)  # WTForms turns it into the field's "could not coerce" error
    return int(text)


# --- URL converters --------------------------------------------------------------------------------------


class IdConverter(IntegerConverter):
    """``<int:…>``: 1 … MAX_ID unless the rule says otherwise; beyond it the URL matches nothing (404)."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002 — werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class _NoControl(BaseConverter):
    def to_python(self, value: str) -> str:
        if _PATH_CONTROL.search(value):
            raise ValidationError()  # the rule does not match: 404
        return super().to_python(value)


class TextConverter(_NoControl, UnicodeConverter):
    pass


class TextPathConverter(_NoControl, PathConverter):
    pass


def install_converters(app: Flask) -> None:
    """Before any blueprint adds its rules (rules bind their converters when added)."""
    app.url_map.converters.update(default=TextConverter, string=TextConverter, path=TextPathConverter, int=IdConverter)


# --- text the database cannot store ------------------------------------------------------------------------


def _bad_json_text(value, path: str = "") -> tuple[str, str] | None:
    """(field path, problem) of the first string or key holding NUL or a lone surrogate; raises BodyTooDeep."""
    stack = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BodyTooDeep(fields={"_schema": BodyTooDeep.default_message})
        if isinstance(item, str):
            if "\x00" in item:
                return where or "_schema", "nul"
            if _SURROGATE.search(item):
                return where or "_schema", "surrogate"
        elif isinstance(item, dict):
            for key, child in item.items():  # a key is text too
                stack.append((key, where, depth + 1))
                stack.append((child, f"{where}.{key}" if where else key, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{i}" if where else str(i), depth + 1) for i, child in enumerate(item))
    return None


def refuse_unstorable_input() -> None:
    """Before every request. PostgreSQL cannot store NUL in text and UTF-8 cannot encode a lone surrogate
    (both were 500s); no legitimate input has either, nor a control character in a query string. File parts
    are not checked. Invalid JSON is left to the endpoint's own parser and its usual answer."""
    if len(request.environ.get("RAW_URI") or request.full_path) > MAX_URL_BYTES:
        raise RequestURITooLarge()
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise refused(name, _l("Text may not contain NUL characters."))
        if _QUERY_CONTROL.search(name) or _QUERY_CONTROL.search(value):
            raise refused(name, _l("Text may not contain control characters."))
    if "page" in request.args:
        query_page()
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            if "\x00" in f"{name}{value}":  # a multipart part may come without a name
                raise refused(str(name or ""), _l("Text may not contain NUL characters."))
    if request.is_json:
        try:
            body = json.loads(request.get_data(cache=True))
        except RecursionError:
            raise BodyTooDeep(fields={"_schema": BodyTooDeep.default_message}) from None
        except ValueError:
            return
        bad = _bad_json_text(body)
        if bad is not None:
            field, kind = bad
            raise refused(
                field,
                _l("Text may not contain NUL characters.")
                if kind == "nul"
                else _l("The text is not valid Unicode (a lone surrogate)."),
            )
