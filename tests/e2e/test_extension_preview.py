"""Issue 22.5: the lead handler's extension form is with the other actions, and picking a day off shows, before
sending, that the deadline moves to the end of the next working day."""

import re
from datetime import date, timedelta

from tests.e2e.conftest import LIVE, screenshot, ticket_at_the_housing_bureau
from tests.e2e.test_staff_journey import sign_in


def _ticket_in_progress_at_the_housing_bureau() -> str:
    from hotline.extensions import db

    with LIVE["app"].app_context():
        ticket = ticket_at_the_housing_bureau(
            "物业维修基金使用不透明（延期测试）", "请公开维修基金账目。", "13700002222", "东湖区人民路9号", signed=True
        )
        db.session.commit()
        return ticket.tracking_no


def test_the_extension_form_shows_where_a_day_off_moves_the_deadline(page, live_server):
    tracking_no = _ticket_in_progress_at_the_housing_bureau()
    sign_in(page, live_server, "handler")
    page.goto(f"{live_server}/workspace")
    page.locator(f"[data-testid=workspace] a:has-text('{tracking_no}')").click()
    page.wait_for_url(re.compile(f".*/tickets/{tracking_no}$"))
    form = page.locator("[data-testid=extension-form]")
    assert form.is_visible()  # not folded away at the bottom of the page
    actions = page.locator("section:has(#time-requests)")
    assert actions.count() == 1 and actions.locator("form[action$='/actions/reply']").count() == 1
    days_off = page.locator("#ext-deadline").get_attribute("data-days-off").split(",")
    day_off = next(d for d in days_off if date.fromisoformat(d) > date.today() + timedelta(days=1))
    following = date.fromisoformat(day_off)
    while following.isoformat() in days_off:
        following += timedelta(days=1)
    page.fill("#ext-deadline", day_off)
    preview = page.locator("[data-testid=extension-preview]")
    assert day_off in preview.inner_text() and following.isoformat() in preview.inner_text()
    assert "不是工作日" in preview.inner_text()
    screenshot(page, "extension-preview-day-off")
    page.fill("#ext-deadline", following.isoformat())
    assert preview.inner_text() == f"时限为 {following.isoformat()} 结束。"
