"""Idempotency-Key on POST /api/v1/tickets and Open311 POST requests (issue 28, item 7): a retried appeal is
filed once, its first answer replayed; the key with another body is refused; keys are purged after 24 hours."""

import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from hotline.api import idempotency
from hotline.api.models import IdempotencyKey
from hotline.core.clock import utcnow
from hotline.extensions import db, limiter
from hotline.tickets.models import Attachment, Ticket
from tests.integration.api_helpers import appeal_json, assert_error, new_key, png_bytes, token_for
from tests.integration.test_open311 import BASE, assert_open311_error, post_form, xml_of


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()


def tickets() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(Ticket)).scalar_one()


def with_key(headers=None, key=None) -> dict:
    return {**(headers or {}), "Idempotency-Key": key or str(uuid.uuid4())}


# --- the JSON API -------------------------------------------------------------------------------------------


def test_a_retried_partner_appeal_is_filed_once_and_answered_as_the_first_time(client, world):
    _, headers = new_key()
    headers = with_key(headers)
    first = client.post("/api/v1/tickets", json=appeal_json(world), headers=headers)
    assert first.status_code == 201, first.get_json()
    retries = [client.post("/api/v1/tickets", json=appeal_json(world), headers=headers) for _ in range(5)]
    assert {r.status_code for r in retries} == {201}
    assert all(r.get_json() == first.get_json() for r in retries)
    assert all(r.headers["Location"] == first.headers["Location"] for r in retries)
    assert retries[0].headers["Idempotent-Replayed"] == "true"
    assert tickets() == 1
    row = db.session.execute(select(IdempotencyKey)).scalar_one()
    assert row.response_status == 201 and len(row.request_sha256) == 64 and row.scope.startswith("api:key:")


def test_the_same_key_with_another_body_is_refused_naming_the_header(client, world):
    _, headers = new_key()
    headers = with_key(headers)
    assert client.post("/api/v1/tickets", json=appeal_json(world), headers=headers).status_code == 201
    error = assert_error(
        client.post("/api/v1/tickets", json=appeal_json(world, title="另一件事"), headers=headers),
        422,
        "validation_failed",
        fields=["Idempotency-Key"],
    )
    assert "Idempotency-Key" in error["fields"]
    assert tickets() == 1


def test_keys_belong_to_their_caller(client, world):
    _, first_partner = new_key("民心网")
    _, second_partner = new_key("民意网")
    key = str(uuid.uuid4())
    for headers in (
        with_key(first_partner, key),
        with_key(second_partner, key),
        with_key(token_for(world.operator), key),
        with_key(None, key),
    ):
        assert client.post("/api/v1/tickets", json=appeal_json(world), headers=headers).status_code == 201
    assert tickets() == 4


def test_an_anonymous_retry_is_filed_once(client, world):
    headers = with_key()
    numbers = {
        client.post("/api/v1/tickets", json=appeal_json(world), headers=headers).get_json()["tracking_no"]
        for _ in range(3)
    }
    assert len(numbers) == 1 and tickets() == 1


def test_a_multipart_retry_with_a_new_boundary_is_the_same_request(client, world):
    import io

    headers = with_key(token_for(world.operator))

    def form():
        fields = {k: v for k, v in appeal_json(world).items()}
        return {**fields, "photos": (io.BytesIO(png_bytes()), "a.png")}

    first = client.post("/api/v1/tickets", data=form(), headers=headers, content_type="multipart/form-data")
    second = client.post("/api/v1/tickets", data=form(), headers=headers, content_type="multipart/form-data")
    assert first.status_code == second.status_code == 201, second.get_json()
    assert first.get_json() == second.get_json()
    assert tickets() == 1
    assert db.session.execute(select(func.count()).select_from(Attachment)).scalar_one() == 1
    other = {**form(), "photos": (io.BytesIO(png_bytes()), "b.png")}
    assert_error(
        client.post("/api/v1/tickets", data=other, headers=headers, content_type="multipart/form-data"),
        422,
        "validation_failed",
        fields=["Idempotency-Key"],
    )


def test_an_error_answer_is_not_kept_so_the_corrected_request_goes_through(client, world):
    headers = with_key(new_key()[1])
    assert_error(
        client.post("/api/v1/tickets", json=appeal_json(world, citizen_phone="123"), headers=headers),
        422,
        "validation_failed",
        fields=["citizen_phone"],
    )
    assert client.post("/api/v1/tickets", json=appeal_json(world), headers=headers).status_code == 201
    assert tickets() == 1


