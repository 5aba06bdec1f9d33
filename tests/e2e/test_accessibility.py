"""Issue 21.4 and 21.5 in Chromium: WCAG 2.1 AA (axe-core) on the citizen pages and the main staff pages, a skip
link and a visible focus, and no page scrolling sideways on a 390 px phone.

axe-core 4.14.1 is vendored in tests/e2e/vendor (MPL-2.0, its LICENSE next to it); it is evaluated in the page
rather than added as a <script>, because the app's Content-Security-Policy (rightly) runs no inline script.
Screenshots of every page at 1366 and 390 px go to test-artifacts/ (accessibility-<page>-<width>.png)."""

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import LIVE, screenshot, ticket_at_the_housing_bureau
from tests.e2e.test_staff_journey import sign_in

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PHONE = "13966667777"

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + n.failureSummary.replace(/\\s+/g, ' ')),
    count: v.nodes.length,
  }));
}"""


def submit_appeal(page, base) -> str:
    """A citizen files an appeal on the portal; the page ends on 提交成功. Returns the tracking number."""
    page.goto(f"{base}/appeal")
    page.fill("input[name=title]", "公园健身器材损坏")
    page.fill("textarea[name=body]", "滨江公园东门的健身器材坏了一个月。")
    page.fill("input[name=citizen_phone]", PHONE)
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/appeal/submitted"))
    return page.locator("[data-testid=tracking-no]").inner_text().strip()


def open_handler_ticket(page, base):
    """A ticket waiting for the handler's unit to sign, made for this page: the demo's own may all be signed by
    the tests that ran before."""
    from hotline.extensions import db

    with LIVE["app"].app_context():
        ticket = ticket_at_the_housing_bureau(
            "楼道照明损坏（无障碍测试）", "三号楼楼道灯不亮。", "13700003333", "东湖区人民路10号"
        )
        db.session.commit()
        number = ticket.tracking_no
    page.goto(f"{base}/tickets/{number}")


def open_ticket(page, base, query):
    page.goto(f"{base}/?{query}")
    page.locator("a[href^='/tickets/']").first.click()
    page.wait_for_url(re.compile(r".*/tickets/\d{14}$"))


# name → (account or None for a citizen, how to get there)
PAGES = {
    "portal": (None, lambda p, b: p.goto(f"{b}/portal")),
    "appeal": (None, lambda p, b: p.goto(f"{b}/appeal")),
    "appeal-submitted": (None, submit_appeal),
    "track": (None, lambda p, b: p.goto(f"{b}/track")),
    "tracked": (None, lambda p, b: p.goto(f"{b}/track/{submit_appeal(p, b)}")),
    "track-forgot": (None, lambda p, b: p.goto(f"{b}/track/forgot")),
    "faq": (None, lambda p, b: p.goto(f"{b}/faq/")),
    "login": (None, lambda p, b: p.goto(f"{b}/login")),
    "ticket-list": ("dispatcher", lambda p, b: None),
    "ticket-closed": ("dispatcher", lambda p, b: open_ticket(p, b, "status=closed")),
    "ticket-handler": ("handler", open_handler_ticket),
    "console": ("operator", lambda p, b: p.goto(f"{b}/console/")),
    "dispatch": ("dispatcher", lambda p, b: p.goto(f"{b}/dispatch")),
    "workspace": ("handler", lambda p, b: p.goto(f"{b}/workspace")),
    "dashboard": ("supervisor", lambda p, b: p.goto(f"{b}/dashboard/")),
    "sla-policies": ("admin", lambda p, b: p.goto(f"{b}/admin/sla-policies")),
    "knowledge": ("admin", lambda p, b: p.goto(f"{b}/knowledge/")),
    "review-queue": ("operator", lambda p, b: p.goto(f"{b}/console/review")),
    "callbacks": ("operator", lambda p, b: p.goto(f"{b}/?status=pending_callback")),
    "callbacks-rated": ("operator", lambda p, b: p.goto(f"{b}/?status=pending_callback&show=rated")),
    "notifications": ("handler", lambda p, b: p.goto(f"{b}/notifications")),
    "search": ("dispatcher", lambda p, b: p.goto(f"{b}/search/?q=物业")),
    "pending-requests": ("supervisor", lambda p, b: p.goto(f"{b}/supervision/requests")),
    "citizen-account": ("citizen", lambda p, b: None),
    "calendar": ("admin", lambda p, b: p.goto(f"{b}/admin/calendar/")),
    "admin-users": ("admin", lambda p, b: p.goto(f"{b}/admin/users")),
    "admin-units": ("admin", lambda p, b: p.goto(f"{b}/admin/units")),
}


def open_named(browser, base, name, width):
    context = browser.new_context(viewport=WIDTHS[width], locale="zh-CN")
    page = context.new_page()
    account, go = PAGES[name]
    if account:
        sign_in(page, base, account)
    go(page, base)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.querySelector('main#content') !== null"), f"{name}: no <main id=content>"
    return page


def serious_violations(page) -> str:
    page.evaluate(AXE_SOURCE)
    return "\n".join(
        f"{v['id']} ({v['impact']}, {v['count']} nodes): {v['help']}\n  " + "\n  ".join(v["nodes"])
        for v in page.evaluate(RUN_AXE, WCAG_AA)
    )


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_wcag_violations(browser, live_server, name):
    page = open_named(browser, live_server, name, "desktop")
    screenshot(page, f"accessibility-{name}-1366")
    assert serious_violations(page) == ""
    page.context.close()


@pytest.mark.parametrize("name", PAGES)
def test_no_sideways_scrolling_and_no_wcag_violations_on_a_phone(browser, live_server, name):
    page = open_named(browser, live_server, name, "phone")
    screenshot(page, f"accessibility-{name}-390")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => {
        const r = e.getBoundingClientRect();
        return r.right > window.innerWidth + 1 && !e.closest('.table-responsive, .overflow-auto, .overflow-x-auto');
      }).slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + String(e.className).split(' ')[0] + ' ' +
                                Math.round(e.getBoundingClientRect().right))""")
    assert widths[0] <= widths[1], f"{name} is {widths[0]} px wide at {widths[1]} px: {wide}"
    assert serious_violations(page) == "", "at 390 px"  # the phone layout: cards, the folded menu
    page.context.close()


