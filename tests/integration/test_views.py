"""The staff UI: login, the ticket list limited to the user's units, the ticket page and its errors."""

import re

from flask_babel import refresh

from hotline.extensions import db
from hotline.tickets.models import Ticket
from tests.factories import PASSWORD


def login(client, username, password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def tracking_numbers(html: str) -> set[str]:
    return set(re.findall(r"/tickets/(\d{14})", html))


def test_login_page_speaks_chinese_and_logs_in_and_out(client, world):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page
    assert "bootstrap" in page and "cdn" not in page.lower()
    response = login(client, "operator")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_one_message(client, world):
    page = login(client, "operator", "nope").get_data(as_text=True)
    assert "用户名或密码错误" in page
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_log_in(client, world):
    world.operator.active = False
    db.session.commit()
    assert login(client, "operator").status_code == 200
    assert client.get("/").status_code == 302


def test_lists_show_only_the_users_units(client, world):
    in_district = world.ticket_in("in_progress")
    waiting = world.ticket_in("pending_dispatch")
    login(client, "district_handler")
    seen = tracking_numbers(client.get("/").get_data(as_text=True))
    assert in_district.tracking_no in seen and waiting.tracking_no not in seen
    client.post("/logout")
    login(client, "outsider")
    assert tracking_numbers(client.get("/").get_data(as_text=True)) == set()
    client.post("/logout")
    login(client, "dispatcher")
    assert {in_district.tracking_no, waiting.tracking_no} <= tracking_numbers(client.get("/").get_data(as_text=True))


def test_status_filter(client, world):
    a = world.ticket_in("in_progress")
    b = world.ticket_in("pending_dispatch")
    login(client, "dispatcher")
    seen = tracking_numbers(client.get("/?status=pending_dispatch").get_data(as_text=True))
    assert b.tracking_no in seen and a.tracking_no not in seen
    assert client.get("/?status=bogus").status_code == 400


def test_ticket_page_shows_the_chinese_timeline(client, world):
    ticket = world.ticket_in("pending_callback")
    login(client, "dispatcher")
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    for text in ["小区物业乱收费", "登记", "派单", "签收", "东湖区"]:
        assert text in page, text


def test_other_units_ticket_is_not_found(client, world):
    ticket = world.ticket_in("in_progress")
    login(client, "outsider")
    assert client.get(f"/tickets/{ticket.tracking_no}").status_code == 404
    assert client.post(f"/tickets/{ticket.tracking_no}/actions/reply", data={"body": "x"}).status_code == 404
    assert client.get("/tickets/20990101000001").status_code == 404


def test_action_through_the_ui_and_its_refusals(client, world):
    replied = world.ticket_in("replied")
    ticket = world.ticket_in("dispatched")
    login(client, "district_handler")
    # a role the user lacks: 403 with a readable message, nothing changed
    page = client.post(f"/tickets/{replied.tracking_no}/actions/approve_reply", data={})
    assert page.status_code == 403 and "无权" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Ticket, replied.id).status == "replied"
    # a stale form: 409
    stale = client.post(f"/tickets/{ticket.tracking_no}/actions/sign", data={"version": ticket.version - 1})
    assert stale.status_code == 409
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "dispatched"
    done = client.post(f"/tickets/{ticket.tracking_no}/actions/sign", data={"version": ticket.version})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "in_progress"
    # the same action again: not possible in the new state
    again = client.post(f"/tickets/{ticket.tracking_no}/actions/sign", data={})
    assert again.status_code == 409


def test_phone_is_masked_for_units_and_confidential_callers_hidden(client, world):
    ticket = world.ticket_in("in_progress", confidential=True, appeal_type="report")
    login(client, "district_handler")
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert "13912345678" not in page and "张伟" not in page
    client.post("/logout")
    login(client, "dispatcher")  # hotline staff see who called, the full number only on a recorded reveal
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert "张伟" in page and "13912345678" not in page
    assert "13912345678" in client.post(f"/tickets/{ticket.tracking_no}/contact").get_data(as_text=True)