@pytest.mark.parametrize("bad", ["", "x" * 256, "with space", "tab\tkey"])
def test_a_malformed_key_is_refused_naming_the_header(client, world, bad):
    assert_error(
        client.post("/api/v1/tickets", json=appeal_json(world), headers={"Idempotency-Key": bad}),
        422,
        "validation_failed",
        fields=["Idempotency-Key"],
    )
    assert tickets() == 0


def test_keys_are_forgotten_after_24_hours(client, world):
    headers = with_key(new_key()[1])
    assert client.post("/api/v1/tickets", json=appeal_json(world), headers=headers).status_code == 201
    db.session.execute(sa.update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    # not purged yet: an expired key is as good as gone
    assert client.post("/api/v1/tickets", json=appeal_json(world, title="又一件"), headers=headers).status_code == 201
    assert tickets() == 2
    db.session.execute(sa.update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    fresh = IdempotencyKey(
        scope="api:key:x",
        key="k",
        request_sha256="0" * 64,
        response_status=201,
        response_body="{}",
        response_content_type="application/json",
        created_at=utcnow(),
    )
    db.session.add(fresh)
    db.session.commit()
    assert idempotency.purge_expired_keys() == 1
    db.session.commit()
    assert db.session.execute(select(IdempotencyKey.key)).scalars().all() == ["k"]


def test_beat_purges_the_keys_hourly(app):
    from workers.schedule import BEAT_SCHEDULE
    from workers.tasks import purge_idempotency_keys

    entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "hotline.api.purge_idempotency_keys")
    assert entry["schedule"] == timedelta(hours=1)
    assert purge_idempotency_keys.name == "hotline.api.purge_idempotency_keys"
    db.session.add(
        IdempotencyKey(
            scope="s",
            key="old",
            request_sha256="0" * 64,
            response_status=201,
            response_body="{}",
            response_content_type="application/json",
            created_at=utcnow() - timedelta(hours=30),
        )
    )
    db.session.commit()
    assert purge_idempotency_keys.run() == 1
    assert db.session.execute(select(func.count()).select_from(IdempotencyKey)).scalar_one() == 0


def test_the_openapi_document_names_the_header(client, app):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/tickets"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])


# --- Open311 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_retried_open311_request_is_filed_once(client, world, fmt):
    _, headers = new_key()
    key = headers["X-API-Key"]
    headers = with_key()
    first = client.post(f"{BASE}/requests.{fmt}", data=post_form(world, key), headers=headers)
    second = client.post(f"{BASE}/requests.{fmt}", data=post_form(world, key), headers=headers)
    assert first.status_code == second.status_code == 201, second.get_data(as_text=True)
    assert first.get_data() == second.get_data() and first.mimetype == second.mimetype
    assert tickets() == 1
    if fmt == "xml":
        xml_of(second)
    other = client.post(f"{BASE}/requests.{fmt}", data=post_form(world, key, description="另一件事"), headers=headers)
    descriptions = assert_open311_error(other, 422, fmt)
    assert any(d.startswith("Idempotency-Key:") for d in descriptions)
    assert tickets() == 1


def test_open311_refuses_a_malformed_key_in_its_format(client, world):
    key = new_key()[1]["X-API-Key"]
    response = client.post(f"{BASE}/requests.json", data=post_form(world, key), headers={"Idempotency-Key": "a b"})
    assert any(d.startswith("Idempotency-Key:") for d in assert_open311_error(response, 400))
    assert tickets() == 0


# --- two at once (PostgreSQL: real concurrent connections) -------------------------------------------------


def test_two_identical_requests_at_once_make_one_ticket(pg_app, pg_world, monkeypatch):
    _, headers = new_key()
    headers = with_key(headers)
    body = appeal_json(pg_world)
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(2)
    remember = idempotency.remember_answer

    def remember_together(attempt, response):  # both have made their ticket before either keeps its answer
        barrier.wait(10)
        remember(attempt, response)

    monkeypatch.setattr(idempotency, "remember_answer", remember_together)
    answers, errors = [], []

    def post():
        try:
            response = pg_app.test_client().post("/api/v1/tickets", json=body, headers=headers)
            answers.append((response.status_code, response.get_json()))
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(answers) == 2
    assert answers[0] == answers[1] and answers[0][0] == 201
    assert tickets() == 1
