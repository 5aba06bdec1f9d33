"""The wrap-up lists in Chromium: the operator's calls that ended without a ticket; one answered by voice is
recorded as a direct answer in two clicks without typing, an abandoned one marked called back; a hang-up adds
its row to the open console without a reload (the operator's own list, and every operator's list of calls
abandoned in the queue); the supervisor's dashboard shows the calls."""

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

    # Click 1: the row's link; the form opens filled in (category, title, stock answer). Click 2: save.
    page.locator("#wrap-up tr[data-call='e2e-w1'] a").click()
    assert page.input_value("#title").startswith("电话咨询")
    assert page.input_value("#answer") == "已电话解答。"
    assert page.input_value("select#category_id") != ""
    screenshot(page, "wrap-up-direct-answer-form")
    assert serious_violations(page) == []
    page.click("#direct-answer-form button[type=submit]")
    page.wait_for_selector(".alert-success")
    assert page.locator("#wrap-up tr[data-call='e2e-w1']").count() == 0
    page.locator("#wrap-up tr[data-call='e2e-w2'] button[value=called_back]").click()
    page.wait_for_selector(".alert-success")
    assert page.locator("#wrap-up tr[data-call='e2e-w2']").count() == 0
    with LIVE["app"].app_context():
        from sqlalchemy import select

        from hotline.cti.models import Call
        from hotline.extensions import db
        from hotline.tickets.models import Ticket, TicketEvent

        answered = db.session.execute(select(Call).filter_by(call_id="e2e-w1")).scalar_one()
        assert db.session.get(Ticket, answered.ticket_id).status == "answered_directly"
        note = db.session.execute(select(TicketEvent.note).filter_by(ticket_id=answered.ticket_id)).scalar_one()
        assert note == "已电话解答。"
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


def test_a_hangup_adds_its_row_to_the_open_console_without_a_reload(browser, live_server, telephony_key):
    mine = browser.new_context(viewport={"width": 1280, "height": 1100}, locale="zh-CN").new_page()
    theirs = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    try:
        for page, user in ((mine, "operator"), (theirs, "operator2")):
            sign_in(page, live_server, user)
            page.goto(f"{live_server}/console/")
        mine.wait_for_timeout(800)  # both streams are open
        url_before = mine.url
        mine.evaluate("window.notReloaded = true")
        report(live_server, telephony_key, event="answered", call_id="e2e-w3", caller="13955556666", agent="8001")
        report(live_server, telephony_key, event="hangup", call_id="e2e-w3")
        mine.wait_for_selector("#wrap-up tr[data-call='e2e-w3']", timeout=10000)
        report(live_server, telephony_key, event="ringing", call_id="e2e-w4", caller="13977778888")
        report(live_server, telephony_key, event="hangup", call_id="e2e-w4")  # abandoned in the queue
        for page in (mine, theirs):
            page.wait_for_selector("#queue-abandoned tr[data-call='e2e-w4']", timeout=10000)
        assert mine.url == url_before and mine.evaluate("window.notReloaded === true")
        assert theirs.locator("#wrap-up tr[data-call='e2e-w3']").count() == 0  # not theirs
        mine.locator("#wrap-up-board").scroll_into_view_if_needed()
        screenshot(mine, "console-wrap-up-live")
        assert serious_violations(mine) == []
        # The other operator calls the queue's caller back: the row leaves both consoles.
        theirs.locator("#queue-abandoned tr[data-call='e2e-w4'] button[value=called_back]").click()
        theirs.wait_for_selector(".alert-success")
        mine.wait_for_selector("#queue-abandoned tr[data-call='e2e-w4']", state="detached", timeout=10000)
        assert mine.evaluate("window.notReloaded === true")
    finally:
        mine.context.close()
        theirs.context.close()
