"""Duplicate hints leave out the caller's own unrelated appeals and show each candidate once, with why."""

from hotline.extensions import db
from hotline.search.services import duplicates_for_queue, duplicates_of, find_duplicates
from hotline.tickets.models import Category
from tests.factories import PASSWORD

PHONE = "13912345678"


def _world_with_a_second_category(world):
    world.lift = Category(code="0502", name="电梯安全", parent=world.parent_category)
    db.session.add(world.lift)
    db.session.commit()
    return world


def test_the_callers_unrelated_appeals_are_no_duplicates(world):
    w = _world_with_a_second_category(world)
    fee = w.ticket_in("in_progress", citizen_phone=PHONE)  # 物业乱收费 at 阳光花园, 物业管理, 东湖区
    lift = w.ticket_in(
        "in_progress",
        citizen_phone=PHONE,
        category_id=w.lift.id,
        title="电梯困人",
        body="学府路8号电梯经常停运",
        address="东湖区学府路8号",
    )
    elsewhere = w.ticket_in(
        "in_progress",
        citizen_phone=PHONE,
        district_id=w.other_district.id,
        title="物业不作为",
        body="西江区某小区楼道垃圾无人清理",
        address="西江区江滨路2号",
    )
    found = find_duplicates(
        phone=PHONE,
        category_id=w.category.id,
        district_id=w.district.id,
        title="物业服务",
        body="小区物业不作为",
        address="东湖区建设路9号",
    )
    assert [(d.ticket.id, d.reason) for d in found] == [(fee.id, "caller")]  # not the lift, not the other district
    # the same caller about a lift: only the lift appeal
    about_lift = find_duplicates(
        phone=PHONE, category_id=w.lift.id, district_id=w.district.id, title="电梯停运", body="电梯又坏了", address=None
    )
    assert [d.ticket.id for d in about_lift] == [lift.id]
    # the desk and the ticket page agree
    newer = w.ticket_in(
        "pending_dispatch",
        citizen_phone=PHONE,
        category_id=w.lift.id,
        title="电梯噪音",
        body="电梯运行时异响",
        address="东湖区学府路8号",
    )
    page_hints = [(d.ticket.id, d.reason) for d in duplicates_of(newer)]
    assert [i for i, _ in page_hints] == [lift.id] and page_hints[0][1].startswith("caller+address")
    assert [(d.ticket.id, d.reason) for d in duplicates_for_queue([newer])[newer.id]] == page_hints
    assert elsewhere.id not in [d.ticket.id for d in duplicates_of(newer)]


def test_the_console_lists_each_candidate_once_with_its_reasons(client, world):
    w = _world_with_a_second_category(world)
    fee = w.ticket_in("in_progress", citizen_phone=PHONE)
    lift = w.ticket_in(
        "in_progress",
        citizen_phone=PHONE,
        category_id=w.lift.id,
        title="电梯困人",
        body="学府路8号电梯经常停运",
        address="东湖区学府路8号",
    )
    client.post("/login", data={"username": "operator", "password": PASSWORD})
    page = client.get(
        "/search/assist",
        query_string={
            "phone": PHONE,
            "category_id": w.category.id,
            "district_id": w.district.id,
            "title": fee.title,
            "body": fee.body,
            "address": fee.address,
        },
    ).get_data(as_text=True)
    hints = page.split('data-testid="duplicate-hints"')[1].split("</ul>")[0]
    assert hints.count(fee.tracking_no) == 2  # one row: the link and its text
    assert hints.count("<li") == 1 and lift.tracking_no not in hints
    assert "同一来电人、同一地址和分类、内容相似" in hints
    other_place = client.get(
        "/search/assist",
        query_string={
            "phone": PHONE,
            "category_id": w.category.id,
            "district_id": w.district.id,
            "title": "物业服务",
            "body": "楼道无人打扫",
            "address": "东湖区建设路9号",
        },
    ).get_data(as_text=True)
    assert fee.tracking_no in other_place and "同一来电人、同一分类" in other_place
    # the caller panel is the caller's history: both appeals, no second list of duplicates
    history = client.get("/console/caller", query_string={"phone": PHONE}).get_data(as_text=True)
    assert fee.tracking_no in history and lift.tracking_no in history and "duplicate-hints" not in history
