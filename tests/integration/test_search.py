"""Ticket search on both back ends: ranking, filters, scope, the index kept in step, duplicates and merge."""

from hotline.extensions import db
from hotline.search import services
from hotline.search.models import TicketSearch
from hotline.search.services import SearchFilters, find_duplicates, search_tickets
from hotline.tickets.models import Ticket
from hotline.tickets.services import apply_transition
from tests.factories import PASSWORD


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


APPEALS = {
    "fee": ("小区物业乱收费", "阳光花园物业公司擅自上调物业费，未经业主大会同意，要求核查收费标准。"),
    "fee2": ("物业服务差", "物业不作为，楼道垃圾无人清理，却照常收费。"),
    "noise": ("夜间施工噪音扰民", "人民路工地每晚十一点后仍在施工，噪音很大，严重影响休息。"),
    "wage": ("拖欠工资", "来电人在学府路工地务工，老板拖欠了三个月工资共两万元。"),
}


def make(world, key, status="pending_dispatch", **kw):
    title, body = APPEALS[key]
    return world.ticket_in(status, title=title, body=body, **kw)


def titles(result):
    return [h.ticket.title for h in result.hits]


def test_search_ranks_and_matches_every_word(world):
    fee, fee2, noise, wage = (make(world, k, citizen_phone=f"1390000000{i}") for i, k in enumerate(APPEALS))
    # The same hits on both back ends (this test runs on SQLite FTS5 and on PostgreSQL full-text).
    assert {h.ticket.id for h in search_tickets("物业收费").hits} == {fee.id, fee2.id}
    assert titles(search_tickets("小区物业乱收费"))[0] == "小区物业乱收费"
    assert [h.ticket.id for h in search_tickets("噪音扰民").hits] == [noise.id]
    assert [h.ticket.id for h in search_tickets("拖欠工资").hits] == [wage.id]  # body says 拖欠了…工资
    assert search_tickets("物业 噪音").hits == []
    assert search_tickets("的").hits == [] and search_tickets("").total == 0
    best = search_tickets("小区物业乱收费").hits[0]
    assert "<mark>" in str(best.title) and "<mark>物业</mark>" in str(best.snippet)


def test_filters_and_staff_scope(world):
    fee = make(world, "fee")
    fee2 = make(world, "fee2", status="in_progress")
    assert [h.ticket.id for h in search_tickets("物业", filters=SearchFilters(status="in_progress")).hits] == [fee2.id]
    assert [h.ticket.id for h in search_tickets("物业", filters=SearchFilters(unit_id=world.district.id)).hits] == [
        fee2.id
    ]
    assert len(search_tickets("物业", filters=SearchFilters(category_id=world.parent_category.id)).hits) == 2
    today = fee.created_at.date()
    assert search_tickets("物业", filters=SearchFilters(date_to=today.replace(year=today.year - 1))).hits == []
    # a district's handler sees only what was dispatched to it; an outsider sees nothing
    assert [h.ticket.id for h in search_tickets("物业", world.district_handler).hits] == [fee2.id]
    assert search_tickets("物业", world.outsider).hits == []
    assert search_tickets("物业", world.dispatcher).total == 2


def test_index_follows_edits_and_released_answers_in_the_same_transaction(world):
    ticket = make(world, "noise", status="replied")
    assert search_tickets("罚款").hits == []
    ticket.replies[-1].body = "经查，施工单位无夜间施工证明，城管部门已依法处以罚款。"
    db.session.commit()
    assert search_tickets("罚款").hits == []  # not released yet: answers count once approved
    apply_transition(ticket, "approve_reply", world.dispatcher)
    assert [h.ticket.id for h in search_tickets("罚款").hits] == [ticket.id]  # before the commit
    db.session.rollback()
    assert search_tickets("罚款").hits == []  # rolled back together with the approval
    ticket = db.session.get(Ticket, ticket.id)
    ticket.address = "东湖区梧桐巷8号"
    db.session.commit()
    assert [h.ticket.id for h in search_tickets("梧桐").hits] == [ticket.id]


