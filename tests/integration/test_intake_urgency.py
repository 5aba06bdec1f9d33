"""Staff decide urgency (issue 28, item 9): anonymous callers and partner keys file with the default urgency;
and the OpenAPI document's multipart body of POST /api/v1/tickets lists every field the form accepts."""

import pytest
from sqlalchemy import select

from hotline.api.schemas import TicketCreateSchema
from hotline.extensions import db, limiter
from hotline.tickets.models import Ticket
from tests.integration.api_helpers import appeal_json, assert_error, new_key, token_for
from tests.integration.test_open311 import BASE, post_form


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()


def urgencies() -> list[str]:
    db.session.expire_all()
    return db.session.execute(select(Ticket.urgency)).scalars().all()


@pytest.mark.parametrize("urgency", ["critical", "urgent"])
@pytest.mark.parametrize("caller", ["anonymous", "partner"])
def test_anonymous_and_partner_callers_may_not_raise_the_urgency(client, world, caller, urgency):
    headers = new_key()[1] if caller == "partner" else {}
    assert_error(
        client.post("/api/v1/tickets", json=appeal_json(world, urgency=urgency), headers=headers),
        422,
        "validation_failed",
        fields=["urgency"],
    )
    form = {**appeal_json(world), "urgency": urgency}
    assert_error(
        client.post("/api/v1/tickets", data=form, headers=headers, content_type="multipart/form-data"),
        422,
        "validation_failed",
        fields=["urgency"],
    )
    assert urgencies() == []


def test_the_default_urgency_is_accepted_from_anyone(client, world):
    assert client.post("/api/v1/tickets", json=appeal_json(world, urgency="normal")).status_code == 201
    assert client.post("/api/v1/tickets", json=appeal_json(world), headers=new_key()[1]).status_code == 201
    assert urgencies() == ["normal", "normal"]


def test_staff_set_the_urgency(client, world):
    response = client.post(
        "/api/v1/tickets", json=appeal_json(world, urgency="critical"), headers=token_for(world.operator)
    )
    assert response.status_code == 201 and response.get_json()["urgency"] == "critical"
    assert urgencies() == ["critical"]


def test_open311_requests_get_the_default_urgency_whatever_they_send(client, world):
    key = new_key()[1]["X-API-Key"]
    response = client.post(
        f"{BASE}/requests.json", data=post_form(world, key, urgency="critical", **{"attribute[urgency]": "critical"})
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert urgencies() == ["normal"]


def test_the_citizen_portal_form_files_with_the_default_urgency(client, world):
    from hotline.intake.forms import CitizenAppealForm

    assert "urgency" not in CitizenAppealForm.__dict__ and not hasattr(CitizenAppealForm, "urgency")


def test_the_openapi_multipart_body_lists_every_form_field(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    content = document["paths"]["/api/v1/tickets"]["post"]["requestBody"]["content"]
    schema = content["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    expected = {field.data_key or name for name, field in TicketCreateSchema().fields.items()}
    assert set(schema["properties"]) == expected
    assert {"appeal_type", "title", "body", "citizen_phone"} <= set(schema["required"])
    assert schema["properties"]["photos"]["items"] == {"type": "string", "format": "binary"}
