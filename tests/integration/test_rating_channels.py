"""How ratings came (``ticket.rated_via``): the callback list's release-SMS column and its "rated without a call"
tab, and the dashboard's ratings by channel, on a known set of tickets; both limited to the user's scope."""

import json
import re

import pytest
from sqlalchemy import select

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.core.clock import utcnow
from hotline.dashboard.services import local_today
from hotline.extensions import db
from hotline.notify.models import Notification
from hotline.tickets.services import CitizenActor, apply_transition, register_ticket
from tests.factories import PASSWORD, PHONE, appeal


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


def release_sms(ticket) -> Notification:
    return db.session.execute(
        select(Notification).where(Notification.ticket_id == ticket.id).order_by(Notification.id.desc()).limit(1)
    ).scalar_one()


def rated(w, via: str | None, satisfaction: str = "satisfied", **appeal):
    """A released ticket rated through ``via`` (``phone``: the operator's callback; None: an old rating)."""
    ticket = w.ticket_in("pending_callback", **appeal)
    actor = w.operator if via in ("phone", None) else CitizenActor(PHONE, via=via)
    action = "rate_unsatisfied" if satisfaction == "unsatisfied" else "rate_satisfied"
    params = {} if satisfaction == "unsatisfied" else {"satisfaction": satisfaction}
    ticket = apply_transition(ticket, action, actor, **params)
    if via is None:
        ticket.rated_via = None  # rated before the channel was recorded
    db.session.commit()
    return ticket


@pytest.fixture
def known(world):
    """To call: delivered, undelivered (receipt), failed (our last attempt), sending (sent, no receipt; an
    earlier release's SMS was delivered). Rated: by SMS (2), link, web (unsatisfied: redo), phone, an old
    rating; and in 西江区, by SMS, outside 东湖区's scope."""
    w = world
    w.delivered, w.undelivered, w.failed, w.sending = (w.ticket_in("pending_callback") for _ in range(4))
    for ticket, status, receipt in (
        (w.delivered, "sent", "delivered"),
        (w.undelivered, "sent", "undelivered"),
        (w.failed, "failed", None),
        (w.sending, "sent", None),
    ):
        sms = release_sms(ticket)
        sms.status, sms.receipt = status, receipt
    earlier = release_sms(w.sending)
    db.session.add(
        Notification(
            channel="sms",
            recipient=PHONE,
            template="reply_released",
            ticket_id=w.sending.id,
            status="pending",
            created_at=earlier.created_at,
        )
    )
    earlier.receipt = "delivered"  # the earlier release's SMS; the latest one is still on its way
    db.session.commit()
    w.by_sms = [rated(w, "sms"), rated(w, "sms", "basically")]
    w.by_link = rated(w, "link", "basically")
    w.by_web = rated(w, "web", "unsatisfied")
    w.by_phone = rated(w, "phone")
    w.old = rated(w, None)
    w.west = _west_rated_by_sms(w)
    return w


def _west_rated_by_sms(w):
    """A 西江区 appeal, handled there and rated by an SMS reply."""
    ticket = register_ticket(appeal(w, district_id=w.other_district.id), w.operator, "register")
    for action, who, params in (
        ("dispatch", w.dispatcher, {"lead_unit": w.other_district}),
        ("sign", w.outsider, {}),
        ("reply", w.outsider, {"body": "已处理完毕"}),
        ("approve_reply", w.dispatcher, {}),
        ("rate_satisfied", CitizenActor(PHONE, via="sms"), {"satisfaction": "satisfied"}),
    ):
        ticket = apply_transition(ticket, action, who, **params)
    db.session.commit()
    return ticket


def _row(page: str, tracking_no: str) -> str:
    match = re.search(r"<tr>(?:(?!</tr>).)*" + tracking_no + r"(?:(?!</tr>).)*</tr>", page, re.S)
    assert match, tracking_no
    return match.group(0)


def test_callback_list_says_whether_each_release_sms_arrived(client, known):
    login(client, "operator")
    page = client.get("/?status=pending_callback").get_data(as_text=True)
    assert "答复短信" in page
    for ticket, text in (
        (known.delivered, "已送达"),
        (known.undelivered, "未送达"),
        (known.failed, "未送达"),
        (known.sending, "发送中"),
    ):
        assert f'data-sms="{ticket.id}"><span class="badge sms-delivery' in _row(page, ticket.tracking_no)
        assert text in _row(page, ticket.tracking_no)
    # Only the tickets still to call: those rated by any channel have left the list.
    for ticket in [*known.by_sms, known.by_link, known.by_web, known.by_phone, known.old, known.west]:
        assert ticket.tracking_no not in page
    summary = re.search(r'data-testid="callback-summary">(.*?)</p>', page, re.S).group(1)
    assert "待回访：4" in summary
    assert "短信回复 3，短信链接 1，网上 1" in summary  # 西江区's SMS rating too: the operator sees the city


