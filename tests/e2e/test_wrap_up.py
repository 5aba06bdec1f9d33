"""The wrap-up list in Chromium: the operator's calls that ended without a ticket; one answered by voice is
recorded as a direct answer in two clicks, an abandoned one marked called back; the supervisor's dashboard
shows the calls."""

from __future__ import annotations

from tests.e2e.conftest import LIVE, screenshot
from tests.e2e.test_accessibility import AXE_SOURCE, RUN_AXE, WCAG_AA
from tests.e2e.test_screen_pop import report
from tests.e2e.test_staff_journey import sign_in


def serious_violations(page) -> list:
    page.evaluate(AXE_SOURCE)
    return page.evaluate(RUN_AXE, WCAG_AA)


def test_the_operator_wraps_up_calls_and_the_dashboard_counts_them(page, browser, live_server, telephony_key):
    key = telephony_key
    report(live_server, key, event="ringing", call_id="e2e-w1", caller="13922223333", agent="8001")
    report(live_server, key, event="answered", call_id="e2e-w1", caller="13922223333", agent="8001")
    report(live_server, key, event="hangup", call_id="e2e-w1")
    report(live_server, key, event="ringing", call_id="e2e-w2", caller="13944445555", agent="8001")
    report(live_server, key, event="hangup", call_id="e2e-w2")

    sign_in(page, live_server, "operator")
    page.goto(f"{live_server}/console/")
    assert page.locator("#wrap-up tr[data-call='e2e-w1']").count() == 1
    assert page.locator("#wrap-up tr[data-call='e2e-w2']").count() == 1
    page.locator("#wrap-up").scroll_into_view_if_needed()
    screenshot(page, "console-wrap-up")
    assert serious_violations(page) == []

    # Click 1: the row's link; the form comes prefilled but for the category and the answer.
    page.locator("#wrap-up tr[data-call='e2e-w1'] a").click()
    assert page.input_value("#title").startswith("电话咨询")
    page.locator("select#category_id").select_option(index=1)
    page.fill("#answer", "办理居住证请携带身份证到所在街道服务中心。")
    screenshot(page, "wrap-up-direct-answer-form")
    assert serious_violations(page) == []
    page.click("#direct-answer-form button[type=submit]")  # click 2
    page.wait_for_selector(".alert-success")
    assert page.locator("#wrap-up tr[data-call='e2e-w1']").count() == 0

    page.locator("#wrap-up tr[data-call='e2e-w2'] button[value=called_back]").click()
    page.wait_for_selector(".alert-success")
    assert page.locator("#wrap-up tr[data-call='e2e-w2']").count() == 0
    with LIVE["app"].app_context():
        from sqlalchemy import select

        from hotline.cti.models import Call
        from hotline.extensions import db
        from hotline.tickets.models import Ticket

        answered = db.session.execute(select(Call).filter_by(call_id="e2e-w1")).scalar_one()
        assert db.session.get(Ticket, answered.ticket_id).status == "answered_directly"
        assert db.session.execute(select(Call.wrap_up).filter_by(call_id="e2e-w2")).scalar_one() == "called_back"

    supervisor = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    try:
        sign_in(supervisor, live_server, "supervisor")
        supervisor.goto(f"{live_server}/dashboard/")
        supervisor.wait_for_selector("#chart-calls[data-drawn=true] canvas")
        received = int(supervisor.locator("[data-call-figure=received]").inner_text())
        abandoned = int(supervisor.locator("[data-call-figure=abandoned]").inner_text())
        assert received >= 2 and abandoned >= 1
        supervisor.locator("#call-figures").scroll_into_view_if_needed()
        screenshot(supervisor, "dashboard-calls")
    finally:
        supervisor.context.close()
