"""Control characters (issue 23.2): every intake channel stores none, and every Open311 XML answer parses even
when text the hotline itself wrote (a category, a question, an answer) holds some."""

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from hotline.core.text import CONTROL_CHARS
from hotline.extensions import db, limiter
from hotline.tickets.models import Ticket, TicketEvent
from tests.factories import PASSWORD, PHONE
from tests.integration.api_helpers import appeal_json, new_key

BASE = "/open311/v2"
BELL, VTAB, FORM_FEED, ESC = "\x07", "\x0b", "\x0c", "\x1b"
DIRTY = f"路灯{BELL}不亮{VTAB}已三天{FORM_FEED}无人{ESC}维修"
CLEAN = "路灯不亮已三天无人维修"


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()


def parsed(response):
    assert response.mimetype == "text/xml", response.get_data(as_text=True)
    return ET.fromstring(response.get_data())  # raises ParseError on a character XML 1.0 cannot hold


def stored_texts(ticket: Ticket) -> list[str]:
    notes = db.session.execute(select(TicketEvent.note).where(TicketEvent.ticket_id == ticket.id)).scalars()
    return [
        t for t in (ticket.title, ticket.body, ticket.address, ticket.citizen_name, ticket.citizen_phone, *notes) if t
    ]


def assert_stored_clean(ticket: Ticket):
    for text in stored_texts(ticket):
        assert not CONTROL_CHARS.search(text), repr(text)


def open311_form(world, key):
    return {
        "api_key": key,
        "service_code": world.category.code,
        "address_string": f"东湖区{BELL}人民路3号",
        "description": DIRTY,
        "phone": PHONE,
        "last_name": f"张{VTAB}",
        "first_name": "伟",
        "attribute[title]": f"路灯{FORM_FEED}不亮",
        "media_url": f"https://example.org/a{BELL}.jpg",
    }


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_post_stores_no_control_characters_and_reads_back_as_xml(client, world, fmt):
    _, headers = new_key()
    response = client.post(f"{BASE}/requests.{fmt}", data=open311_form(world, headers["X-API-Key"]))
    assert response.status_code == 201, response.get_data(as_text=True)
    if fmt == "xml":
        parsed(response)
    ticket = db.session.execute(select(Ticket)).scalar_one()
    assert ticket.body == CLEAN and ticket.title == "路灯不亮" and ticket.address == "东湖区人民路3号"
    assert ticket.citizen_name == "张伟"
    assert_stored_clean(ticket)
    own = parsed(client.get(f"{BASE}/requests/{ticket.tracking_no}.xml", headers=headers))
    assert own.find("request/description").text == CLEAN
    assert parsed(client.get(f"{BASE}/requests.xml", headers=headers)).find("request/description").text == CLEAN


def test_json_api_stores_no_control_characters(client, world):
    _, headers = new_key()
    body = appeal_json(
        world, body=DIRTY, title=f"夜间{BELL}施工", address=f"东湖区人民路{VTAB}2号", citizen_name=f"李{ESC}娜"
    )
    response = client.post("/api/v1/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    ticket = db.session.execute(select(Ticket)).scalar_one()
    assert ticket.body == CLEAN and ticket.title == "夜间施工" and ticket.citizen_name == "李娜"
    assert_stored_clean(ticket)


def web_form(world, **overrides):
    data = {
        "appeal_type": "complaint",
        "category_id": str(world.category.id),
        "title": f"楼道{BELL}杂物",
        "body": DIRTY,
        "district_id": str(world.district.id),
        "address": f"东湖区人民路{FORM_FEED}1号",
        "citizen_phone": "139 1234 5678",
        "citizen_name": f"李{VTAB}娜",
    }
    data.update(overrides)
    return data


def test_web_appeal_form_stores_no_control_characters(client, world):
    response = client.post("/appeal", data=web_form(world))
    assert response.status_code == 302, response.get_data(as_text=True)
    ticket = db.session.execute(select(Ticket)).scalar_one()
    assert ticket.body == CLEAN and ticket.title == "楼道杂物" and ticket.citizen_name == "李娜"
    assert_stored_clean(ticket)


def test_phone_console_stores_no_control_characters(client, world):
    client.post("/login", data={"username": "operator", "password": PASSWORD})
    response = client.post(
        "/console/", data=web_form(world, outcome="answer_directly", urgency="normal", note=f"已告知{BELL}办理流程。")
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    ticket = db.session.execute(select(Ticket)).scalar_one()
    assert ticket.body == CLEAN and ticket.events[-1].note == "已告知办理流程。"
    assert_stored_clean(ticket)


def test_an_appeal_of_control_characters_only_is_refused(client, world):
    _, headers = new_key()
    response = client.post(
        f"{BASE}/requests.xml",
        data={**open311_form(world, headers["X-API-Key"]), "description": BELL + VTAB, "attribute[title]": ""},
    )
    assert response.status_code == 400
    assert any(e.findtext("description").startswith("description:") for e in parsed(response))
    assert db.session.execute(select(Ticket)).first() is None


def test_every_open311_xml_answer_parses_when_stored_text_holds_control_characters(client, world):
    """Text that never went through intake (staff data, an answer) is stripped on the way out."""
    world.category.name = f"物业{BELL}管理"
    world.parent_category.name = f"城乡建设{VTAB}与管理"
    world.category.questions = [f"小区{FORM_FEED}名称"]
    ticket = world.ticket_in("pending_callback", allow_publish=True)
    ticket.replies[-1].body = f"已{ESC}处理{BELL}完毕"
    world.district.name = f"东湖{VTAB}区"
    db.session.commit()
    services = parsed(client.get(f"{BASE}/services.xml"))
    assert services.find("service/service_name").text == "物业管理"
    assert services.find("service/group").text == "城乡建设与管理"
    definition = parsed(client.get(f"{BASE}/services/{world.category.code}.xml"))
    assert "小区名称" in [a.findtext("description") for a in definition.iter("attribute")]
    listed = parsed(client.get(f"{BASE}/requests.xml"))
    assert listed.find("request/status_notes").text == "已处理完毕"
    assert listed.find("request/agency_responsible").text == "东湖区"
    detail = parsed(client.get(f"{BASE}/requests/{ticket.tracking_no}.xml"))
    assert detail.find("request/service_name").text == "物业管理"
    parsed(client.get(f"{BASE}/tokens/{ticket.tracking_no}.xml"))
    parsed(client.get(f"{BASE}/discovery.xml"))
    missing = client.get(f"{BASE}/services/{BELL}.xml")  # the code is echoed in the error
    assert missing.status_code == 404 and parsed(missing).tag == "errors"
