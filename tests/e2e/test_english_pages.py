"""Issue 21.6: a visitor who chooses English reads English on every main page, through sign-in and sign-out.

The rule: Chinese characters may appear only in what people wrote or named. Two ways to be that:
- the element is marked in the template: ``data-user-content`` (a citizen's or a member of staff's text as
  typed), ``data-unit-name`` (a unit's name), ``lang="zh-…"`` (text deliberately in Chinese: the switch's 中文);
- or, after taking out every text the database holds from people — ticket titles, descriptions, addresses,
  citizens' names, timeline notes, answers, supervision messages — and every name from the catalogue — org
  units, categories (Chinese and English names) and users' display names — no CJK character is left.
Anything else with a CJK character is an untranslated string and fails the test."""

import re

from sqlalchemy import select

from tests.e2e.conftest import LIVE, screenshot
from tests.e2e.test_staff_journey import sign_in

# Every CJK text node and every human-read attribute outside the allowed elements, with where it is.
FIND_CJK = r"""(DATA) => {
  const cjk = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]/;
  const allowed = '[data-user-content], [data-unit-name], [lang^="zh"], script, style, noscript, template';
  const where = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      parts.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                    (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/)[0] : ''));
    }
    return parts.join(' > ');
  };
  const data = DATA;  // longest first
  const rest = (text) => { for (const d of data) { if (text.includes(d)) text = text.split(d).join(' '); } return text; };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.trim();
    if (text && cjk.test(rest(text)) && !node.parentElement.closest(allowed)) {
      found.push(where(node.parentElement) + ': ' + text.slice(0, 80));
    }
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], [alt], input[type=submit][value]')) {
    if (el.closest(allowed)) continue;
    for (const name of ['placeholder', 'title', 'aria-label', 'alt', 'value']) {
      const value = el.getAttribute(name);
      if (value && cjk.test(rest(value)) && (name !== 'value' || el.type === 'submit')) {
        found.push(where(el) + ' @' + name + ': ' + value.slice(0, 80));
      }
    }
  }
  if (cjk.test(rest(document.title))) found.push('title: ' + document.title);
  return found;
}"""


def people_and_catalogue_texts() -> list[str]:
    """What the database holds from people and the catalogue's names, longest first (see the module docstring)."""
    from hotline.accounts.models import User
    from hotline.extensions import db
    from hotline.orgs.models import OrgUnit
    from hotline.sla.models import SupervisionOrder, Urging
    from hotline.tickets.models import Category, Reply, Ticket, TicketEvent

    columns = [
        Ticket.title,
        Ticket.body,
        Ticket.address,
        Ticket.citizen_name,
        TicketEvent.note,
        Reply.body,
        SupervisionOrder.message,
        Urging.message,
        OrgUnit.name,
        OrgUnit.name_en,
        Category.name,
        Category.name_en,
        User.display_name,
    ]
    texts = set()
    with LIVE["app"].app_context():
        for column in columns:
            texts.update(t.strip() for t in db.session.execute(select(column).distinct()).scalars() if t and t.strip())
    return sorted(texts, key=len, reverse=True)


def chinese_outside_data(page, name: str) -> list[str]:
    assert page.evaluate("document.documentElement.lang") == "en", f"{name} is not in English"
    screenshot(page, f"english-{name}")
    return [f"{name}: {item}" for item in page.evaluate(FIND_CJK, people_and_catalogue_texts())]


def notifications_for(username: str) -> None:
    """One of each kind whose words once came from the payload, old rows (Chinese words) among them."""
    from hotline.accounts.services import get_user
    from hotline.extensions import db
    from hotline.notify.services import notify_users
    from hotline.notify.templates import TEMPLATES

    with LIVE["app"].app_context():
        user = get_user(username)
        payload = {
            "tracking_no": "20261207000001",
            "title": "小区物业乱收费（端到端测试）",
            "unit": "东湖区城市管理局",
            "deadline": "2026-12-08 23:59",
            "response_deadline": "2026-12-08 23:59",
            "to_unit": "东湖区",
            "master": "20261207000002",
            "numbers": "20261207000001",
        }
        for template in TEMPLATES:
            notify_users([user], template, payload=payload)
        for template, field, code in (
            ("extension_decided", "decision", "批准"),
            ("suspension_decided", "decision", "denied"),
            ("supervision_overdue", "kind", "督办单"),
            ("supervision_overdue", "kind", "urging"),
        ):
            notify_users([user], template, payload={**payload, field: code})
        db.session.commit()


def sign_out(page):
    page.locator("form[action$='/logout'] button").click()
    page.wait_for_load_state()


def test_the_main_pages_speak_english_once_chosen(browser, live_server):
    notifications_for("operator")
    notifications_for("supervisor")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    base, problems = live_server, []
    page.goto(f"{base}/")  # the bare address: the portal, in Chinese first
    assert page.url.endswith("/portal")
    page.locator("button[lang=en]").click()
    page.wait_for_load_state()
    problems += chinese_outside_data(page, "portal")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p id=probe title=\"标题\">未翻译 Untranslated</p>')")
    assert len(page.evaluate(FIND_CJK, people_and_catalogue_texts())) == 2  # the rule sees a stray string

    page.goto(f"{base}/appeal")
    problems += chinese_outside_data(page, "appeal")
    page.select_option("select[name=category_id]", index=1)
    page.fill("input[name=title]", "Street light out 路灯不亮")
    page.fill("textarea[name=body]", "The street light by building 3 has been out for a week. 三号楼前路灯坏了。")
    page.fill("input[name=citizen_phone]", "13912340000")
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_load_state()
    problems += chinese_outside_data(page, "submitted")
    number = page.locator("[data-testid=tracking-no]").inner_text().strip()
    page.goto(f"{base}/track/{number}")
    problems += chinese_outside_data(page, "tracked")
    page.goto(f"{base}/track")
    problems += chinese_outside_data(page, "track")
    page.goto(f"{base}/track/forgot")
    problems += chinese_outside_data(page, "forgot")

    page.goto(f"{base}/faq/")
    problems += chinese_outside_data(page, "faq")
    page.goto(f"{base}/login")
    problems += chinese_outside_data(page, "login")
    sign_in(page, base, "operator")  # the choice survives signing in
    problems += chinese_outside_data(page, "ticket-list")
    page.locator("a[href^='/tickets/2']").first.click()
    page.wait_for_url(re.compile(r".*/tickets/\d{14}$"))
    problems += chinese_outside_data(page, "ticket-page")
    page.goto(f"{base}/console/")
    problems += chinese_outside_data(page, "console")
    page.goto(f"{base}/notifications")
    problems += chinese_outside_data(page, "notifications-operator")
    sign_out(page)
    assert page.evaluate("document.documentElement.lang") == "en"  # and signing out

    for username, url, name in (
        ("dispatcher", "/dispatch", "dispatch-desk"),
        ("handler", "/workspace", "workspace"),
        ("supervisor", "/dashboard/", "dashboard"),
        ("supervisor", "/notifications", "notifications"),
    ):
        if not page.locator("form[action$='/logout']").count():
            sign_in(page, base, username)
        page.goto(f"{base}{url}")
        problems += chinese_outside_data(page, name)
        if name != "dashboard":
            sign_out(page)
    context.close()
    assert not problems, "Chinese outside user data and unit names:\n" + "\n".join(problems)
