"""责任追究 in the browser: a supervisor holds the housing bureau accountable for a supervision order from the
ticket page; the bureau's handler finds the case in its list and submits the rectification report."""

from tests.e2e.conftest import LIVE, screenshot, ticket_at_the_housing_bureau


def _ticket_with_an_order() -> str:
    from hotline.accounts.services import get_user
    from hotline.extensions import db
    from hotline.sla.supervision import issue_supervision_order

    with LIVE["app"].app_context():
        ticket = ticket_at_the_housing_bureau(
            "楼道照明长期不亮（问责测试）", "多次反映无人处理。", "13700002222", "东湖区人民路9号", signed=True
        )
        db.session.flush()
        issue_supervision_order(ticket, get_user("supervisor"), "请两日内修复并回复（端到端测试）")
        db.session.commit()
        return ticket.tracking_no


def _sign_in(page, live_server, username):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "hotline-demo")
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()


def test_a_supervisor_opens_a_case_and_the_unit_reports(live_server, page, browser):
    tracking_no = _ticket_with_an_order()
    _sign_in(page, live_server, "supervisor")
    page.goto(f"{live_server}/tickets/{tracking_no}")
    page.click('[data-testid="open-case-supervision_order"]')
    page.wait_for_load_state()
    page.fill("#official_name", "张科长")
    page.fill("#findings", "督办单下达后两日内未修复，也未说明理由。")
    page.select_option("#measure", "criticism")
    page.click("button[type=submit]:has-text('立案')")
    page.wait_for_load_state()
    assert "/accountability/" in page.url
    content = page.content()
    assert "东湖区住房和城乡建设局" in content and "张科长" in content and "通报批评" in content
    screenshot(page, "accountability-case-supervisor")

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    handler = context.new_page()
    _sign_in(handler, live_server, "handler")
    handler.click("nav >> text=责任追究")
    handler.wait_for_load_state()
    row = handler.locator('[data-testid="case-table"] tbody tr', has_text=tracking_no)
    assert "通报批评" in row.inner_text() and "张科长" not in handler.content()
    screenshot(handler, "accountability-list-handler")
    row.locator("a").first.click()
    handler.wait_for_load_state()
    assert "张科长" not in handler.content()  # the official's name stays with the hotline
    handler.fill("#report", "已修复照明并建立巡查台账，责任人已作检讨。")
    handler.click("button:has-text('提交整改报告')")
    handler.wait_for_load_state()
    assert "整改报告已提交审核" in handler.content()
    assert "整改报告审核中" in handler.content()
    context.close()