def test_english_is_selectable(client, world):
    login(client, "dispatcher")
    client.post("/lang/en", data={"next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "Pending dispatch" in page
    client.post("/lang/zh_Hans_CN", data={"next": "/"})
    refresh()  # the tests share one app context, where Flask-Babel caches the locale
    assert "待派单" in client.get("/").get_data(as_text=True)


def test_list_rows_name_the_category_and_lead_unit_in_the_users_language(client, world):
    world.parent_category.name_en, world.category.name_en = "Urban construction", "Property management"
    world.district.name_en = "Donghu District"
    dispatched = world.ticket_in("dispatched")
    bare = world.ticket_in("pending_dispatch")
    bare.category_id = None
    db.session.commit()
    login(client, "dispatcher")

    def row(page, ticket):
        return re.search(
            rf'<tr><td><a class="tracking-no" href="/tickets/{ticket.tracking_no}">.*?</tr>', page, re.S
        ).group(0)

    page = client.get("/").get_data(as_text=True)
    assert 'title="城乡建设与管理/物业管理">物业管理</td>' in row(page, dispatched)
    assert 'unit-cell">东湖区</td>' in row(page, dispatched)
    assert 'title=""></td>' in row(page, bare) and 'unit-cell"></td>' in row(page, bare)
    client.post("/lang/en", data={"next": "/"})
    refresh()  # the tests share one app context, where Flask-Babel caches the locale
    page = client.get("/").get_data(as_text=True)
    assert 'title="Urban construction / Property management">Property management</td>' in row(page, dispatched)
    assert 'unit-cell">Donghu District</td>' in row(page, dispatched)
    assert 'title=""></td>' in row(page, bare) and 'unit-cell"></td>' in row(page, bare)


def test_open_redirect_after_login_is_refused(client, world):
    response = client.post("/login?next=//evil.example/x", data={"username": "operator", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_pages_need_a_login(client, world):
    response = client.get("/tickets/20260101000001")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # the bare address is where citizens land: the portal, which links to the staff sign-in (issue 21.2)
    assert client.get("/").headers["Location"].endswith("/portal")


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(world):
    from flask import request

    from hotline import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", PROXY_COUNT=1)

    @app.route("/_whoami")
    def whoami():
        return request.remote_addr

    assert app.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.7"}).text == "203.0.113.7"


def test_dispatch_desk_shows_a_bounded_page_of_each_queue_with_the_totals(client, world, monkeypatch):
    from hotline.tickets import queues

    monkeypatch.setattr(queues, "DESK_SIZE", 1)
    first, second = world.ticket_in("pending_dispatch"), world.ticket_in("pending_dispatch")
    returned = world.ticket_in("return_requested")
    login(client, "dispatcher")
    page = client.get("/dispatch").get_data(as_text=True)
    pending = page.split('data-testid="dispatch-queue"')[1].split('id="returns"')[0]
    assert first.tracking_no in pending and second.tracking_no not in pending  # oldest first, one shown
    assert 'data-testid="total-pending">2<' in page and 'data-testid="desk-more"' in pending
    assert "/?status=pending_dispatch" in pending
    assert returned.tracking_no in page and "不属于本单位职责" in page  # the handler's reason, from its event


def test_dispatch_desk_review_tabs_show_the_latest_reason_and_the_latest_submitted_answer(client, world):
    from hotline.tickets.services import apply_transition

    returned = world.ticket_in("return_requested")  # reason 不属于本单位职责
    apply_transition(returned, "reject_return", world.dispatcher, note="请先核实")
    apply_transition(returned, "request_return", world.district_handler, note="<b>再次</b>申请退回")
    answered = world.ticket_in("replied")  # answer 已处理完毕
    apply_transition(answered, "send_back_reply", world.dispatcher, note="缺少处理结果")
    apply_transition(answered, "reply", world.district_handler, body="已更换<script>水表</script>并回访")
    db.session.commit()
    login(client, "dispatcher")
    page = client.get("/dispatch").get_data(as_text=True)
    returns = page.split('id="returns"')[1].split('id="replies"')[0]
    assert returned.tracking_no in returns
    assert "东湖区: &lt;b&gt;再次&lt;/b&gt;申请退回</div>" in returns and "不属于本单位职责" not in returns
    replies = page.split('id="replies"')[1]
    assert answered.tracking_no in replies
    assert '<p class="pre-wrap small my-2">已更换&lt;script&gt;水表&lt;/script&gt;并回访</p>' in replies
    assert "已处理完毕" not in replies and "<script>水表" not in page
    assert f'name="version" value="{answered.version}"' in replies  # the forms carry the version seen


def test_list_counts_are_reused_for_a_few_seconds_per_scope(client, world, app, monkeypatch):
    """The per-status counts (a grouped count over every visible ticket) are kept TICKET_COUNTS_SECONDS by
    the process, per scope (a handler never gets the city's counts); the rows themselves are always live."""
    import re

    def in_progress_count(page):
        return int(
            re.search(r'status=in_progress"[^>]*>[^<]*<span class="badge rounded-pill count">(\d+)<', page).group(1)
        )

    world.ticket_in("in_progress")
    app.extensions.pop("hotline_live", None)
    monkeypatch.setitem(app.config, "TICKET_COUNTS_SECONDS", 60)
    login(client, "dispatcher")
    assert in_progress_count(client.get("/").get_data(as_text=True)) == 1
    newer = world.ticket_in("in_progress")
    page = client.get("/").get_data(as_text=True)
    assert newer.tracking_no in page and in_progress_count(page) == 1  # live rows, the count kept
    client.post("/logout")
    login(client, "district_handler")
    assert in_progress_count(client.get("/").get_data(as_text=True)) == 2  # its own scope, counted now
    client.post("/logout")
    login(client, "dispatcher")
    monkeypatch.setitem(app.config, "TICKET_COUNTS_SECONDS", 0)
    assert in_progress_count(client.get("/").get_data(as_text=True)) == 2


def test_dispatch_desk_puts_the_most_urgent_first_then_the_oldest(client, world, monkeypatch):
    from hotline.tickets import queues

    monkeypatch.setattr(queues, "DESK_SIZE", 2)
    # different callers and places: none is shown as another's possible duplicate
    old_normal = world.ticket_in(
        "pending_dispatch",
        citizen_phone="13900000001",
        address="甲路1号",
        title="路灯不亮",
        body="小区路灯坏了一个月。",
    )
    urgent = world.ticket_in(
        "pending_dispatch",
        urgency="urgent",
        citizen_phone="13900000002",
        address="乙路2号",
        title="井盖缺失",
        body="路口井盖丢失很危险。",
    )
    critical = world.ticket_in(
        "pending_dispatch",
        urgency="critical",
        citizen_phone="13900000003",
        address="丙路3号",
        title="燃气泄漏",
        body="楼道里闻到煤气味。",
    )
    login(client, "dispatcher")
    pending = (
        client.get("/dispatch").get_data(as_text=True).split('data-testid="dispatch-queue"')[1].split('id="returns"')[0]
    )
    assert pending.index(critical.tracking_no) < pending.index(urgent.tracking_no)
    assert old_normal.tracking_no not in pending and 'data-testid="desk-more"' in pending


def test_review_queue_shows_the_oldest_appeals_and_the_total(client, world, monkeypatch):
    from hotline.intake import views as intake_views

    monkeypatch.setattr(intake_views, "REVIEW_SIZE", 1)
    first, second = world.ticket_in("pending_review"), world.ticket_in("pending_review")
    login(client, "operator")
    page = client.get("/console/review").get_data(as_text=True)
    assert first.tracking_no in page and second.tracking_no not in page
    assert 'data-testid="desk-more"' in page and "/?status=pending_review" in page


def test_list_pages_go_newest_first_with_ties_broken_by_id(client, world, app, monkeypatch):
    from datetime import timedelta

    tickets = [world.ticket_in("pending_dispatch") for _ in range(5)]
    base = tickets[0].created_at
    for ticket, minutes in zip(tickets, [3, 1, 1, 2, 0]):  # two share a moment: the higher id comes first
        ticket.created_at = base - timedelta(minutes=minutes)
    db.session.commit()
    expected = [t.tracking_no for t in sorted(tickets, key=lambda t: (t.created_at, t.id), reverse=True)]
    monkeypatch.setitem(app.config, "TICKETS_PER_PAGE", 2)
    login(client, "dispatcher")
    shown = []
    for page in (1, 2, 3):
        html = client.get(f"/?page={page}").get_data(as_text=True)
        rows = re.findall(r'class="tracking-no" href="/tickets/(\d+)"', html)
        assert len(rows) == (2 if page < 3 else 1) and "物业管理" in html  # each row with its category
        shown += rows
    assert shown == expected
    assert 'class="tracking-no"' not in client.get("/?page=9").get_data(as_text=True)
