"""The supervisor's queue of pending requests (/supervision/requests), decided in the browser."""

from datetime import timedelta

from tests.e2e.conftest import LIVE, screenshot


def _extension_request():
    """A pending extension on an in-progress demo ticket, asked by a handler of its lead unit."""
    from sqlalchemy import select

    from hotline.accounts.models import User
    from hotline.extensions import db
    from hotline.sla import clock as sla_clock
    from hotline.tickets.models import Ticket

    with LIVE["app"].app_context():
        for ticket in db.session.execute(
            select(Ticket).where(Ticket.status == "in_progress").order_by(Ticket.id)
        ).scalars():
            handler = db.session.execute(select(User).where(User.org_unit_id == ticket.lead_unit_id)).scalars().first()
            if handler is None or not ticket.answer_deadline_at or ticket.extension_requests:
                continue
            try:
                req = sla_clock.request_extension(
                    ticket, handler, ticket.answer_deadline_at + timedelta(days=7), "需要现场复核（端到端测试）"
                )
            except Exception:  # noqa: BLE001 — e.g. this one's deadline has passed: try the next
                db.session.rollback()
                continue
            db.session.commit()
            return req.id, ticket.tracking_no
    raise AssertionError("no in-progress demo ticket could ask for an extension")


def test_a_supervisor_approves_an_extension_from_the_queue(live_server, page):
    request_id, tracking_no = _extension_request()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "hotline-demo")
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()
    assert int(page.inner_text("#pending-requests")) >= 1
    page.click("#nav-requests")
    row = page.locator(f"#request-extension-{request_id}")
    assert tracking_no in row.inner_text() and "需要现场复核（端到端测试）" in row.inner_text()
    screenshot(page, "supervision-requests")
    row.locator("input[name=note]").fill("同意延期")
    row.locator("button", has_text="批准").click()
    page.wait_for_load_state()
    assert page.url.endswith("/supervision/requests")
    assert f"工单{tracking_no}的审批已记录" in page.content()
    assert page.locator(f"#request-extension-{request_id}").count() == 0
    from hotline.extensions import db
    from hotline.tickets.models import ExtensionRequest

    with LIVE["app"].app_context():
        req = db.session.get(ExtensionRequest, request_id)
        assert (req.state, req.decision_note) == ("approved", "同意延期")
