"""统一回应 end to end in Chromium: a citizen's appeal travels down to a street and its answer comes back."""

from tests.e2e.conftest import screenshot

PHONE = "13755556666"


def as_user(browser, base, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "hotline-demo")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{base}/")
    return page


def act(page, action, **fields):
    form = page.locator(f"form[action$='/actions/{action}']").first
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value) if not value.isdigit() else field.select_option(value)
        else:
            field.fill(value)
    form.locator("button[type=submit], button:not([type])").last.click()
    page.wait_for_load_state()
    assert page.locator(".alert-danger").count() == 0, page.locator(".alert-danger").first.inner_text()


def citizen_rates(browser, base, tracking_no, rating):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/track")
    page.fill("#tracking_no", tracking_no)
    page.fill("#phone", PHONE)
    page.get_by_role("button", name="查询").click()
    page.check(f"input[name=satisfaction][value={rating}]")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_load_state()
    context.close()


def test_dispatch_pass_down_answer_review_redo_and_rate(browser, live_server):
    base = live_server
    # the citizen files on the web
    citizen = browser.new_context(locale="zh-CN").new_page()
    citizen.goto(f"{base}/appeal")
    citizen.select_option("#appeal_type", "complaint")
    citizen.select_option("#category_id", label="物业管理")
    citizen.fill("#title", "小区垃圾清运不及时（全流程测试）")
    citizen.fill("#body", "湖滨街道柳岸社区垃圾站三天没有清运，气味很大。")
    citizen.select_option("#district_id", label="东湖区")
    citizen.fill("#citizen_phone", PHONE)
    citizen.get_by_role("button", name="提交诉求").click()
    tracking_no = citizen.get_by_test_id("tracking-no").inner_text().strip()
    ticket_url = f"{base}/tickets/{tracking_no}"

    operator = as_user(browser, base, "operator")
    operator.goto(ticket_url)
    act(operator, "accept")

    dispatcher = as_user(browser, base, "dispatcher")
    dispatcher.goto(f"{base}/dispatch")
    row = dispatcher.locator("article", has_text=tracking_no)
    assert row.locator("select[name=lead_unit]").input_value() != ""  # the catalogue's suggestion
    row.locator("select[name=lead_unit]").select_option(label="东湖区住房和城乡建设局")
    row.get_by_role("button", name="派单").click()
    dispatcher.wait_for_load_state()

    handler = as_user(browser, base, "handler")
    handler.goto(ticket_url)
    assert "138****" not in handler.content() and PHONE not in handler.content()
    assert "137****6666" in handler.content()  # masked for units
    act(handler, "sign")
    act(handler, "pass_down", unit="湖滨街道")
    screenshot(handler, "lifecycle-passed-down")

    street = as_user(browser, base, "street")
    street.goto(ticket_url)
    assert PHONE not in street.content()
    act(street, "reply", body="街道已协调环卫所当天清运，并增加清运频次。")

    dispatcher.goto(f"{base}/dispatch")
    dispatcher.locator("a[href='#replies']").click()
    dispatcher.locator("article", has_text=tracking_no).get_by_role("button", name="审核通过并发布").click()
    dispatcher.wait_for_load_state()

    citizen_rates(browser, base, tracking_no, "unsatisfied")
    street.goto(ticket_url)
    assert "办理中" in street.content()
    act(street, "reply", body="已安排每日定时清运，并设置投诉电话，社区跟踪落实。")
    dispatcher.goto(ticket_url)
    act(dispatcher, "approve_reply")
    citizen_rates(browser, base, tracking_no, "satisfied")

    dispatcher.goto(ticket_url)
    body = dispatcher.content()
    assert "已办结" in body and "满意" in body
    for step in ["网上提交", "审核受理", "已派单", "已签收", "下派", "提交答复", "答复审核通过", "不满意"]:
        assert step in body, step
    screenshot(dispatcher, "lifecycle-closed")
