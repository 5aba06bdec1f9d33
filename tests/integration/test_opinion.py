"""Opinion cases (舆情, docs/opinion.md): opened from a detected hotspot (its tickets linked) or an outside item
(a checked web address), stages in order by their roles, units see the cases they lead, and the portal shows
published responses only, without personal data, linked from the linked tickets' tracking pages."""

from datetime import timedelta

import pytest

from hotline.core.audit import AuditEntry
from hotline.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from hotline.dashboard.models import HotspotAlertRow
from hotline.dashboard.services import refresh_hotspots
from hotline.extensions import db
from hotline.opinion import services
from hotline.opinion.models import OpinionCase, OpinionCaseTicket
from tests.factories import PASSWORD, PHONE
from tests.integration.test_render_queries import _page, rendering  # noqa: F401  (the fixture)


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


def _hotspot(world, n=3):
    tickets = [world.ticket_in("pending_dispatch", address=f"东湖区人民路1号阳光花园{i + 1}栋") for i in range(n)]
    refresh_hotspots()
    db.session.commit()
    return tickets, db.session.execute(db.select(HotspotAlertRow)).scalar_one()


def _external(world, **overrides):
    fields = dict(
        source="news",
        url="https://news.example.cn/2026/12/07/1.html",
        title="阳光花园物业乱收费引关注",
        excerpt="多名业主反映物业费上涨。",
        category_id=world.category.id,
    )
    fields.update(overrides)
    return services.open_external_case(world.supervisor, **fields)


def _analysed(world, case, unit=None):
    return services.analyse_case(
        case,
        world.supervisor,
        level="major",
        lead_unit_id=(unit or world.district).id,
        deadline=services.local_today() + timedelta(days=5),
        analysis="同一小区一周内多次投诉，媒体已报道。",
    )


def _responded(world, case, body="已约谈物业公司，暂停调价。"):
    _analysed(world, case)
    services.start_handling(case, world.supervisor)
    services.add_handling_note(case, world.district_handler, "已约谈物业公司。")
    return services.publish_response(case, world.supervisor, title="关于物业费调价的回应", body=body, confirmed=True)


def test_a_hotspot_opens_a_case_with_its_tickets_linked(client, world):
    tickets, alert = _hotspot(world)
    login(client, "dispatcher")
    page = client.get("/opinion/").get_data(as_text=True)
    assert alert.place in page and f"/opinion/from-hotspot/{alert.id}" in page
    response = client.post(f"/opinion/from-hotspot/{alert.id}")
    assert response.status_code == 302
    case = db.session.execute(db.select(OpinionCase)).scalar_one()
    assert case.source == "hotspot" and case.stage == "collected"
    assert case.place == alert.place and case.category_id == world.category.id
    assert sorted(link.ticket_id for link in case.links) == sorted(t.id for t in tickets)
    detail = client.get(f"/opinion/{case.id}").get_data(as_text=True)
    assert all(t.tracking_no in detail for t in tickets)
    assert db.session.execute(db.select(AuditEntry).filter_by(action="opinion.open")).scalar_one().target == (
        f"opinion:{case.id}"
    )
    # the hotspot list now says a case covers it, and a second case for it is refused
    assert f"/opinion/from-hotspot/{alert.id}" not in client.get("/opinion/").get_data(as_text=True)
    client.post(f"/opinion/from-hotspot/{alert.id}")
    assert db.session.execute(db.select(db.func.count(OpinionCase.id))).scalar() == 1
    # the trend counts the linked tickets today; an unlinked ticket at the same place counts as "same place"
    trend = services.trend(case)
    assert len(trend.days) == services.TREND_DAYS and trend.linked[-1] == 3 and sum(trend.similar) == 0
    assert (
        client.post(f"/opinion/{case.id}/unlink", data={"link-tracking_no": tickets[0].tracking_no}).status_code == 302
    )
    db.session.expire_all()
    case = db.session.get(OpinionCase, case.id)
    trend = services.trend(case)
    assert trend.linked[-1] == 2 and trend.similar[-1] == 1
    assert client.post(f"/opinion/{case.id}/link", data={"link-tracking_no": "20991231999999"}).status_code == 400
    assert client.post(f"/opinion/{case.id}/link", data={"link-tracking_no": tickets[0].tracking_no}).status_code == 302
    db.session.expire_all()
    assert len(db.session.get(OpinionCase, case.id).links) == 3


