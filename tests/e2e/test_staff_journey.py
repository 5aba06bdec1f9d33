"""A member of staff signs in, finds their units' tickets and reads one ticket's Chinese timeline."""

import re

from tests.e2e.conftest import screenshot


def sign_in(page, base, username):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "hotline-demo")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{base}/")


def test_dispatcher_reads_a_ticket_timeline(page, live_server):
    sign_in(page, live_server, "dispatcher")
    assert "工单" in page.title() or "热线" in page.content()
    rows = page.locator("a[href^='/tickets/']")
    assert rows.count() > 10
    screenshot(page, "ticket-list-dispatcher")
    page.goto(f"{live_server}/?status=closed")
    page.locator("a[href^='/tickets/']").first.click()
    page.wait_for_url(re.compile(r".*/tickets/\d{14}$"))
    body = page.content()
    for text in ["登记", "派单", "签收", "已办结"]:
        assert text in body, text
    screenshot(page, "ticket-detail-dispatcher")


def test_street_handler_sees_only_its_units(page, live_server):
    sign_in(page, live_server, "street")
    numbers = {a.get_attribute("href") for a in page.locator("a[href^='/tickets/']").all()}
    page.goto(f"{live_server}/?status=pending_dispatch")
    assert page.locator("a[href^='/tickets/']").count() == 0  # nothing waits for dispatch at a street
    for href in list(numbers)[:3]:
        response = page.goto(f"{live_server}{href}")
        assert response.status == 200
        assert "湖滨街道" in page.content()


def test_sign_for_a_ticket_in_the_browser(page, live_server):
    sign_in(page, live_server, "handler")
    page.goto(f"{live_server}/?status=dispatched")
    links = page.locator("a[href^='/tickets/']")
    assert links.count() > 0, "the demo gives the district housing bureau tickets to sign"
    links.first.click()
    page.wait_for_url(re.compile(r".*/tickets/\d{14}$"))
    page.locator("form[action$='/actions/sign'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "办理中" in page.content()
    screenshot(page, "ticket-signed-handler")
