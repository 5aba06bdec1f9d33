"""Hostile parameters over every route of ``app.url_map`` (issue 23.5), as ``flask routes`` lists them: the
HTML pages, the API and Open311 alike, anonymous and signed in as one account holding every staff role.

Path parts get ids beyond what a column holds, zero, negatives, NUL, control characters and non-digits; query
strings and form fields get the names the route's package reads (scanned from its source) with those values;
JSON bodies get NUL and lone surrogates. The answer may be any 4xx (or a page, a redirect): never a 5xx.
The schemathesis run (test_fuzz_api.py) checks the API against its document; this one checks what a document
does not describe.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.extensions import db, limiter
from tests.factories import PASSWORD
from tests.integration.test_access_matrix import build_objects, row_for

HUGE = "99999999999999999999"  # beyond 64 bits
# Values for one named parameter at a time (a view that refuses the first bad one must not hide the next).
NUMBERS = [HUGE, "-1", "１２"]
# Values for every parameter at once: refused before any view reads them.
TEXTS = ["\x00", "a\x00b", "\x07\x0b\x0c", "%ED%A0%80", "x" * 3000]
PATH_INTS = [HUGE, "2147483648", "0"]
PATH_TEXTS = ["%00", "a%00b", "%07", "%0b", "%C2%85", "%ED%A0%80", "%25", ".."]
JSON_BODIES = ['{"%s": "\\ud800"}', '{"%s": ["a\\u0000b"]}', '{"\\udfff": "%s"}', '{"%s": 99999999999999999999}']
# Parameter names every route gets, beyond what its package reads.
COMMON = {"page", "unit", "id", "category", "status", "next"}
# The dispatch form is read only by the dispatch action (its units are the 64-bit case of the issue).
ROUTE_VALUES = {"tickets.act": {"action": "dispatch"}, "api.act": {"action": "dispatch"}}
# Ending the walking session would sign the fuzzer out half-way.
SKIP = {"accounts.logout", "accounts.sign_out_everywhere_view"}
NAME = re.compile(
    r"""(?:args|form|values|data)(?:\.get(?:list)?\(|\[)\s*f?["']([a-z_][\w-]*)["']"""
    r"""|^\s+([a-z_]\w*) = \w*Field\(""",
    re.M,
)


def _names_read_by(view) -> set[str]:
    """The query and form names the view's package reads (``request.args.get("unit")``, WTForms fields)."""
    package = Path(inspect.getfile(importlib.import_module(view.__module__))).parent
    names = set(COMMON)
    for source in package.glob("*.py"):
        for match in NAME.finditer(source.read_text(encoding="utf-8")):
            names.add(match.group(1) or match.group(2))
    return names - {"csrf_token", "submit"}


@pytest.fixture
def fuzzer(app, world):
    """One account with every staff role over the whole city, and a handler role at 东湖区."""
    staff = [(r, world.city) for r in (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)]
    create_user("fuzzer", PASSWORD, "fuzzer", org_unit=world.hotline, roles=[*staff, (Role.HANDLER, world.district)])
    db.session.commit()
    limiter.enabled = False
    yield
    limiter.enabled = True


def _signed_in(app, who: str):
    from flask import g

    client = app.test_client()
    if who != "anonymous":
        g.pop("_login_user", None)
        assert client.post("/login", data={"username": who, "password": PASSWORD}).status_code == 302
    return client


def _path(rule, values: dict, hostile: tuple[str, str] | None = None) -> str:
    """The rule's URL with the world's values, one argument replaced by a raw (already %-encoded) value."""
    path = rule.rule
    for name in rule.arguments:
        raw = hostile[1] if hostile and hostile[0] == name else quote(str(values.get(name, "1")), safe="")
        path = re.sub(r"<(?:[^<>]*:)?" + re.escape(name) + r">", raw, path)
    return path


def _query(params: dict[str, str]) -> str:
    # %-sequences in a value are sent as they are (invalid UTF-8 included); everything else is encoded.
    return "&".join(f"{k}={v if v.startswith('%') else quote(v, safe='')}" for k, v in params.items())


def _fuzz(app, who: str, objects: dict) -> tuple[list[str], int]:
    client = _signed_in(app, who)
    failures, sent = [], 0

    def send(method, url, **kwargs):
        nonlocal sent
        from flask import g

        g.pop("_login_user", None)
        sent += 1
        body = str(kwargs.get("data") or "")[:160]
        try:
            status = client.open(url, method=method, **kwargs).status_code
        except Exception as exc:  # noqa: BLE001 — even the error page failed (a text UTF-8 cannot encode)
            status = f"{type(exc).__name__}: {exc}"[:120]
        if not isinstance(status, int) or status >= 500:
            failures.append(f"{who}: {method} {url[:160]} {body} → {status}")

    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if rule.endpoint in SKIP:
            continue
        methods = [m for m in ("GET", "POST") if m in rule.methods]
        names = sorted(_names_read_by(app.view_functions[rule.endpoint]))
        row = row_for(rule.endpoint)
        values = {**objects, **(row.values if row else {}), **ROUTE_VALUES.get(rule.endpoint, {})}
        base = _path(rule, values)
        for method in methods:
            for name in sorted(rule.arguments):
                converter = type(rule._converters[name]).__name__
                for raw in PATH_INTS if "Integer" in converter or "Id" in converter else PATH_TEXTS:
                    send(method, _path(rule, values, (name, raw)))
            for value in TEXTS:
                params = {n: value for n in names}
                if method == "GET":
                    send(method, f"{base}?{_query(params)}")
                else:
                    send(method, base, data=params)
            for name in names:
                for value in NUMBERS:
                    if method == "GET":
                        send(method, f"{base}?{_query({name: value})}")
                    else:
                        send(method, base, data={name: value})
            if method == "POST":
                for name in names:
                    for body in JSON_BODIES:
                        send(method, base, data=body % name, content_type="application/json")
    return failures, sent


def _objects(world) -> dict:
    objects = build_objects(world)
    # The dispatch form is only read on a ticket waiting for dispatch.
    objects["tracking_no"] = world.ticket_in("pending_dispatch").tracking_no
    return objects


@pytest.mark.parametrize("who", ["fuzzer", "anonymous"])
def test_no_route_answers_a_server_error(app, world, fuzzer, who):
    failures, sent = _fuzz(app, who, _objects(world))
    assert sent > 3000, sent
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:80])


def test_the_fuzzer_reaches_the_views(app, world, fuzzer):
    """The values do reach the code: a known id answers a page, the same route with a huge id refused."""
    client = _signed_in(app, "fuzzer")
    assert client.get("/search/?q=物业").status_code == 200
    assert client.get(f"/search/?q=物业&unit={HUGE}").status_code == 400
    assert client.get("/tickets/%00").status_code == 404


@pytest.mark.parametrize(
    "path, machine", [("/api/v1/tickets", True), ("/open311/v2/requests.json", True), ("/search/", False)]
)
def test_an_overlong_address_gets_the_apps_414_in_the_channels_format(client, path, machine):
    """Issue 28.9: gunicorn's own 414 is an HTML page; up to its limit the app answers first."""
    from hotline.core.params import MAX_URL_BYTES

    response = client.get(f"{path}?q=" + "x" * MAX_URL_BYTES)
    assert response.status_code == 414
    if machine:
        body = response.get_json()
        assert (body["error"]["code"] == "uri_too_long") if isinstance(body, dict) else body[0]["code"] == 414
    else:
        assert response.mimetype == "text/html" and "414" in response.get_data(as_text=True)
    assert client.get(f"{path}?q=" + "长" * 100).status_code != 414
