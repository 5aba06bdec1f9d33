"""The screen pop in Chromium: the telephony reports a call answered at extension 8001; the console of the
operator at 8001 fills in the caller without a reload, and another operator's console shows nothing."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import expect

from tests.e2e.conftest import LIVE, screenshot
from tests.e2e.test_staff_journey import sign_in


def report(base: str, key: str, **event) -> dict:
    request = urllib.request.Request(
        f"{base}/api/v1/cti/events",
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json", "X-API-Key": key},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_only_the_answering_operator_pops_up(browser, live_server, telephony_key):
    mine = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    theirs = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    try:
        for page, user in ((mine, "operator"), (theirs, "operator2")):
            sign_in(page, live_server, user)
            page.goto(f"{live_server}/console/")
            page.wait_for_function("document.getElementById('screen-pop') !== null")
        mine.wait_for_timeout(800)  # both streams are open
        url_before = mine.url
        report(live_server, telephony_key, event="ringing", call_id="e2e-1", caller="13911112222")
        answered = report(
            live_server, telephony_key, event="answered", call_id="e2e-1", caller="13911112222", agent="8001"
        )
        assert answered["state"] == "answered"
        mine.wait_for_selector("#screen-pop:not([hidden])", timeout=10000)
        assert mine.input_value("#citizen_phone") == "13911112222"
        assert mine.input_value("input[name=call_id]") == "e2e-1"
        assert mine.url == url_before  # no reload
        mine.wait_for_function(
            "document.getElementById('caller-panel').textContent.includes('13911112222') || "
            "document.getElementById('caller-panel').children.length > 0"
        )
        screenshot(mine, "screen-pop-console")
        theirs.wait_for_timeout(1000)
        assert theirs.is_hidden("#screen-pop") and theirs.input_value("#citizen_phone") == ""
        # The operator completes the form and saves: the call stays with the ticket.
        mine.select_option("#appeal_type", "complaint")
        mine.fill("#title", "来电反映路灯不亮（端到端测试）")
        mine.fill("#body", "人民路8号附近路灯连续三晚不亮。")
        mine.select_option("#district_id", index=1)
        mine.locator("select#category_id").select_option(index=1)
        mine.click("#call-form button[type=submit]")
        mine.wait_for_selector(".alert-success")
        with LIVE["app"].app_context():
            from sqlalchemy import select

            from hotline.cti.models import Call
            from hotline.extensions import db

            call = db.session.execute(select(Call).filter_by(call_id="e2e-1")).scalar_one()
            assert call.ticket_id is not None and call.operator.username == "operator"
    finally:
        mine.context.close()
        theirs.context.close()


def test_a_call_never_replaces_what_the_operator_typed_without_asking(page, live_server, telephony_key):
    """The form holds unsaved typing when a call pops: a banner asks. "Save the form first" stores it (the
    console reloads) and then the call pops into the empty form; "Discard" replaces it at once."""
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server}/console/")
    page.wait_for_timeout(800)  # the stream is open
    page.fill("#citizen_phone", "13800001111")
    page.select_option("#appeal_type", "complaint")
    page.fill("#title", "上一通来电：小区电梯故障")
    page.fill("#body", "3号楼电梯停运两天。")
    page.select_option("#district_id", index=1)
    page.locator("select#category_id").select_option(index=1)
    report(live_server, telephony_key, event="answered", call_id="e2e-dirty-1", caller="13911113333", agent="8001")
    page.wait_for_selector("#screen-pop-ask:not([hidden])", timeout=10000)
    assert page.input_value("#title") == "上一通来电：小区电梯故障"  # nothing replaced
    assert page.input_value("#citizen_phone") == "13800001111" and page.input_value("input[name=call_id]") == ""
    assert "13911113333" in page.inner_text("#screen-pop-ask")
    screenshot(page, "screen-pop-ask")

    page.click("#screen-pop-ask [data-choice=save]")  # the typed appeal is registered, then the call pops
    page.wait_for_selector(".alert-success")
    expect(page.locator("input[name=call_id]")).to_have_value("e2e-dirty-1", timeout=10000)  # no eval: the CSP
    assert page.input_value("#citizen_phone") == "13911113333" and page.input_value("#title") == ""
    assert page.is_hidden("#screen-pop-ask")

    page.fill("#title", "来电咨询停车收费")  # typing for this call, then another call pops
    report(live_server, telephony_key, event="answered", call_id="e2e-dirty-2", caller="13922224444", agent="8001")
    page.wait_for_selector("#screen-pop-ask:not([hidden])", timeout=10000)
    page.click("#screen-pop-ask [data-choice=discard]")
    assert page.input_value("input[name=call_id]") == "e2e-dirty-2"
    assert page.input_value("#citizen_phone") == "13922224444" and page.input_value("#title") == ""
    with LIVE["app"].app_context():
        from sqlalchemy import select

        from hotline.extensions import db
        from hotline.tickets.models import Ticket

        saved = db.session.execute(select(Ticket).filter_by(title="上一通来电：小区电梯故障")).scalar_one()
        assert saved.citizen_phone == "13800001111"
