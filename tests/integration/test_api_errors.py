"""The machine channels' error contract: JSON (or Open311 XML) for every status, never an HTML page;
the OpenAPI document is valid and its browsable docs are served locally."""

import pytest
from flask import Flask
from openapi_spec_validator import validate

from hotline import create_app
from hotline.api.errors import machine_error_response
from hotline.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from hotline.extensions import db, limiter
from tests.integration.api_helpers import appeal_json, assert_error


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/nothing"),
        ("get", "/api/unknown"),
        ("delete", "/api/v1/tickets"),
        ("put", "/api/v1/auth/token"),
        ("get", "/api/v1/tickets"),
        ("post", "/api/v1/tickets"),
        ("get", "/open311/v2/nothing.json"),
        ("post", "/open311/v2/services.json"),
        ("get", "/open311/v2/discovery"),
        ("post", "/open311/v2/requests.xml"),
    ],
)
def test_never_html_from_the_machine_channels(client, world, method, path):
    response = getattr(client, method)(path)
    assert response.status_code >= 400
    assert response.mimetype in ("application/json", "text/xml")
    assert "<html" not in response.get_data(as_text=True).lower()


def test_html_pages_keep_their_html_errors(client, world):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_405_carries_allow(client, world):
    response = client.delete("/api/v1/tickets")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    "exc, status, code",
    [
        (Conflict(), 409, "conflict"),
        (InvalidTransition(), 409, "conflict"),
        (PermissionDenied(), 403, "forbidden"),
        (NotFound(), 404, "not_found"),
        (ValidationFailed(fields={"title": "x"}), 422, "validation_failed"),
        (RuntimeError("boom"), 500, "internal_error"),
    ],
)
def test_domain_errors_map_to_statuses(app, exc, status, code):
    with app.test_request_context("/api/v1/tickets"):
        response = machine_error_response(exc)
    assert_error(response, status, code)
    with app.test_request_context("/tickets"):
        assert machine_error_response(exc) is None  # the HTML site answers for itself


def test_an_unexpected_error_is_json_without_a_trace(app, client, world, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr("hotline.api.views.intake_appeal", explode)
    response = client.post("/api/v1/tickets", json=appeal_json(world))
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in str(error)


def test_openapi_document_is_valid_and_documents_the_contract(client, world):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/auth/token", "/api/v1/tickets", "/api/v1/tickets/{tracking_no}", "/api/v1/track"} <= set(
        spec["paths"]
    )
    schemes = spec["components"]["securitySchemes"]
    assert schemes["apiKey"]["name"] == "X-API-Key" and schemes["bearerAuth"]["scheme"] == "bearer"
    create = spec["components"]["schemas"]["TicketCreate"]["properties"]
    assert create["title"]["maxLength"] == 100 and create["body"]["maxLength"] == 4000
    assert create["citizen_name"]["maxLength"] == 32 and create["photos"]["maxItems"] == 5
    post = spec["paths"]["/api/v1/tickets"]["post"]
    assert {"application/json", "multipart/form-data"} <= set(post["requestBody"]["content"])
    assert {"401", "403", "413", "422", "429"} <= set(post["responses"])


def test_swagger_ui_is_served_locally(client, world):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
    assert_error(client.get("/api/v1/docs/assets/../../../config.py"), 404, "not_found")


def test_machine_channels_need_no_csrf_token(app, world):
    csrf_app = create_app(
        "testing", WTF_CSRF_ENABLED=True, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]
    )
    assert isinstance(csrf_app, Flask)
    with csrf_app.app_context():
        client = csrf_app.test_client()
        assert client.post("/api/v1/tickets", json=appeal_json(world)).status_code == 201
        assert client.post("/open311/v2/requests.json", data={}).status_code == 403  # key, not CSRF
        assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 400
        db.session.remove()
        db.engine.dispose()
