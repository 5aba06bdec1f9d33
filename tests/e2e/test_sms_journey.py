"""Two-way SMS in Chromium: the citizen rates from the release SMS's link without the tracking number or phone;
an SMS from a phone with no open appeal waits on the review queue and the console registers it."""

from __future__ import annotations

import json
import urllib.request

from sqlalchemy import select

from tests.e2e.conftest import LIVE, screenshot, ticket_at_the_housing_bureau
from tests.e2e.test_staff_journey import sign_in
from tests.integration.sms_helpers import WEBHOOK_SECRET, signed_headers

CITIZEN = "13655556666"
DRAFTER = "13677778888"


def released_with_link(base: str) -> tuple[str, str]:
    """A ticket of the housing bureau answered and released; (tracking number, the release SMS's link)."""
    from hotline.accounts.services import get_user
    from hotline.extensions import db
    from hotline.notify.models import Notification
    from hotline.tickets.services import apply_transition

    app = LIVE["app"]
    app.config["PUBLIC_BASE_URL"] = base
    with app.app_context():
        ticket = ticket_at_the_housing_bureau(
            "楼道灯不亮（短信评价）", "三单元楼道灯坏了。", CITIZEN, "东湖区人民路9号", signed=True
        )
        apply_transition(ticket, "reply", get_user("handler"), body="已更换灯泡。")
        apply_transition(ticket, "approve_reply", get_user("dispatcher"))
        db.session.commit()
        note = db.session.execute(
            select(Notification).filter_by(ticket_id=ticket.id, template="reply_released_rate")
        ).scalar_one()
        return ticket.tracking_no, note.payload["rate_url"]


def test_the_citizen_rates_from_the_sms_link(browser, live_server):
    tracking_no, link = released_with_link(live_server)
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()  # a phone
    try:
        page.goto(link)
        assert page.url.endswith(f"/track/{tracking_no}")
        assert page.locator("text=已更换灯泡。").count() == 1
        screenshot(page, "sms-link-rating")
        page.locator("input[name=satisfaction][value=basically]").check()
        page.locator("form button[type=submit]").last.click()
        page.wait_for_selector(".alert-success")
        screenshot(page, "sms-link-rated")
        page.goto(link)  # used: the link opens nothing any more
        assert page.url.endswith("/track") and page.locator(".alert-warning").count() == 1
    finally:
        page.context.close()
    with LIVE["app"].app_context():
        from hotline.extensions import db
        from hotline.tickets.models import Ticket

        ticket = db.session.execute(select(Ticket).filter_by(tracking_no=tracking_no)).scalar_one()
        assert (ticket.status, ticket.satisfaction, ticket.rated_via) == ("closed", "basically", "link")


def test_an_sms_draft_is_registered_from_the_review_queue(page, live_server):
    LIVE["app"].config["SMS_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    body = json.dumps(
        {"messages": [{"id": "e2e-d1", "phone": DRAFTER, "text": "人民路12号门口井盖丢了，很危险"}]}
    ).encode()
    request = urllib.request.Request(
        f"{live_server}/api/v1/sms/inbound", data=body, method="POST", headers=signed_headers(body)
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["outcomes"] == ["drafted"]
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server}/console/review")
    page.locator("#sms-drafts").scroll_into_view_if_needed()
    screenshot(page, "review-sms-drafts")
    page.locator("article", has_text="井盖丢了").get_by_role("link").click()
    assert page.input_value("#citizen_phone") == DRAFTER
    assert "井盖丢了" in page.input_value("#body")
    screenshot(page, "console-from-sms")