def test_reindex_rebuilds_rows_written_without_the_orm(world):
    fee, noise = make(world, "fee"), make(world, "noise", citizen_phone="13900000009")
    db.session.execute(TicketSearch.__table__.delete())
    db.session.commit()
    assert search_tickets("物业").hits == []
    from hotline.search.bulk import rebuild

    assert rebuild(workers=1) == 2
    db.session.commit()
    assert [h.ticket.id for h in search_tickets("物业").hits] == [fee.id]
    assert [h.ticket.id for h in search_tickets("噪音").hits] == [noise.id]


def test_duplicates_by_phone_and_by_similar_text(world):
    first = make(world, "fee", citizen_phone="13911110000")
    other_text = make(world, "noise", citizen_phone="13911110001")
    found = find_duplicates(
        phone="13800000000",
        category_id=world.category.id,
        district_id=world.district.id,
        title="小区物业乱收费",
        body="物业公司擅自上调物业费，业主大会没有同意。",
    )
    assert [(d.ticket.id, d.reason) for d in found] == [(first.id, "text")]
    assert 0.45 <= found[0].score < 1
    by_caller = find_duplicates(phone="13911110001", category_id=world.category.id, district_id=None, title="", body="")
    assert [(d.ticket.id, d.reason, d.score) for d in by_caller] == [(other_text.id, "caller", 1.0)]
    # the phone alone (no category yet) is no hint: the caller's other appeals are their history
    assert find_duplicates(phone="13911110001", category_id=None, district_id=None, title="", body="") == []
    # the same address in the same category, whatever the text and phone
    by_address = find_duplicates(
        phone="13800000001",
        category_id=world.category.id,
        district_id=None,
        title=None,
        body=None,
        address=f" {first.address} ",
    )
    assert {(d.ticket.id, d.reason, d.score) for d in by_address} == {
        (first.id, "address", 1.0),
        (other_text.id, "address", 1.0),
    }
    both = find_duplicates(
        phone="13911110000",
        category_id=world.category.id,
        district_id=world.district.id,
        title="小区物业乱收费",
        body="物业公司擅自上调物业费",
        address=first.address,
    )
    assert [(d.ticket.id, d.reasons) for d in both][0] == (first.id, ["caller", "address", "text"])
    # another district's appeal is not the same problem
    assert (
        find_duplicates(
            phone=None,
            category_id=world.category.id,
            district_id=world.other_district.id,
            title="小区物业乱收费",
            body="物业公司擅自上调物业费",
        )
        == []
    )


def test_the_desk_finds_for_each_queued_ticket_what_the_ticket_page_finds(world):
    """One query for the whole queue, its statement built once per shape and reused with other values."""
    from hotline.search.services import duplicates_for_queue, duplicates_of

    old_fee = make(world, "fee", status="in_progress", citizen_phone="13911110000")
    old_noise = make(
        world, "noise", status="in_progress", citizen_phone="13911110001", district_id=world.other_district.id
    )
    fee = make(world, "fee2", citizen_phone="13922220000")
    noise = make(world, "noise", citizen_phone="13911110001", district_id=world.other_district.id)
    same_phone = make(world, "wage", citizen_phone="13911110000")

    def agrees(queue):
        found = duplicates_for_queue(queue)
        for ticket in queue:
            expected = [(d.ticket.id, d.reason) for d in duplicates_of(ticket, limit=3)]
            assert [(d.ticket.id, d.reason) for d in found.get(ticket.id, [])] == expected, ticket.title
        return found

    both = agrees([fee, noise])  # two (category, district) pairs and two phones
    assert old_fee.id in [d.ticket.id for d in both[fee.id]]
    assert old_noise.id in [d.ticket.id for d in both[noise.id]]
    # The same shape with other values: the reused statement must bind them, not the first queue's.
    again = agrees([same_phone, noise])
    assert [d.ticket.id for d in again[same_phone.id]][:1] == [old_fee.id]
    assert "caller" in again[same_phone.id][0].reason