def test_rated_without_a_call_lists_the_citizens_own_ratings(client, known):
    login(client, "operator")
    page = client.get("/?status=pending_callback&show=rated").get_data(as_text=True)
    listed = re.findall(r'data-rated="(\d+)"', page)
    expected = [*known.by_sms, known.by_link, known.by_web, known.west]
    assert sorted(listed) == sorted(t.tracking_no for t in expected)
    assert listed[0] == known.west.tracking_no  # the newest rating first
    for ticket, channel, rating in (
        (known.by_sms[1], "短信回复", "基本满意"),
        (known.by_link, "短信链接", "基本满意"),
        (known.by_web, "查询页面", "不满意"),
    ):
        row = page[page.index(f'data-rated="{ticket.tracking_no}"') :].split("</tr>")[0]
        assert channel in row and rating in row
    # The callback and the old rating were calls; the to-call list's tickets are not rated.
    for ticket in (known.by_phone, known.old, known.delivered):
        assert ticket.tracking_no not in page
    assert 'aria-current="page">已评价，无需回访' in page


def test_rated_without_a_call_leaves_out_ratings_before_the_callback_window(client, known):
    long_ago = utcnow().replace(year=utcnow().year - 1)
    known.by_link.rated_at = long_ago
    db.session.commit()
    login(client, "operator")
    page = client.get("/?status=pending_callback&show=rated").get_data(as_text=True)
    assert known.by_link.tracking_no not in page and known.by_web.tracking_no in page
    assert "短信链接 0" in page


def test_a_district_supervisor_sees_only_the_districts_callbacks_and_ratings(client, known):
    create_user("dsup", PASSWORD, "dsup", org_unit=known.district, roles=[(Role.SUPERVISOR, known.district)])
    db.session.commit()
    login(client, "dsup")
    page = client.get("/?status=pending_callback&show=rated").get_data(as_text=True)
    assert known.by_sms[0].tracking_no in page and known.west.tracking_no not in page
    assert "短信回复 2，短信链接 1，网上 1" in page
    board = client.get(_period()).get_data(as_text=True)
    assert _figures(board) == {"phone": 1, "web": 1, "link": 1, "sms": 2, "unknown": 1}


def test_unknown_show_opens_the_list_to_call(client, known):
    login(client, "operator")
    page = client.get("/?status=pending_callback&show=everything").get_data(as_text=True)
    assert known.delivered.tracking_no in page and 'aria-current="page">待回访' in page
    assert client.get("/?status=pending_callback&show=rated&page=abc").status_code == 400
    assert client.get("/?status=pending_callback&page=abc").status_code == 400


def test_the_callback_list_reads_its_receipts_in_one_statement(client, known, statements):
    login(client, "operator")
    client.get("/?status=pending_callback")
    statements.clear()
    client.get("/?status=pending_callback")
    few = len(statements)
    assert sum("notification.template IN" in s for s in statements) == 1  # the bell reads its own
    for _ in range(3):
        known.ticket_in("pending_callback")
    client.get("/?status=pending_callback")  # the request reloads the user the test's commits expired
    statements.clear()
    client.get("/?status=pending_callback")
    assert len(statements) == few


def _period(**params) -> str:
    today = local_today().isoformat()
    query = {"from": today, "to": today, **params}
    return "/dashboard/?" + "&".join(f"{k}={v}" for k, v in query.items())


def _figures(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-rating-channel="(\w+)">(\d+)<', page)}


def test_dashboard_counts_the_periods_ratings_by_channel(client, known):
    login(client, "supervisor")
    page = client.get(_period()).get_data(as_text=True)
    assert _figures(page) == {"phone": 1, "web": 1, "link": 1, "sms": 3, "unknown": 1}
    assert 'type="application/json" id="chart-data-ratings"' in page
    spec = json.loads(re.search(r'id="chart-data-ratings">(.*?)</script>', page, re.S).group(1))
    assert spec["stack"] and spec["x"] == ["电话回访", "查询页面", "短信链接", "短信回复", "未记录"]
    assert [s["data"] for s in spec["series"]] == [[1, 0, 0, 2, 1], [0, 0, 1, 1, 0], [0, 1, 0, 0, 0]]
    table = page[page.index('id="chart-data-ratings"') :].split("</table>")[0]
    assert "<td>短信回复</td><td>2</td><td>1</td><td>0</td><td>3</td>" in table
    assert "<td>查询页面</td><td>0</td><td>0</td><td>1</td><td>1</td>" in table
    assert "<td>未记录</td><td>1</td><td>0</td><td>0</td><td>1</td>" in table
    # A chosen unit: 西江区 has only its SMS rating.
    west = _figures(client.get(_period(unit=known.other_district.id)).get_data(as_text=True))
    assert west == {"phone": 0, "web": 0, "link": 0, "sms": 1, "unknown": 0}


def test_dashboard_ratings_of_another_period_and_bad_periods(client, known):
    login(client, "supervisor")
    page = client.get("/dashboard/?from=2020-01-01&to=2020-01-31").get_data(as_text=True)
    assert set(_figures(page).values()) == {0}
    for query in ("from=2026-13-01", "from=2027-01-02&to=2027-01-01", "unit=abc", "to=1800-01-01"):
        assert client.get(f"/dashboard/?{query}").status_code == 400, query
