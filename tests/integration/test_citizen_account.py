"""The citizen account (issue 21.3): every appeal of the account's phone, whatever channel registered it, shown
with citizen-facing states and dates only; through ``ticket_scope``, the one scope rule (issue 23.3)."""

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.tickets.models import Ticket
from hotline.tickets.queries import visible_tickets
from hotline.tickets.services import apply_transition, register_ticket
from tests.factories import PASSWORD, PHONE, appeal

OTHER_PHONE = "13700001111"


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


@pytest.fixture
def appeals(world):
    """The citizen account's phone is PHONE (set by staff). A call an operator registered from PHONE (in progress,
    red-carded), an API appeal from PHONE, a web appeal filed while signed in from another phone, and a
    stranger's appeal."""
    w = world
    w.citizen_user.phone = "+86 139 1234 5678"  # as an import may write it: compared normalised
    called = w.ticket_in("in_progress", title="楼道灯坏了很久")
    called.warning_level = "red"
    api = register_ticket(appeal(w, channel="api", title="公交站牌缺失"), w.operator, "register")
    signed_in = register_ticket(
        appeal(w, channel="web", title="小区噪音扰民", citizen_phone="13600002222", citizen_user_id=w.citizen_user.id),
        w.operator,
        "register",
    )
    stranger = w.ticket_in("in_progress", title="别人的诉求", citizen_phone=OTHER_PHONE)
    db.session.commit()
    w.called, w.api, w.signed_in, w.stranger = called, api, signed_in, stranger
    return w


def test_scope_is_the_accounts_phone_and_its_own_appeals(appeals):
    w = appeals
    seen = set(db.session.execute(visible_tickets(w.citizen_user).with_only_columns(Ticket.tracking_no)).scalars())
    assert seen == {w.called.tracking_no, w.api.tracking_no, w.signed_in.tracking_no}


def test_an_account_without_a_phone_sees_only_what_it_filed(appeals):
    w = appeals
    w.citizen_user.phone = None
    db.session.commit()
    seen = set(db.session.execute(visible_tickets(w.citizen_user).with_only_columns(Ticket.tracking_no)).scalars())
    assert seen == {w.signed_in.tracking_no}


def test_the_list_shows_citizen_facing_states_and_dates_only(client, appeals):
    w = appeals
    login(client, "citizen")
    page = client.get("/").get_data(as_text=True)
    listing = page[page.index('data-testid="my-appeals"') :]
    for ticket in (w.called, w.api, w.signed_in):
        assert ticket.tracking_no in listing and ticket.title in listing
    assert w.stranger.tracking_no not in page and "别人的诉求" not in page
    assert "办理中" in listing and "已受理，正在分派" in listing  # in progress; registered, not yet dispatched
    assert listing.count("status-in_progress") == 1  # the red-carded call: the same badge as any handling
    # No cards, deadlines or units at work.
    for internal in ("warning-card", "红牌", "黄牌", "东湖区", "截止", "deadline", "Next deadline"):
        assert internal not in listing, internal
    assert "我的诉求" in page  # the navigation says so too


def test_an_appeal_opens_as_the_citizens_page_of_it(client, appeals):
    w = appeals
    login(client, "citizen")
    response = client.get(f"/tickets/{w.called.tracking_no}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/track/{w.called.tracking_no}")
    page = client.get(f"/track/{w.called.tracking_no}")
    assert page.status_code == 200 and "楼道灯坏了很久" in page.get_data(as_text=True)
    assert "warning-card" not in page.get_data(as_text=True)
    assert client.get(f"/tickets/{w.stranger.tracking_no}").status_code == 404
    assert client.get(f"/track/{w.stranger.tracking_no}").status_code == 302  # to the lookup form


def test_the_account_rates_a_phone_registered_appeal(client, appeals):
    w = appeals
    apply_transition(w.called, "reply", w.district_handler, body="已更换楼道灯。")
    apply_transition(w.called, "approve_reply", w.dispatcher)
    db.session.commit()
    login(client, "citizen")
    response = client.post(f"/track/{w.called.tracking_no}", data={"satisfaction": "satisfied"})
    assert response.status_code == 302
    assert db.session.execute(select(Ticket.status).filter_by(id=w.called.id)).scalar() == "closed"


@pytest.mark.parametrize(
    "status, shown",
    [
        ("replied", "办理中"),
        ("return_requested", "办理中"),
        ("suspended", "办理中"),
        ("pending_callback", "已答复，待您评价"),
    ],
)
def test_the_tracking_page_words_a_status_as_the_citizen_is_told_it(client, world, status, shown):
    """An answer under review, a return request or a suspension asked for is “being handled” to the citizen."""
    from hotline.extensions import limiter

    ticket = world.ticket_in(status)
    limiter.enabled = False
    try:
        client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": PHONE})
        page = client.get(f"/track/{ticket.tracking_no}").get_data(as_text=True)
    finally:
        limiter.enabled = True
    badge = page[page.index('data-testid="citizen-status"') :][:80]
    assert shown in badge, badge


def test_search_shows_the_account_its_appeals_as_a_citizen_is_told_them(client, appeals):
    w = appeals
    login(client, "citizen")
    page = client.get("/search/?q=物业").get_data(as_text=True)
    results = page[page.index('data-testid="search-results"') :]
    assert w.called.tracking_no in results and "办理中" in results
    assert "status-in_progress" not in results
    assert 'text-body-secondary">城乡建设与管理/物业管理 · <time' in results  # category and date, no lead unit