def test_desk_hints_are_reused_while_the_ticket_is_unchanged(client, world, app, monkeypatch):
    """Each view of the desk showed the same queue's hints computed anew; a process now keeps a ticket's for
    DESK_HINTS_SECONDS, keyed by its version, so a change to the ticket itself is seen at once."""
    monkeypatch.setitem(app.config, "DESK_HINTS_SECONDS", 60)
    app.extensions.pop("hotline_live", None)  # the app outlives a test; so would its hints
    master = make(world, "fee", status="in_progress", citizen_phone="13911110000")
    queued = make(world, "wage", citizen_phone="13911110000", address="东湖区建设路8号")  # the same caller only
    login(client, "dispatcher")

    def hinted():
        desk = client.get("/dispatch").get_data(as_text=True)
        return f'name="master" value="{master.tracking_no}"' in desk

    assert hinted()
    master.citizen_phone = "13700000000"  # no longer the same caller: the kept hint still shows
    db.session.commit()
    assert hinted()
    queued.urgency, queued.version = "urgent", queued.version + 1  # the ticket changed: its hints anew
    db.session.commit()
    assert not hinted()
    assert services.duplicates_for_queue([queued]) == {}  # nothing found: no entry for the ticket


def test_dispatcher_sees_the_duplicate_and_merges_it_with_one_click(client, world):
    master = make(world, "fee", status="in_progress", citizen_phone="13911110000")
    duplicate = world.ticket_in(
        "pending_dispatch",
        title="物业乱收费",
        citizen_phone="13922220000",
        body="阳光花园物业擅自上调物业费，没有经过业主大会，请核查收费。",
    )
    login(client, "dispatcher")
    desk = client.get("/dispatch").get_data(as_text=True)
    assert f'name="master" value="{master.tracking_no}"' in desk
    page = client.get(f"/tickets/{duplicate.tracking_no}").get_data(as_text=True)
    assert 'id="duplicates"' in page and f'name="master" value="{master.tracking_no}"' in page
    response = client.post(
        f"/tickets/{duplicate.tracking_no}/actions/merge",
        data={"version": duplicate.version, "master": master.tracking_no, "next": "dispatch"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    merged = db.session.get(Ticket, duplicate.id)
    assert merged.status == "merged" and merged.merged_into_id == master.id


def test_search_pages_for_staff(client, world):
    fee = make(world, "fee")
    login(client, "operator")
    assert 'action="/search/"' in client.get("/").get_data(as_text=True)
    page = client.get("/search/?q=物业收费&status=pending_dispatch").get_data(as_text=True)
    assert fee.tracking_no in page and "<mark>物业</mark>" in page
    assert client.get("/search/?q=物业&status=nonsense").status_code == 400
    fragment = client.get(
        "/search/assist",
        query_string={
            "title": "物业乱收费",
            "body": "物业擅自上调物业费",
            "category_id": world.category.id,
            "district_id": world.district.id,
        },
    ).get_data(as_text=True)
    assert fee.tracking_no in fragment
    client.post("/logout")
    login(client, "outsider")
    assert fee.tracking_no not in client.get("/search/?q=物业").get_data(as_text=True)
    assert client.get("/search/assist?title=物业").status_code == 403


def test_api_list_filters_by_chinese_query(client, world):
    from tests.integration.api_helpers import token_for

    noise = world.ticket_in("pending_dispatch", title="夜间施工噪音扰民", body="工地每晚施工噪音很大。")
    fees = world.ticket_in("pending_dispatch", title="小区物业乱收费", body="物业擅自上调物业费。")
    found = client.get("/api/v1/tickets?q=噪音", headers=token_for(world.dispatcher)).get_json()
    numbers = {t["tracking_no"] for t in found["items"]}
    assert noise.tracking_no in numbers and fees.tracking_no not in numbers
    none = client.get("/api/v1/tickets?q=拖欠工资", headers=token_for(world.dispatcher)).get_json()
    assert none["total"] == 0


def test_newest_first_slices_find_the_same_window_as_a_full_scan(world, monkeypatch):
    """The windowing (PostgreSQL: a newest-first scan, then id slices sized by the match rate) must return
    exactly the newest matches and the capped total, whatever slice the matches fall in."""
    from hotline.search.services import COUNT_CAP

    monkeypatch.setattr(services, "RANK_WINDOW", 4)
    monkeypatch.setattr(services, "COUNT_CAP", 4)
    monkeypatch.setattr(services, "RECENT_SCAN", 2)
    monkeypatch.setattr(services, "SLICE_TARGET", 2)
    assert COUNT_CAP == 1000
    # matches spread thinly over the ids: old ones, a gap of non-matching tickets, then recent ones
    fees = [make(world, "fee", citizen_phone=f"1391000000{i}") for i in range(3)]
    others = [make(world, "noise", citizen_phone=f"1392000000{i}") for i in range(6)]
    fees += [make(world, "fee2", citizen_phone=f"1393000000{i}") for i in range(3)]
    others += [make(world, "wage", citizen_phone=f"1394000000{i}") for i in range(3)]
    newest_fee_ids = sorted((t.id for t in fees), reverse=True)
    result = search_tickets("物业", per_page=10)
    assert result.total == 5 and result.capped  # 6 matches, counted up to COUNT_CAP + 1
    assert sorted((h.ticket.id for h in result.hits), reverse=True) == newest_fee_ids[:4]  # the newest 4 only
    # fewer matches than the cap: all of them, the exact total, found in the last (widest) slice
    result = search_tickets("小区物业乱收费", per_page=10)
    assert result.total == 3 and not result.capped
    assert {h.ticket.id for h in result.hits} == {t.id for t in fees[:3]}
    # no match anywhere, and matches only among the newest
    assert search_tickets("梧桐").total == 0
    assert {h.ticket.id for h in search_tickets("工资").hits} == {t.id for t in others[-3:]}
    # narrowed by a filter: the slices join the ticket table and still find the right window
    filtered = search_tickets("物业", filters=SearchFilters(status="pending_dispatch"), per_page=10)
    assert filtered.total == 5 and {h.ticket.id for h in filtered.hits} == set(newest_fee_ids[:4])
    assert search_tickets("物业", filters=SearchFilters(status="in_progress")).total == 0


def test_api_query_lists_the_newest_matches_with_a_capped_total(client, world, monkeypatch):
    from tests.integration.api_helpers import token_for

    monkeypatch.setattr(services, "COUNT_CAP", 2)
    monkeypatch.setattr(services, "RECENT_SCAN", 1)
    monkeypatch.setattr(services, "SLICE_TARGET", 1)
    fees = [make(world, "fee", citizen_phone=f"1395000000{i}") for i in range(3)]
    make(world, "noise", citizen_phone="13950000009")
    dispatched = make(world, "fee2", status="in_progress", citizen_phone="13950000008")
    body = client.get("/api/v1/tickets?q=物业&per_page=1", headers=token_for(world.dispatcher)).get_json()
    assert body["total"] == 2 and body["total_capped"] is True and body["pages"] == 2
    assert [t["tracking_no"] for t in body["items"]] == [dispatched.tracking_no]  # newest first
    second = client.get("/api/v1/tickets?q=物业&per_page=1&page=2", headers=token_for(world.dispatcher)).get_json()
    assert [t["tracking_no"] for t in second["items"]] == [fees[-1].tracking_no]
    # the other filters and the caller's scope apply before the cap
    waiting = client.get("/api/v1/tickets?q=物业&status=pending_dispatch", headers=token_for(world.dispatcher))
    assert [t["tracking_no"] for t in waiting.get_json()["items"]] == [fees[2].tracking_no, fees[1].tracking_no]
    mine = client.get("/api/v1/tickets?q=物业", headers=token_for(world.district_handler)).get_json()
    assert [t["tracking_no"] for t in mine["items"]] == [dispatched.tracking_no]
    assert mine["total"] == 1 and mine["total_capped"] is False
