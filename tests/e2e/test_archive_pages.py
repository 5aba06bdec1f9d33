"""The archive in Chromium: a supervisor looks an archived ticket up and reads its file, the citizen finds it
under "my appeals", and an admin restores it (the browser asks first). Two closed demo tickets are archived as if
closed five years ago; the test puts back what it archived."""

from datetime import datetime, timedelta

from tests.e2e.conftest import LIVE, screenshot
from tests.e2e.test_staff_journey import sign_in

AGED = timedelta(days=5 * 365)
PUT_BACK: list[tuple[int, str]] = []  # (ticket id, phone) of the two archived tickets


def _archive_two_closed_tickets() -> list[str]:
    """Two closed demo tickets (no merge, cited by nothing), the first made the citizen account's; archived."""
    from sqlalchemy import update

    from hotline.archive.services import KEEPS_HOT, archive_closed
    from hotline.demo.seed import CITIZEN_PHONE
    from hotline.extensions import db
    from hotline.tickets.models import Ticket
    from tests.integration.test_archive import age

    with LIVE["app"].app_context():
        tables = db.metadata.tables
        merged = db.select(Ticket.merged_into_id).where(Ticket.merged_into_id.is_not(None))
        cited = [db.select(tables[name].c[column]) for name, column, owned in KEEPS_HOT if owned == "ticket"]
        cited.append(db.select(tables["supervision_order"].c.ticket_id))  # a case may cite its order
        picked = list(
            db.session.execute(
                db.select(Ticket)
                .where(Ticket.status == "closed", Ticket.merged_into_id.is_(None), Ticket.id.not_in(merged))
                .where(*(Ticket.id.not_in(c) for c in cited))
                .order_by(Ticket.id)
                .limit(2)
            ).scalars()
        )
        PUT_BACK[:] = [(t.id, t.citizen_phone) for t in picked]
        db.session.execute(update(Ticket).where(Ticket.id == picked[0].id).values(citizen_phone=CITIZEN_PHONE))
        numbers = [age(t, AGED).tracking_no for t in picked]
        run = archive_closed(datetime.utcnow() - timedelta(days=3 * 365), commit=db.session.commit)
        db.session.commit()
        assert sorted(run.tracking_nos) == sorted(numbers), run
        return numbers


def _restore_the_rest():
    """Restore what is left in the archive and give the two tickets back their times and phone: the live
    server's database is shared, and another test's archive run must not take them."""
    from sqlalchemy import update

    from hotline.archive.models import ArchivedTicket
    from hotline.archive.services import restore
    from hotline.extensions import db
    from hotline.tickets.models import Ticket
    from tests.integration.test_archive import age

    with LIVE["app"].app_context():
        left = list(db.session.execute(db.select(ArchivedTicket.tracking_no)).scalars())
        if left:
            restore(left, actor="test")
        db.session.commit()
        for ticket_id, phone in PUT_BACK:
            db.session.execute(update(Ticket).where(Ticket.id == ticket_id).values(citizen_phone=phone))
            age(db.session.get(Ticket, ticket_id), -AGED)
        db.session.commit()


def test_the_archive_is_read_by_staff_and_the_citizen_and_restored_by_an_admin(browser, live_server):
    mine, other = _archive_two_closed_tickets()
    try:
        staff = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = staff.new_page()
        sign_in(page, live_server, "supervisor")
        page.click("nav >> text=归档")
        page.wait_for_url(f"{live_server}/archive/")
        assert "已归档 2 件工单" in page.inner_text("[data-testid=archive-status]")
        screenshot(page, "archive-list")
        page.fill("#phone", "1380013")
        page.click("text=查询")
        assert page.locator(".invalid-feedback").is_visible()  # a form error, the page answered 400
        screenshot(page, "archive-lookup-error")
        page.fill("#phone", "")
        page.fill("#tracking_no", mine)
        page.click("text=查询")
        assert mine in page.inner_text("[data-testid=archive-table]")
        assert other not in page.inner_text("[data-testid=archive-table]")
        page.click(f"[data-testid=archive-table] >> text={mine}")
        page.wait_for_url(f"{live_server}/archive/{mine}")
        assert page.locator("[data-testid=archived-notice]").is_visible()
        assert page.locator("[data-testid=restore-form]").count() == 0  # a supervisor reads, an admin restores
        screenshot(page, "archive-detail-supervisor")
        staff.close()

        citizen = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = citizen.new_page()
        sign_in(page, live_server, "citizen")
        archived = page.locator("[data-testid=archived-appeals]")
        assert mine in archived.inner_text() and other not in archived.inner_text()
        screenshot(page, "archive-my-appeals-citizen")
        citizen.close()

        admin = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = admin.new_page()
        sign_in(page, live_server, "admin")
        page.goto(f"{live_server}/archive/{mine}")
        screenshot(page, "archive-detail-admin")
        page.check("#confirm")
        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        page.click("[data-testid=restore]")
        page.wait_for_url(f"{live_server}/tickets/{mine}")
        assert asked and mine in asked[0]
        assert "已恢复到工作表" in page.inner_text("main")
        admin.close()
    finally:
        _restore_the_rest()
