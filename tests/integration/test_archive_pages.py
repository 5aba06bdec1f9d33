"""The archive's staff page (/archive/: status, lookup, one ticket's file, the admins' restore) and a citizen
account's archived appeals under "my appeals". Tickets are archived as tests/integration/test_archive.py does:
their life moved years into the past, then ``archive_closed``. Both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.archive import services
from hotline.archive.models import ArchivedTicket
from hotline.core.audit import AuditEntry
from hotline.extensions import db
from hotline.tickets.models import Ticket
from tests.factories import PASSWORD, PHONE
from tests.integration.test_archive import age, cutoff

OTHER_PHONE = "13700001111"


def sign_in(client, username):
    g.pop("_login_user", None)  # the test's app context outlives a request: forget the last one's user
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, username
    return client


def get(client, url, **kwargs):
    g.pop("_login_user", None)
    return client.get(url, **kwargs)


def post(client, url, **kwargs):
    g.pop("_login_user", None)
    return client.post(url, **kwargs)


def archived_count():
    return db.session.execute(select(func.count()).select_from(ArchivedTicket)).scalar_one()


@pytest.fixture
def archive(world):
    """Two tickets closed years ago and archived (PHONE's, older, and a stranger's, a year later), one closed
    recently that stays."""
    w = world
    w.mine = age(w.ticket_in("closed", title="楼下餐馆油烟扰民", address="东湖区人民路8号"), timedelta(days=5 * 365))
    w.theirs = age(w.ticket_in("closed", title="别人的诉求", citizen_phone=OTHER_PHONE), timedelta(days=4 * 365))
    w.recent = w.ticket_in("closed", title="近期办结的诉求")
    w.recent_no = w.recent.tracking_no
    run = services.archive_closed(cutoff(), commit=db.session.commit)
    db.session.commit()
    assert run.archived == 2
    return w


@pytest.mark.parametrize("username", ["admin", "supervisor"])
def test_city_staff_see_the_archive_newest_closed_first_and_look_tickets_up(client, archive, username):
    w = archive
    sign_in(client, username)
    response = get(client, "/archive/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    status = page[page.index('data-testid="archive-status"') :][:200]
    first, last = ((t.closed_at + timedelta(hours=8)).strftime("%Y-%m-%d") for t in (w.mine, w.theirs))
    assert "已归档 2 件工单" in status and first in status and last in status
    table = page[page.index('data-testid="archive-table"') :]
    assert table.index(w.theirs.tracking_no) < table.index(w.mine.tracking_no)  # newest closed first
    assert w.recent_no not in table
    assert PHONE not in page and OTHER_PHONE not in page  # the list shows no phone, as the ticket list
    assert 'href="/archive/"' in page  # the navigation links the page

    by_number = get(client, "/archive/", query_string={"tracking_no": f" {w.mine.tracking_no} "}).get_data(as_text=True)
    assert w.mine.tracking_no in by_number and w.theirs.tracking_no not in by_number
    assert "找到 1 件已归档工单" in by_number
    by_phone = get(client, "/archive/", query_string={"phone": "+86 137 0000 1111"}).get_data(as_text=True)
    assert w.theirs.tracking_no in by_phone and w.mine.tracking_no not in by_phone
    day = (w.mine.closed_at + timedelta(hours=8)).date().isoformat()
    by_day = get(client, "/archive/", query_string={"closed_from": day, "closed_to": day}).get_data(as_text=True)
    assert w.mine.tracking_no in by_day and w.theirs.tracking_no not in by_day
    none = get(client, "/archive/", query_string={"tracking_no": "20000101000001"})
    assert none.status_code == 200 and "没有符合条件的已归档工单" in none.get_data(as_text=True)


@pytest.mark.parametrize(
    "query, message",
    [
        ({"tracking_no": "2023abc"}, "工单编号为 14 位数字"),
        ({"phone": "12345"}, "请填写11位手机号码或带区号的固定电话"),
        ({"closed_from": "2023-13-01"}, "不是有效的日期值"),
        ({"closed_from": "2023-05-02", "closed_to": "2023-05-01"}, "开始日期不能晚于结束日期"),
        ({"closed_to": "0001-01-01"}, "请选择"),
    ],
)
def test_bad_lookup_input_is_a_form_error_and_a_400(client, archive, query, message):
    sign_in(client, "supervisor")
    response = get(client, "/archive/", query_string=query)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page and "invalid-feedback" in page
    assert 'data-testid="archive-table"' not in page
    assert archived_count() == 2


def test_the_archive_is_refused_to_everyone_without_city_wide_scope(client, world, archive):
    w = archive
    create_user("district_supervisor", PASSWORD, "区督办员", org_unit=w.district, roles=[(Role.SUPERVISOR, w.district)])
    db.session.commit()
    number = w.mine.tracking_no
    anonymous = get(client, "/archive/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for username in ("district_handler", "citizen", "operator", "dispatcher", "district_supervisor"):
        sign_in(client, username)
        for url in ("/archive/", f"/archive/{number}"):
            assert get(client, url).status_code == 403, (username, url)
        page = get(client, "/").get_data(as_text=True)
        assert 'href="/archive/"' not in page, username  # nor is it linked


def test_the_file_shows_the_archived_ticket_read_only(client, archive):
    w = archive
    sign_in(client, "supervisor")
    response = get(client, f"/archive/{w.mine.tracking_no}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="archived-notice"' in page and "仅供查阅" in page and "管理员可将其恢复" in page
    for text in (
        "楼下餐馆油烟扰民",
        "物业费未经业主大会擅自上调。",
        "东湖区人民路8号",
        "城乡建设与管理",
        "物业管理",
        "东湖区",
    ):
        assert text in page, text
    caller = page[page.index('data-testid="archived-caller"') :][:300]
    assert "张伟" in caller and "139****5678" in caller and PHONE not in page  # as the ticket page shows it
    history = page[page.index('data-testid="archived-history"') :]
    steps = [history.index(s) for s in ("登记受理", "已派单", "已签收", "提交答复")]
    assert steps == sorted(steps)  # in order
    answers = page[page.index('data-testid="archived-answers"') :]
    assert "已处理完毕" in answers
    assert 'data-testid="restore-form"' not in page  # supervisors read; admins restore
    assert get(client, "/archive/20000101000001").status_code == 404
    assert get(client, f"/archive/{w.recent_no}").status_code == 404  # not archived: the ticket page has it


def test_an_admin_restores_a_ticket_and_the_audit_history_records_it(client, archive):
    w = archive
    number = w.mine.tracking_no
    sign_in(client, "admin")
    page = get(client, f"/archive/{number}").get_data(as_text=True)
    assert 'data-testid="restore-form"' in page and "data-confirm=" in page and 'name="csrf_token"' in page

    unconfirmed = post(client, f"/archive/{number}/restore", data={})
    assert unconfirmed.status_code == 400 and "请勾选以确认恢复" in unconfirmed.get_data(as_text=True)
    assert archived_count() == 2 and db.session.get(Ticket, w.mine.id) is None  # nothing changed

    response = post(client, f"/archive/{number}/restore", data={"confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tickets/{number}")
    db.session.expire_all()
    assert db.session.get(Ticket, w.mine.id).tracking_no == number
    assert db.session.execute(select(ArchivedTicket).filter_by(tracking_no=number)).scalar() is None
    entry = db.session.execute(select(AuditEntry).filter_by(action="archive.restore")).scalar_one()
    assert (entry.actor_name, entry.target) == ("admin", number) and number in entry.detail
    ticket_page = get(client, f"/tickets/{number}")
    assert ticket_page.status_code == 200 and "已恢复到工作表" in ticket_page.get_data(as_text=True)
    assert post(client, f"/archive/{number}/restore", data={"confirm": "y"}).status_code == 404  # not archived now


def test_the_restore_needs_the_csrf_token(client, archive, monkeypatch):
    sign_in(client, "admin")
    monkeypatch.setitem(client.application.config, "WTF_CSRF_ENABLED", True)
    response = post(client, f"/archive/{archive.mine.tracking_no}/restore", data={"confirm": "y"})
    assert response.status_code == 400 and archived_count() == 2


def test_a_supervisor_may_not_restore(client, archive):
    sign_in(client, "supervisor")
    response = post(client, f"/archive/{archive.mine.tracking_no}/restore", data={"confirm": "y"})
    assert response.status_code == 403 and archived_count() == 2
    assert db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_my_appeals_lists_the_accounts_archived_appeals_and_no_one_elses(client, world):
    w = world
    w.citizen_user.phone = "+86 139 1234 5678"  # as staff or an import may write it: compared normalised
    db.session.commit()
    live = w.ticket_in("in_progress", title="仍在办理的诉求")
    live_no = live.tracking_no
    mine = age(w.ticket_in("closed"), timedelta(days=5 * 365))
    signed_in = age(
        w.ticket_in("closed", citizen_phone="13600002222", citizen_user_id=w.citizen_user.id), timedelta(days=4 * 365)
    )
    stranger = age(w.ticket_in("closed", citizen_phone=OTHER_PHONE), timedelta(days=4 * 365))
    assert services.archive_closed(cutoff(), commit=db.session.commit).archived == 3
    db.session.commit()

    sign_in(client, "citizen")
    page = get(client, "/").get_data(as_text=True)
    assert live_no in page[page.index('data-testid="my-appeals"') :]
    section = page[page.index('data-testid="archived-appeals"') :]
    assert "已归档的诉求" in section and "共 2 件" in section and "热线可为您调取档案" in section
    assert section.index(signed_in.tracking_no) < section.index(mine.tracking_no)  # newest closed first
    assert stranger.tracking_no not in page
    assert "已办结" in section and "status-closed" in section
    row = db.session.execute(select(ArchivedTicket).filter_by(tracking_no=mine.tracking_no)).scalar_one()
    for moment in (row.created_at, row.closed_at):
        assert (moment + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M") in section
    assert mine.title not in section  # its closing, not its file (as the tracking page)


def test_an_account_without_archived_appeals_shows_no_such_section(client, world):
    w = world
    w.citizen_user.phone = PHONE
    db.session.commit()
    age(w.ticket_in("closed", citizen_phone=OTHER_PHONE))
    services.archive_closed(cutoff(), commit=db.session.commit)
    db.session.commit()
    sign_in(client, "citizen")
    page = get(client, "/").get_data(as_text=True)
    assert 'data-testid="archived-appeals"' not in page and "您还没有诉求" in page


def test_the_upgrade_copies_the_account_out_of_the_payloads_archived_before(fresh_url):
    """Tickets archived before the column existed: the account that filed one comes out of its payload."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from hotline import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_url)
    with app.app_context():
        upgrade()
        downgrade(revision="c4d5e6f7a8b9")
        row = (
            "INSERT INTO archived_ticket (ticket_id, tracking_no, status, citizen_phone, created_at, closed_at, "
            "last_changed_at, archived_at, payload) VALUES (:id, :no, 'closed', :phone, :t, :t, :t, :t, :payload)"
        )
        with db.engine.begin() as conn:
            for ticket_id, account in ((1, 7), (2, None)):
                ticket = {"id": ticket_id, "citizen_user_id": account, "title": "x"}
                payload = json.dumps({"format": 1, "tables": {"ticket": [ticket]}, "links": {}}, separators=(",", ":"))
                conn.execute(
                    sa.text(row),
                    {
                        "id": ticket_id,
                        "no": f"2020010100000{ticket_id}",
                        "phone": PHONE,
                        "t": "2020-01-01 00:00:00",
                        "payload": payload,
                    },
                )
        upgrade()
        with db.engine.connect() as conn:
            accounts = dict(conn.execute(sa.text("SELECT ticket_id, citizen_user_id FROM archived_ticket")).all())
        assert accounts == {1: 7, 2: None}
        db.engine.dispose()
