"""The machine channels' JSON API under /api/v1: OpenAPI document, Swagger UI served locally, blueprints."""

from __future__ import annotations

from flask import Blueprint, Flask, send_from_directory
from flask_smorest import Api

from hotline.api import models  # noqa: F401  (the tables are part of the schema)
from hotline.api.schemas import ErrorSchema

API_PREFIX = "/api/v1"
DOCS_ASSETS = f"{API_PREFIX}/docs/assets/"

OPENAPI_CONFIG = {
    "API_TITLE": "12345 hotline API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": API_PREFIX,
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    # Swagger UI's files come from the installed swagger_ui_bundle package, never from a CDN.
    "OPENAPI_SWAGGER_UI_URL": DOCS_ASSETS,
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Tickets for staff tools and partner channels, and tracking for citizens. "
            'Errors are always JSON: {"error": {"code", "message", "fields"}}. '
            "See docs/api.md."
        },
        "servers": [{"url": "/"}],
    },
}


class HotlineApi(Api):
    """flask-smorest's Api without its app-wide HTTP error handler: the site's handlers decide by path."""

    ERROR_SCHEMA = ErrorSchema  # documented error bodies are ours: {"error": {code, message, fields}}

    def _register_error_handlers(self):
        pass


def init_api(app: Flask) -> None:
    from hotline.api import actions  # noqa: F401  (its routes join the tickets blueprint)
    from hotline.api.cli import apikeys_cli
    from hotline.api.views import bp
    from hotline.cti import api as cti_api  # noqa: F401  (the telephony's door joins it too)
    from hotline.extensions import csrf
    from hotline.sms import webhooks as sms_webhooks  # noqa: F401  (and the SMS provider's)

    for name, value in OPENAPI_CONFIG.items():
        app.config.setdefault(name, value)
    api = HotlineApi(app)  # one per app: the spec is built from this app's routes
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "itsdangerous",
            "description": "POST /api/v1/auth/token with a staff username and password.",
        },
    )
    api.spec.components.security_scheme(
        "apiKey",
        {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "A partner channel's key, issued by an admin (flask apikeys create).",
        },
    )
    api.register_blueprint(bp)
    csrf.exempt(bp)

    assets = Blueprint("api_docs_assets", __name__)

    @assets.route(f"{DOCS_ASSETS}<path:filename>")
    def swagger_asset(filename):
        from swagger_ui_bundle import swagger_ui_path

        return send_from_directory(str(swagger_ui_path), filename, max_age=86400)

    app.register_blueprint(assets)
    app.cli.add_command(apikeys_cli)
