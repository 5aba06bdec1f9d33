"""Hardening headers on every response: a Content-Security-Policy without inline scripts, and the rest.

Wired from ``create_app`` (``init_security``). docs/security.md explains each header.

- Pages may load scripts, styles, fonts and images from this site only (Bootstrap, ECharts and Leaflet are
  served locally); images may also be ``data:``/``blob:`` URLs (photo previews) and tiles from the city's
  own tile server when ``MAP_TILE_URL`` is configured.
- The one page with an inline script is flask-smorest's Swagger UI (/api/v1/docs): its script is allowed by
  its SHA-256 hash, computed from the page actually served, so nothing else inline can run there either.
- HSTS only when the app runs with secure cookies (production behind HTTPS).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

SWAGGER_ENDPOINT = "api-docs.openapi_swagger_ui"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(self), payment=(), usb=(), interest-cohort=()"


def tile_host(tile_url: str | None) -> str | None:
    """``https://tiles.city.gov.cn/{z}/{x}/{y}.png`` → ``https://tiles.city.gov.cn`` (a CSP source)."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc
    if "{s}" in host:  # Leaflet subdomain placeholder: allow every subdomain of the host
        host = "*." + host.split(".", 1)[1] if "." in host else host.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def content_security_policy(script_hashes: Sequence[str] = (), inline_styles: bool = False) -> str:
    img = ["'self'", "data:", "blob:"]
    host = tile_host(current_app.config.get("MAP_TILE_URL"))
    if host:
        img.append(host)
    script = ["'self'"] + [f"'sha256-{h}'" for h in script_hashes]
    style = ["'self'"] + (["'unsafe-inline'"] if inline_styles else [])
    directives = [
        ("default-src", ["'self'"]),
        ("script-src", script),
        ("style-src", style),
        ("img-src", img),
        ("font-src", ["'self'", "data:"]),
        ("connect-src", ["'self'"]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'self'"]),
        ("frame-ancestors", ["'none'"]),
        ("form-action", ["'self'"]),
    ]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives)


def _inline_script_hashes(response: Response) -> list[str]:
    body = response.get_data()
    return [base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() for m in _INLINE_SCRIPT.finditer(body)]


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    if request.endpoint == SWAGGER_ENDPOINT and response.status_code == 200 and not response.direct_passthrough:
        # Swagger UI's own template has one inline script and Swagger UI styles itself inline.
        csp = content_security_policy(_inline_script_hashes(response), inline_styles=True)
    else:
        csp = content_security_policy()
    headers.setdefault("Content-Security-Policy", csp)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if _is_personal(request.path) and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


_PUBLIC_CACHEABLE = ("/static/", "/bootstrap/static/", "/api/v1/docs/assets/")


def _is_personal(path: str) -> bool:
    """Everything but static assets may carry personal data: never cached by a shared proxy or the browser."""
    return not path.startswith(_PUBLIC_CACHEABLE)


def refuse_nul_characters():
    """No text anywhere may contain NUL: PostgreSQL cannot store it (a 500 found by the API fuzzer) and no
    legitimate input has it. Query strings, form fields and JSON bodies are checked; file parts are not."""
    from flask_babel import lazy_gettext as _l

    from hotline.core.errors import ValidationFailed

    bad = next((k for k, v in request.args.items(multi=True) if "\x00" in (k or "") or "\x00" in (v or "")), None)
    if bad is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        bad = next((k for k, v in request.form.items(multi=True) if "\x00" in (k or "") or "\x00" in (v or "")), None)
    if bad is None and request.is_json and b"\\u0000" in request.get_data(cache=True):
        bad = "_schema"
    if bad is not None:
        raise ValidationFailed(
            _l("Text may not contain NUL characters."), field=(bad or "_schema")[:40].replace("\x00", "")
        )


def init_security(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.after_request(set_security_headers)


def explain_csrf_failure(reason: str) -> None:
    """Log why a form was refused when the cause is the deployment, not the user: a ``Secure`` session cookie
    (``SESSION_COOKIE_SECURE``, on in production) is never sent back over plain HTTP, so the CSRF token kept in
    the session is missing on every form (docs/deployment.md, "Every form fails over plain HTTP")."""
    if current_app.config.get("SESSION_COOKIE_SECURE") and not request.is_secure:
        current_app.logger.warning(
            "CSRF failure on %s over plain HTTP with SESSION_COOKIE_SECURE on: browsers do not send a Secure "
            "session cookie back over HTTP, so every form fails (%s). Serve the site over HTTPS (behind a proxy: "
            "HOTLINE_PROXY_COUNT and X-Forwarded-Proto) or, on a test install without TLS, set "
            "HOTLINE_SESSION_COOKIE_SECURE=false",
            request.path,
            reason,
        )
