"""An opinion case (舆情) in the browser: a supervisor opens it from a hotspot, analyses and hands it over, the
lead unit's handler records its handling, the supervisor publishes the response, and the portal shows it."""

from datetime import timedelta

from tests.e2e.conftest import LIVE, screenshot, ticket_at_the_housing_bureau

ADDRESS = "东湖区春风路66号翠湖苑"


def _hotspot() -> str:
    from hotline.dashboard.services import refresh_hotspots
    from hotline.extensions import db

    with LIVE["app"].app_context():
        for i in range(3):
            ticket_at_the_housing_bureau(
                f"电梯长期停运（舆情端到端{i}）", "电梯停运一周无人维修。", f"1370000222{i}", f"{ADDRESS}{i + 1}栋"
            )
        refresh_hotspots()
        db.session.commit()
        from hotline.orgs.services import get_unit_by_code

        return str(get_unit_by_code("d1-housing").id)


def _sign_in(page, live_server, username):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "hotline-demo")
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()


def _sign_out(page):
    page.context.clear_cookies()


def test_a_hotspot_becomes_a_published_response(live_server, page):
    from hotline.opinion.services import local_today

    unit_id = _hotspot()
    _sign_in(page, live_server, "supervisor")
    page.click("nav >> text=舆情事件")
    hotspot = page.locator("#opinion-hotspots li", has_text="春风路")
    hotspot.locator("button", has_text="建立舆情事件").click()
    page.wait_for_load_state()
    assert "已建立舆情事件，关联 3 件工单" in page.content()
    case_url = page.url
    assert page.locator("[data-testid=linked-tickets] tbody tr").count() == 3
    page.select_option("#analyse-level", "major")
    page.fill("#analyse-deadline", (local_today() + timedelta(days=5)).isoformat())
    page.select_option("#analyse-lead_unit_id", unit_id)
    page.fill("#analyse-analysis", "同一小区一周内三次反映电梯停运，涉及老人出行安全。")
    page.click("text=保存研判")
    page.click("text=交牵头单位处置")
    page.wait_for_load_state()
    assert "aria-current" in page.locator("[data-testid=opinion-stage] li", has_text="处置").inner_html()

    _sign_out(page)
    _sign_in(page, live_server, "handler")
    page.goto(case_url)
    page.fill("#note-body", "已责令物业三日内修复电梯，街道跟踪督促。")
    page.click("text=添加记录")
    page.wait_for_load_state()
    assert "已责令物业三日内修复电梯" in page.content()

    _sign_out(page)
    _sign_in(page, live_server, "supervisor")
    page.goto(case_url)
    page.fill("#respond-response_title", "关于春风路小区电梯停运的回应")
    page.fill("#respond-response_body", "经核查，电梯主板故障，已于本周更换并通过检测。王先生反映的噪音问题一并处理。")
    page.check("#respond-confirm")
    page.click("text=发布回应")
    page.wait_for_load_state()
    assert page.locator("#published").is_visible()
    page.wait_for_selector("#chart-opinion-trend[data-drawn=true]")
    screenshot(page, "opinion-case")

    _sign_out(page)
    page.goto(f"{live_server}/public/opinion/")
    page.click("text=关于春风路小区电梯停运的回应")
    page.wait_for_load_state()
    body = page.inner_text("[data-testid=public-response-body]")
    assert "已于本周更换" in body and "王先生" not in body and "某先生" in body
    assert "翠湖苑" not in page.content() and "13700002220" not in page.content()
    screenshot(page, "opinion-public")
