"""Open311 GeoReport v2 under /open311/v2: every endpoint in JSON and XML, and its error cases."""

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from hotline.extensions import db, limiter
from hotline.tickets.models import Ticket
from tests.factories import PHONE
from tests.integration.api_helpers import new_key

BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()


def xml_of(response):
    assert response.mimetype == "text/xml", response.get_data(as_text=True)
    assert response.get_data(as_text=True).startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.get_data())


def post_form(world, key, **overrides):
    form = {
        "api_key": key,
        "service_code": world.category.code,
        "lat": "30.59",
        "long": "114.30",
        "address_string": "东湖区人民路3号",
        "description": "路灯不亮 <已三天> & 无人维修",
        "phone": PHONE,
        "first_name": "伟",
        "last_name": "张",
        "attribute[appeal_type]": "help",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def assert_open311_error(response, status, fmt="json"):
    assert response.status_code == status, response.get_data(as_text=True)
    if fmt == "json":
        errors = response.get_json()
        assert response.mimetype == "application/json"
        assert errors and all(e["code"] == status and e["description"] for e in errors)
        return [e["description"] for e in errors]
    root = xml_of(response)
    assert root.tag == "errors"
    assert [e.findtext("code") for e in root.findall("error")] == [str(status)] * len(root.findall("error"))
    return [e.findtext("description") for e in root.findall("error")]


def test_discovery(client, world):
    data = client.get(f"{BASE}/discovery.json").get_json()
    endpoint = data["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2") and "text/xml" in endpoint["formats"]
    root = xml_of(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery" and root.find("endpoints/endpoint/formats/format").text == "text/xml"


def test_services_are_second_level_categories(client, world):
    services = client.get(f"{BASE}/services.json").get_json()
    assert [s["service_code"] for s in services] == ["0501"]
    assert services[0]["service_name"] == "物业管理" and services[0]["group"] == "城乡建设与管理"
    assert services[0]["metadata"] is True and services[0]["type"] == "realtime"
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and root.find("service/service_code").text == "0501"
    assert root.find("service/metadata").text == "true"


def test_service_definition(client, world):
    world.category.questions = ["小区名称"]
    db.session.commit()
    definition = client.get(f"{BASE}/services/0501.json").get_json()
    codes = [a["code"] for a in definition["attributes"]]
    assert definition["service_code"] == "0501" and codes == ["appeal_type", "title", "q1"]
    assert {v["key"] for v in definition["attributes"][0]["values"]} >= {"complaint", "report"}
    root = xml_of(client.get(f"{BASE}/services/0501.xml"))
    assert root.tag == "service_definition"
    assert root.find("attributes/attribute/values/value/key") is not None
    assert_open311_error(client.get(f"{BASE}/services/9999.json"), 404)
    assert_open311_error(client.get(f"{BASE}/services/05.xml"), 404, "xml")  # a first-level code is no service


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_request_joins_the_review_queue(client, world, fmt):
    _, headers = new_key()
    response = client.post(
        f"{BASE}/requests.{fmt}", data=post_form(world, headers["X-API-Key"], **{"attribute[q1]": None})
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    if fmt == "json":
        number = response.get_json()[0]["service_request_id"]
    else:
        number = xml_of(response).find("request/service_request_id").text
    ticket = db.session.execute(select(Ticket)).scalar_one()
    assert ticket.tracking_no == number and ticket.channel == "open311" and ticket.status == "pending_review"
    assert ticket.appeal_type == "help" and ticket.citizen_name == "张伟" and ticket.lat == 30.59
    # the partner reads back its own request, by id and by token
    found = client.get(f"{BASE}/requests/{number}.json?api_key={headers['X-API-Key']}").get_json()
    assert found[0]["service_request_id"] == number and found[0]["status"] == "open"
    assert found[0]["service_code"] == "0501" and found[0]["long"] == 114.30
    assert found[0]["requested_datetime"].endswith("+08:00")
    token = client.get(f"{BASE}/tokens/{number}.{fmt}?api_key={headers['X-API-Key']}")
    assert token.status_code == 200
    # nobody else sees an unpublished appeal
    assert_open311_error(client.get(f"{BASE}/requests/{number}.json"), 404)


def test_post_request_xml_escapes_text(client, world):
    _, headers = new_key()
    number = client.post(f"{BASE}/requests.json", data=post_form(world, headers["X-API-Key"])).get_json()[0][
        "service_request_id"
    ]
    response = client.get(f"{BASE}/requests/{number}.xml?api_key={headers['X-API-Key']}")
    assert "&lt;已三天&gt; &amp; 无人维修" in response.get_data(as_text=True)
    assert xml_of(response).find("request/description").text == "路灯不亮 <已三天> & 无人维修"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_request_errors(client, world, fmt):
    _, headers = new_key()
    raw = headers["X-API-Key"]
    url = f"{BASE}/requests.{fmt}"
    assert_open311_error(client.post(url, data=post_form(world, None)), 403, fmt)
    assert_open311_error(client.post(url, data=post_form(world, "hk_wrong")), 403, fmt)
    assert_open311_error(client.post(url, data=post_form(world, raw, service_code=None)), 400, fmt)
    assert_open311_error(client.post(url, data=post_form(world, raw, service_code="9999")), 404, fmt)
    assert_open311_error(client.post(url, data=post_form(world, raw, lat=None, address_string=None)), 400, fmt)
    messages = assert_open311_error(client.post(url, data=post_form(world, raw, phone="123", description="")), 400, fmt)
    assert any(m.startswith("phone:") for m in messages) and any(m.startswith("description:") for m in messages)
    assert_open311_error(client.post(url, data=post_form(world, raw, lat="north")), 400, fmt)
    assert db.session.execute(select(Ticket)).first() is None


def test_revoked_key_cannot_post(client, world):
    from hotline.api.services import revoke_api_key

    key, headers = new_key()
    revoke_api_key(key.id)
    db.session.commit()
    assert_open311_error(client.post(f"{BASE}/requests.json", data=post_form(world, headers["X-API-Key"])), 403)


def test_get_requests_lists_published_appeals_with_filters(client, world):
    published = world.ticket_in("pending_callback", allow_publish=True, lat=30.59123, lon=114.30456)
    closed = world.ticket_in("closed", allow_publish=True)
    world.ticket_in("pending_dispatch", allow_publish=True)  # no answer released yet
    world.ticket_in("pending_callback")  # the citizen did not allow publication
    listed = client.get(f"{BASE}/requests.json").get_json()
    assert {r["service_request_id"] for r in listed} == {published.tracking_no, closed.tracking_no}
    answered = next(r for r in listed if r["service_request_id"] == published.tracking_no)
    assert answered["status_notes"] == "已处理完毕" and answered["agency_responsible"] == "东湖区"
    assert answered["address"] == "东湖区人民路" and (answered["lat"], answered["long"]) == (30.591, 114.305)
    assert "张伟" not in str(listed) and PHONE not in str(listed)
    ids = lambda q: {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?{q}").get_json()}  # noqa
    assert ids(f"service_request_id={closed.tracking_no},20990101000001") == {closed.tracking_no}
    assert ids("service_code=0501") == {published.tracking_no, closed.tracking_no}
    assert ids("service_code=0999") == set()
    assert ids("status=open") == {published.tracking_no}  # pending callback is not closed
    assert ids("status=closed") == {closed.tracking_no}
    assert ids("start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00%2B08:00") == set()
    assert ids("start_date=2000-01-01T00:00:00Z") == {published.tracking_no, closed.tracking_no}
    root = xml_of(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and len(root.findall("request")) == 2
    assert root.find("request/long") is not None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_requests_errors(client, world, fmt):
    assert_open311_error(client.get(f"{BASE}/requests.{fmt}?status=pending"), 400, fmt)
    assert_open311_error(client.get(f"{BASE}/requests.{fmt}?start_date=yesterday"), 400, fmt)
    for bound in ("end_date=9999-12-31T23:59:59-12:00", "start_date=0001-01-01T00:00:00%2B14:00"):  # issue 28.5
        assert_open311_error(client.get(f"{BASE}/requests.{fmt}?{bound}"), 400, fmt)
    assert_open311_error(client.get(f"{BASE}/requests.{fmt}?api_key=hk_wrong"), 403, fmt)
    assert_open311_error(client.get(f"{BASE}/requests/20990101000001.{fmt}"), 404, fmt)
    assert_open311_error(client.get(f"{BASE}/tokens/20990101000001.{fmt}"), 404, fmt)
    assert_open311_error(client.delete(f"{BASE}/requests.{fmt}"), 405, fmt)


def test_unknown_format_and_path_are_open311_errors(client, world):
    assert_open311_error(client.get(f"{BASE}/services.html"), 404)
    assert_open311_error(client.get(f"{BASE}/nothing.xml"), 404, "xml")


def test_oversized_post_is_413(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 500)
    _, headers = new_key()
    assert_open311_error(
        client.post(f"{BASE}/requests.xml", data=post_form(world, headers["X-API-Key"], description="长" * 400)),
        413,
        "xml",
    )
