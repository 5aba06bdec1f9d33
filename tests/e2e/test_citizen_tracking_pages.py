"""Issue 21.2 in Chromium, on a phone and a desktop: a shared tracking link, the pending page, a redo, and the
forgotten tracking number; screenshots of each page at 390 and 1366 px (test-artifacts/)."""

import pytest

from tests.e2e.conftest import LIVE, screenshot

PHONE = "13955556666"
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


def redone_ticket() -> str:
    """A ticket answered, rated unsatisfied by its citizen and back at its unit (重办), filed with ``PHONE``."""
    from sqlalchemy import select

    from hotline.extensions import db
    from hotline.tickets.models import Ticket
    from hotline.tickets.services import CitizenActor, apply_transition

    number = ticket_answered(PHONE, title="小区门口路面塌陷", body="小区南门路面塌陷一个大坑，雨天积水。")
    with LIVE["app"].app_context():
        ticket = db.session.execute(select(Ticket).filter_by(tracking_no=number)).scalar_one()
        apply_transition(ticket, "rate_unsatisfied", CitizenActor(PHONE), comment="一周了还没修")
        db.session.commit()
        return number


@pytest.mark.parametrize("width", WIDTHS)
def test_citizen_tracking_pages(browser, live_server, width):
    context = browser.new_context(viewport=WIDTHS[width], locale="zh-CN")
    page = context.new_page()
    base = live_server
    page.goto(f"{base}/")
    assert page.url.endswith("/portal")
    screenshot(page, f"citizen-portal-{width}")

    page.goto(f"{base}/appeal")
    assert page.locator("input[name=citizen_phone]").get_attribute("placeholder") == "11位手机号"
    assert page.locator("input[name=title][aria-required=true]").count() == 1
    screenshot(page, f"citizen-appeal-{width}")
    page.fill("input[name=title]", "楼道灯不亮")
    page.fill("textarea[name=body]", "三号楼二单元楼道灯坏了两周。")
    page.fill("input[name=citizen_phone]", PHONE)
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_load_state()
    number = page.locator("[data-testid=tracking-no]").inner_text().strip()
    page.goto(f"{base}/track/{number}")
    assert "三号楼二单元楼道灯坏了两周" in page.locator("[data-testid=own-appeal]").inner_text()
    assert "预计答复日期（估算）" in page.locator("[data-testid=expected-answer]").inner_text()
    screenshot(page, f"citizen-pending-{width}")

    # the link opened in another browser: the number waits in the form, the phone has the focus
    other = browser.new_context(viewport=WIDTHS[width], locale="zh-CN").new_page()
    other.goto(f"{base}/track/{number}")
    assert other.locator("input[name=tracking_no]").input_value() == number
    assert other.evaluate("document.activeElement.name") == "phone"
    screenshot(other, f"citizen-track-prefilled-{width}")
    other.fill("input[name=phone]", PHONE)
    other.press("input[name=phone]", "Enter")
    other.wait_for_url(f"{base}/track/{number}")

    redone = redone_ticket()
    other.goto(f"{base}/track?no={redone}")
    other.fill("input[name=phone]", PHONE)
    other.press("input[name=phone]", "Enter")
    other.wait_for_url(f"{base}/track/{redone}")
    assert other.locator("[data-testid=answer-not-accepted]").count() == 1
    assert "新的预计答复日期" in other.locator("[data-testid=expected-answer]").inner_text()
    screenshot(other, f"citizen-redo-{width}")
    other.context.close()

    page.goto(f"{base}/track")
    page.click("text=忘记工单编号？")
    page.wait_for_url(f"{base}/track/forgot")
    screenshot(page, f"citizen-forgot-{width}")
    page.fill("input[name=phone]", PHONE)
    page.press("input[name=phone]", "Enter")
    page.wait_for_load_state()
    assert page.locator("[data-testid=forgot-sent]").count() == 1
    assert number not in page.content()  # the numbers go by SMS, never onto the page
    screenshot(page, f"citizen-forgot-sent-{width}")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    context.close()


def test_an_archived_appeal_tells_the_citizen_when_it_was_closed(browser, live_server):
    """Issue 27.3: a ticket closed years ago and archived (`flask archive`) is found with its number and phone."""
    from datetime import timedelta

    from sqlalchemy import select

    from hotline.archive.services import archive_closed
    from hotline.core.clock import utcnow
    from hotline.extensions import db
    from hotline.tickets.models import Ticket
    from hotline.tickets.services import CitizenActor, apply_transition

    phone = "13955557777"
    number = ticket_answered(phone)
    with LIVE["app"].app_context():
        ticket = db.session.execute(select(Ticket).filter_by(tracking_no=number)).scalar_one()
        apply_transition(ticket, "rate_satisfied", CitizenActor(phone), satisfaction="satisfied")
        db.session.commit()
        years = timedelta(days=4 * 365)
        for column in ("closed_at", "updated_at", "rated_at"):  # in Python: SQLite has no interval arithmetic
            setattr(ticket, column, getattr(ticket, column) - years)
        db.session.commit()
        assert archive_closed(utcnow() - timedelta(days=3 * 365), commit=db.session.commit).tracking_nos == [number]
    context = browser.new_context(viewport=WIDTHS["phone"], locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/track")
    page.fill("input[name=tracking_no]", number)
    page.fill("input[name=phone]", phone)
    page.locator("form button.btn-primary[type=submit]").click()
    page.wait_for_load_state()
    text = page.locator("[data-testid=archived-appeal]").inner_text()
    assert "已归档" in text and number in text and "12345" in text
    screenshot(page, "citizen-archived-appeal-phone")
    context.close()


def ticket_answered(phone: str, title: str = "路灯不亮", body: str = "人民路路灯连续一周不亮。") -> str:
    """A ticket whose answer was released and waits for the citizen's rating, filed with ``phone``."""
    from hotline.accounts.services import get_user
    from hotline.extensions import db
    from hotline.orgs.services import get_unit_by_code
    from hotline.tickets.services import AppealInput, apply_transition, register_ticket

    with LIVE["app"].app_context():
        appeal = AppealInput(
            appeal_type="complaint",
            title=title,
            body=body,
            citizen_phone=phone,
            district_id=get_unit_by_code("d1").id,
            address="东湖区人民路30号",
        )
        ticket = register_ticket(appeal, get_user("operator"), "register")
        apply_transition(ticket, "dispatch", get_user("dispatcher"), lead_unit=get_unit_by_code("d1-housing"))
        handler = get_user("handler")
        apply_transition(ticket, "sign", handler)
        apply_transition(ticket, "reply", handler, body="已修复。")
        apply_transition(ticket, "approve_reply", get_user("dispatcher"))
        db.session.commit()
        return ticket.tracking_no