def test_skip_link_and_visible_focus(browser, live_server):
    page = open_named(browser, live_server, "ticket-list", "desktop")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.getAttribute('href'), document.activeElement.innerText]")
    assert focused == ["#content", "跳到正文"]
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "the skip link shows no focus outline"
    screenshot(page, "accessibility-skip-link-1366")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#content"
    page.keyboard.press("Tab")
    in_main = page.evaluate("document.querySelector('main#content').contains(document.activeElement)")
    assert in_main, "Tab after the skip link does not continue inside the main content"
    screenshot(page, "accessibility-focus-1366")
    page.context.close()


# Every visible control, tagged with its position, and whether the focused element shows a focus indicator.
TAG_CONTROLS = """() => {
  const controls = [...document.querySelectorAll(
    'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), ' +
    'textarea:not([disabled]), summary')].filter(e => e.checkVisibility({visibilityProperty: true}) &&
      // tabs in a tab list are one stop: the arrow keys move between them (Bootstrap's roving tabindex)
      !(e.getAttribute('role') === 'tab' && e.getAttribute('tabindex') === '-1') &&
      !(e.type === 'radio' && !e.checked && document.querySelector(`input[type=radio][name="${e.name}"]:checked`)) &&
      !(e.type === 'radio' && e !== document.querySelector(`input[type=radio][name="${e.name}"]`) &&
        !document.querySelector(`input[type=radio][name="${e.name}"]:checked`)));
  controls.forEach((e, i) => e.dataset.a11yControl = i);
  return controls.length;
}"""
FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  const shown = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  return [e.dataset.a11yControl ?? null, shown, e.outerHTML.slice(0, 120)];
}"""


@pytest.mark.parametrize(
    "name",
    ["portal", "appeal", "tracked", "ticket-list", "ticket-handler", "console", "dispatch", "workspace", "dashboard"],
)
def test_every_control_is_reached_by_tab_with_a_visible_focus(browser, live_server, name):
    page = open_named(browser, live_server, name, "desktop")
    total = page.evaluate(TAG_CONTROLS)
    reached, unmarked, previous = set(), [], None
    for _ in range(total + 40):
        page.keyboard.press("Tab")
        control, shown, html = page.evaluate(FOCUSED)
        if control is None:
            continue
        if control in reached:
            if control == previous:  # a date field: Tab walks its day, month and year first
                continue
            break
        previous = control
        reached.add(control)
        if not shown:
            unmarked.append(html)
    missed = page.evaluate(
        "(reached) => [...document.querySelectorAll('[data-a11y-control]')]"
        ".filter(e => !reached.includes(e.dataset.a11yControl)).map(e => e.outerHTML.slice(0, 120))",
        sorted(reached),
    )
    assert missed == [], f"{name}: not reached by Tab: {missed[:5]}"
    assert unmarked == [], f"{name}: no visible focus on: {unmarked[:5]}"
    page.context.close()
