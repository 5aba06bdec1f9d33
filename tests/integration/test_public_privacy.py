"""What anonymous readers get (issue 23.1): only reviewed, released appeals the citizen allowed to publish, none
confidential, and none of the personal data of the probe, whether through Open311, /public/stats or the FAQ."""

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from hotline.dashboard import services as dashboard
from hotline.extensions import db, limiter
from hotline.knowledge.services import ArticleInput, change_state, save_article
from hotline.tickets.models import Ticket
from tests.integration.api_helpers import new_key

BASE = "/open311/v2"
PROBE = "我叫王小明，电话13912340001，身份证110101199003071234，住人民路88号3栋201室"
PROBE_PHONE = "13912340001"
PROBE_ADDRESS = "东湖区人民路88号3栋201室"
ANSWER = "王先生您好：锦绣花园88号旁的路灯已修复，如有问题请拨13912340001或发邮件wang@example.com。"
TRACES = (
    "王小明",
    "小明",
    "王先生",
    "13912340001",
    "12340001",
    "110101199003071234",
    "19900307",
    "88号",
    "3栋",
    "201室",
    "锦绣花园",
    "**旁",
    "wang@example.com",
)


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()


def _probe_ticket(world, status, answer=ANSWER, **overrides):
    fields = dict(
        body=PROBE, citizen_name="王小明", citizen_phone=PROBE_PHONE, address=PROBE_ADDRESS, allow_publish=True
    )
    fields.update(overrides)
    ticket = world.ticket_in(status, **fields)
    if ticket.replies:
        ticket.replies[-1].body = f"{answer}（{ticket.tracking_no[-3:]}）"
    db.session.commit()
    return ticket


@pytest.fixture
def probes(world):
    """One published ticket among the shapes that must stay hidden, every one holding the probe."""
    return {
        "published": _probe_ticket(world, "pending_callback"),
        "published_closed": _probe_ticket(world, "closed"),
        "pending_review": _probe_ticket(world, "pending_review"),
        "not_reviewed": _probe_ticket(world, "replied"),  # answered, not yet approved and released
        "dispatched": _probe_ticket(world, "in_progress"),
        "not_allowed": _probe_ticket(world, "pending_callback", allow_publish=False),
        "confidential": _probe_ticket(world, "pending_callback", appeal_type="report", confidential=True),
    }


VISIBLE = {"published", "published_closed"}


def _assert_no_trace(text):
    for trace in TRACES:
        assert trace not in text, (trace, text)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_anonymous_open311_list_shows_only_published_tickets_scrubbed(client, probes, fmt):
    response = client.get(f"{BASE}/requests.{fmt}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    if fmt == "json":
        listed = response.get_json()
    else:
        listed = [{child.tag: child.text for child in item} for item in ET.fromstring(response.get_data())]
    assert {r["service_request_id"] for r in listed} == {probes[name].tracking_no for name in VISIBLE}
    _assert_no_trace(text)
    for request in listed:
        assert request["address"] == "东湖区人民路"
        assert "我叫" in request["description"] and "住人民路" in request["description"]
        assert "的路灯已修复" in request["status_notes"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_anonymous_open311_detail_and_token_answer_404_for_hidden_tickets(client, probes, fmt):
    for name, ticket in probes.items():
        detail = client.get(f"{BASE}/requests/{ticket.tracking_no}.{fmt}")
        token = client.get(f"{BASE}/tokens/{ticket.tracking_no}.{fmt}")
        if name in VISIBLE:
            assert detail.status_code == 200 and token.status_code == 200
            _assert_no_trace(detail.get_data(as_text=True))
        else:
            assert detail.status_code == 404 and token.status_code == 404, name
            _assert_no_trace(detail.get_data(as_text=True))


def test_a_stranger_key_sees_no_more_than_anonymous(client, probes):
    _, headers = new_key("另一个渠道")
    listed = client.get(f"{BASE}/requests.json", headers=headers).get_json()
    assert {r["service_request_id"] for r in listed} == {probes[name].tracking_no for name in VISIBLE}
    _assert_no_trace(str(listed))


def test_the_filing_partner_reads_back_its_own_text_others_nothing(client, world):
    _, headers = new_key()
    form = {
        "api_key": headers["X-API-Key"],
        "service_code": world.category.code,
        "address_string": PROBE_ADDRESS,
        "description": PROBE,
        "phone": PROBE_PHONE,
        "last_name": "王",
        "first_name": "小明",
    }
    number = client.post(f"{BASE}/requests.json", data=form).get_json()[0]["service_request_id"]
    own = client.get(f"{BASE}/requests/{number}.json", headers=headers).get_json()[0]
    assert own["description"] == PROBE and own["address"] == PROBE_ADDRESS  # the partner's own submission
    assert client.get(f"{BASE}/requests/{number}.json").status_code == 404  # pending_review: nobody else
    assert number not in client.get(f"{BASE}/requests.json").get_data(as_text=True)


def test_public_stats_show_only_published_answers_scrubbed(client, probes):
    dashboard.rollup_today()
    db.session.commit()
    page = client.get("/public/stats").get_data(as_text=True)
    _assert_no_trace(page)
    shown = {name for name, ticket in probes.items() if f"（{ticket.tracking_no[-3:]}）" in page}
    assert shown == VISIBLE
    assert "的路灯已修复" in page


def test_faq_articles_are_scrubbed_too(client, world):
    article = save_article(
        ArticleInput(
            title="路灯报修", question="联系人：王小明，电话13912340001", body=f"案例：{PROBE}。路灯由区城管局维修。"
        ),
        world.admin,
    )
    change_state(article, "publish", world.admin)
    db.session.commit()
    for page in (client.get(f"/faq/{article.id}"), client.get("/faq/"), client.get("/faq/?q=路灯")):
        assert page.status_code == 200
        _assert_no_trace(page.get_data(as_text=True))
    assert "路灯由区城管局维修" in client.get(f"/faq/{article.id}").get_data(as_text=True)


def test_probe_tickets_keep_their_data_for_the_hotline(probes):
    stored = db.session.execute(select(Ticket.body).where(Ticket.id == probes["published"].id)).scalar_one()
    assert stored == PROBE  # the scrubber changes what is published, never what is stored
