"""考核 in the browser: an admin creates last month's period, sees the ranking and its bars, closes and releases
it; a visitor then finds the ranking on the public statistics page, with no personal data."""

from hotline.core.clock import utcnow
from hotline.dashboard.services import local_today
from tests.e2e.conftest import screenshot


def _last_month() -> str:
    first = local_today(utcnow()).replace(day=1)
    year, month = (first.year - 1, 12) if first.month == 1 else (first.year, first.month - 1)
    return f"{year}-{month:02d}"


def test_an_admin_closes_and_releases_a_month_and_the_public_page_shows_it(live_server, page, browser):
    label = _last_month()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())  # the close and release buttons ask first
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "hotline-demo")
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()
    page.click("nav >> text=考核")
    page.fill("#label", label)
    page.click("#new-period button[type=submit]")
    page.wait_for_load_state()
    assert f"{label} 考核" in page.inner_text("h1")
    assert page.locator("[data-period-status=open]").count() == 1
    assert page.locator("#level-district tbody tr").count() >= 1
    page.click("button:has-text('关闭并冻结')")
    page.wait_for_load_state()
    assert page.locator("[data-period-status=closed]").count() == 1
    assert "已冻结" in page.content() or "冻结" in page.inner_text("main")
    assert page.locator("svg.ranking-bars rect.ranking-bar").count() >= 1
    screenshot(page, "assessment-period")
    page.click("button:has-text('发布到公开页面')")
    page.wait_for_load_state()
    assert page.locator("[data-period-status=released]").count() == 1

    visitor = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    visitor.goto(f"{live_server}/public/stats")
    section = visitor.locator("#public-assessment")
    assert label in section.inner_text()
    assert section.locator("table[data-level=district] tbody tr").count() >= 1
    text = section.inner_text()
    assert "样本不足" in text or "%" in text
    assert "****" not in text and "hotline-demo" not in text
    section.scroll_into_view_if_needed()
    screenshot(visitor, "assessment-public")
    visitor.context.close()