def test_only_managers_open_cases(client, world):
    _tickets, alert = _hotspot(world)
    login(client, "operator")
    assert client.post(f"/opinion/from-hotspot/{alert.id}").status_code == 403
    with pytest.raises(PermissionDenied):
        services.open_hotspot_case(alert.id, world.operator)
    assert db.session.execute(db.select(OpinionCase)).first() is None


@pytest.mark.parametrize(
    "url",
    [
        "",
        "javascript:alert(1)",
        "ftp://news.example.cn/a",
        "http://",
        "https://news.example .cn/a",
        "news.example.cn/a",
        "http://localhost/a",
        "https://news.example.cn/" + "a" * 1000,
    ],
)
def test_an_outside_item_needs_a_web_address(client, world, url):
    login(client, "supervisor")
    response = client.post(
        "/opinion/new",
        data={"source": "post", "url": url, "title": "网帖：小区垃圾无人清运", "excerpt": "", "category_id": ""},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请填写" in page or "网址" in page or "1000" in page
    assert db.session.execute(db.select(OpinionCase)).first() is None


def test_an_outside_item_opens_a_case(client, world):
    login(client, "supervisor")
    response = client.post(
        "/opinion/new",
        data={
            "source": "post",
            "url": "https://weibo.example.cn/p/123?from=share",
            "title": "网帖：小区垃圾无人清运",
            "excerpt": "帖文称垃圾堆放三天。",
            "category_id": str(world.category.id),
        },
    )
    assert response.status_code == 302
    case = db.session.execute(db.select(OpinionCase)).scalar_one()
    assert (case.source, case.url, case.stage, case.links) == (
        "post",
        "https://weibo.example.cn/p/123?from=share",
        "collected",
        [],
    )
    # an unknown source is refused with its field
    with pytest.raises(ValidationFailed) as refused:
        _external(world, source="hotspot")
    assert refused.value.field == "source"


def test_the_stages_go_in_order_each_by_its_role(client, world):
    case = _external(world)
    for step in (
        lambda: services.start_handling(case, world.supervisor),
        lambda: services.publish_response(case, world.supervisor, title="t", body="b", confirmed=True),
        lambda: services.close_case(case, world.supervisor, "复盘"),
        lambda: services.add_handling_note(case, world.district_handler, "x"),
    ):
        with pytest.raises((InvalidTransition, PermissionDenied)):
            step()
    with pytest.raises(ValidationFailed) as missing:
        services.analyse_case(case, world.supervisor, level=None, lead_unit_id=None, deadline=None, analysis="")
    assert set(missing.value.fields) == {"level", "lead_unit_id", "deadline", "analysis"}
    with pytest.raises(ValidationFailed) as wrong_unit:
        services.analyse_case(
            case,
            world.supervisor,
            level="general",
            lead_unit_id=world.hotline.id,
            deadline=services.local_today(),
            analysis="x",
        )
    assert set(wrong_unit.value.fields) == {"lead_unit_id"}
    assert case.stage == "collected"
    with pytest.raises(PermissionDenied):
        services.analyse_case(
            case, world.operator, level="general", lead_unit_id=world.district.id, deadline=None, analysis="x"
        )
    _analysed(world, case)
    assert (case.stage, case.level, case.lead_unit_id) == ("analysed", "major", world.district.id)
    with pytest.raises(InvalidTransition):
        services.publish_response(case, world.supervisor, title="t", body="b", confirmed=True)
    services.start_handling(case, world.supervisor)
    with pytest.raises(InvalidTransition):  # nothing handled yet
        services.publish_response(case, world.supervisor, title="t", body="b", confirmed=True)
    for outsider in (world.outsider, world.dispatcher, world.street_handler):
        with pytest.raises(PermissionDenied):
            services.add_handling_note(case, outsider, "x")
    services.add_handling_note(case, world.district_handler, "已约谈物业公司。")
    with pytest.raises(ValidationFailed) as unconfirmed:
        services.publish_response(case, world.supervisor, title="回应", body="已处理。", confirmed=False)
    assert unconfirmed.value.field == "confirm"
    services.publish_response(case, world.supervisor, title="回应", body="已处理。", confirmed=True)
    assert case.stage == "responded" and case.published_at is not None
    with pytest.raises(InvalidTransition):
        services.add_handling_note(case, world.district_handler, "x")
    with pytest.raises(ValidationFailed):
        services.close_case(case, world.supervisor, " ")
    services.close_case(case, world.dispatcher, "回应及时，物业调价已暂停。")
    assert case.stage == "closed" and case.closed_at is not None
    db.session.commit()
    actions = list(
        db.session.execute(
            db.select(AuditEntry.action).where(AuditEntry.target == f"opinion:{case.id}").order_by(AuditEntry.id)
        ).scalars()
    )
    assert actions == [
        "opinion.open",
        "opinion.analyse",
        "opinion.handle",
        "opinion.note",
        "opinion.respond",
        "opinion.close",
    ]


def test_a_step_out_of_order_on_the_web_changes_nothing(client, world):
    case = _external(world)
    db.session.commit()
    login(client, "dispatcher")
    assert client.post(f"/opinion/{case.id}/handle").status_code == 409
    db.session.expire_all()
    assert db.session.get(OpinionCase, case.id).stage == "collected"


def test_units_see_only_the_cases_they_lead(client, world):
    ours = _analysed(world, _external(world, title="东湖区的事件"))
    theirs = _analysed(world, _external(world, title="西江区的事件"), unit=world.other_district)
    db.session.commit()
    login(client, "district_handler")
    page = client.get("/opinion/").get_data(as_text=True)
    assert "东湖区的事件" in page and "西江区的事件" not in page
    assert client.get(f"/opinion/{ours.id}").status_code == 200
    assert client.get(f"/opinion/{theirs.id}").status_code == 404
    assert client.post(f"/opinion/{theirs.id}/note", data={"note-body": "x"}).status_code == 404
    client.post("/logout")
    login(client, "street_handler")  # below the lead unit: not its case
    assert client.get(f"/opinion/{ours.id}").status_code == 404
    client.post("/logout")
    login(client, "operator")
    page = client.get("/opinion/").get_data(as_text=True)
    assert "东湖区的事件" in page and "西江区的事件" in page
    client.post("/logout")
    login(client, "citizen")
    assert client.get("/opinion/").status_code == 403


def test_handlers_post_notes_on_the_web(client, world):
    case = _analysed(world, _external(world))
    services.start_handling(case, world.supervisor)
    db.session.commit()
    login(client, "district_handler")
    assert client.post(f"/opinion/{case.id}/note", data={"note-body": ""}).status_code == 400
    assert client.post(f"/opinion/{case.id}/note", data={"note-body": "已现场核查。"}).status_code == 302
    assert client.post(f"/opinion/{case.id}/respond", data={"respond-response_title": "x"}).status_code == 403
    db.session.expire_all()
    assert [n.body for n in db.session.get(OpinionCase, case.id).notes] == ["已现场核查。"]


def test_the_public_pages_show_only_published_responses_without_personal_data(client, world):
    ticket = world.ticket_in("in_progress", citizen_name="李秀英")
    published = _external(world, excerpt="帖文称业主李秀英多次投诉")
    published.links.append(OpinionCaseTicket(ticket=ticket))
    _responded(
        world,
        published,
        body=f"李秀英反映的情况已核实，电话{PHONE}、13800138000，住东湖区人民路1号阳光花园3栋201室。王先生也来电。物业已暂停调价。",
    )
    draft = _analysed(world, _external(world, title="尚未回应的事件"))
    db.session.commit()
    index = client.get("/public/opinion/").get_data(as_text=True)
    assert "关于物业费调价的回应" in index and "尚未回应的事件" not in index
    assert client.get(f"/public/opinion/{draft.id}").status_code == 404
    response = client.get(f"/public/opinion/{published.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "物业已暂停调价" in page and "东湖区人民路" in page
    for secret in (
        "李秀英",
        PHONE,
        "13800138000",
        "3栋",
        "201室",
        "王先生",
        ticket.tracking_no,
        "同一小区一周内",
        "帖文称",
    ):
        assert secret not in page, secret
    # what is stored is the scrubbed text: staff see what the public sees
    assert "李秀英" not in published.response_body and PHONE not in published.response_body


def test_the_tracking_page_links_to_the_published_response(client, world):
    ticket = world.ticket_in("in_progress")
    case = _external(world)
    case.links.append(OpinionCaseTicket(ticket=ticket))
    _analysed(world, case)
    db.session.commit()
    client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": PHONE})
    assert f"/public/opinion/{case.id}" not in client.get(f"/track/{ticket.tracking_no}").get_data(as_text=True)
    services.start_handling(case, world.supervisor)
    services.add_handling_note(case, world.district_handler, "已约谈。")
    services.publish_response(case, world.supervisor, title="关于物业费的回应", body="已暂停调价。", confirmed=True)
    db.session.commit()
    page = client.get(f"/track/{ticket.tracking_no}").get_data(as_text=True)
    assert f'href="/public/opinion/{case.id}"' in page and "关于物业费的回应" in page


def test_supervisors_see_open_cases_by_level_and_age_with_the_overdue_marked(client, world):
    serious = services.analyse_case(
        _external(world, title="重大事件"),
        world.supervisor,
        level="serious",
        lead_unit_id=world.district.id,
        deadline=services.local_today(),
        analysis="x",
    )
    _external(world, title="刚收集的事件")
    closed = _responded(world, _external(world, title="已办结的事件"))
    services.close_case(closed, world.supervisor, "复盘")
    serious.deadline = services.local_today() - timedelta(days=1)  # its deadline has passed
    serious.created_at -= timedelta(days=3)
    db.session.commit()
    groups = services.overview()
    assert [(g.level, [c.title for c in g.cases], g.overdue) for g in groups] == [
        ("serious", ["重大事件"], 1),
        (None, ["刚收集的事件"], 0),
    ]
    login(client, "supervisor")
    page = client.get("/opinion/overview").get_data(as_text=True)
    assert "重大事件" in page and "已办结的事件" not in page and "table-danger" in page
    assert page.index("重大事件") < page.index("刚收集的事件")
    client.post("/logout")
    login(client, "dispatcher")
    assert client.get("/opinion/overview").status_code == 403


def test_the_opinion_pages_render_without_queries(app, client, world, rendering):  # noqa: F811
    tickets, alert = _hotspot(world)
    case = services.open_hotspot_case(alert.id, world.supervisor)
    _analysed(world, case)
    services.start_handling(case, world.supervisor)
    services.add_handling_note(case, world.district_handler, "已现场核查。")
    _external(world)
    db.session.commit()
    case_id = case.id
    page = _page(app, client, "supervisor", f"/opinion/{case_id}", rendering, "opinion/detail.html")
    assert tickets[0].tracking_no in page and "已现场核查。" in page
    _page(app, client, "supervisor", "/opinion/", rendering, "opinion/index.html")
    _page(app, client, "supervisor", "/opinion/overview", rendering, "opinion/overview.html")
