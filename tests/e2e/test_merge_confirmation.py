"""并单 in Chromium (issue 21.1): the browser asks before merging, naming both tickets and the direction; the
merged caller then follows the master on the tracking page. And the citizen account's list (issue 21.3)."""

import re

from tests.e2e.conftest import LIVE, screenshot
from tests.e2e.test_staff_journey import sign_in

CALLER = "13755556666"


def _two_appeals():
    """A dispatched master and a duplicate from another caller waiting for dispatch; their numbers."""
    from hotline.accounts.services import get_user
    from hotline.extensions import db
    from hotline.orgs.services import get_unit_by_code
    from hotline.tickets.models import Category
    from hotline.tickets.services import AppealInput, apply_transition, register_ticket

    with LIVE["app"].app_context():
        category = db.session.execute(db.select(Category).filter_by(code="0501")).scalar_one()

        def appeal(phone, body):
            return AppealInput(
                appeal_type="complaint",
                title="阳光花园电梯停运",
                body=body,
                citizen_phone=phone,
                category_id=category.id,
                district_id=get_unit_by_code("d1").id,
                address="东湖区人民路12号阳光花园",
            )

        master = register_ticket(
            appeal("13711112222", "3栋电梯停运三天，老人无法下楼。"), get_user("operator"), "register"
        )
        apply_transition(master, "dispatch", get_user("dispatcher"), lead_unit=get_unit_by_code("d1-housing"))
        duplicate = register_ticket(
            appeal(CALLER, "阳光花园电梯坏了好几天，没人来修。"), get_user("operator"), "register"
        )
        db.session.commit()
        return master.tracking_no, duplicate.tracking_no


def _answer(master_no):
    from hotline.accounts.services import get_user
    from hotline.extensions import db
    from hotline.tickets.services import apply_transition, get_ticket

    with LIVE["app"].app_context():
        master = get_ticket(master_no)
        handler = get_user("handler")
        apply_transition(master, "sign", handler)
        apply_transition(master, "reply", handler, body="已联系电梯维保单位，3栋电梯已于当日修复并恢复运行。")
        apply_transition(master, "approve_reply", get_user("dispatcher"))
        db.session.commit()


def test_merge_asks_first_and_the_merged_caller_follows_the_master(browser, live_server):
    master, duplicate = _two_appeals()
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, "dispatcher")
    page.goto(f"{live_server}/tickets/{duplicate}")
    form = page.locator("[data-testid=merge-form]")
    form.locator("input[name=master]").fill(master)
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    form.locator("button[type=submit]").click()
    page.wait_for_timeout(300)
    assert asked and f"将工单 {duplicate} 并入工单 {master}" in asked[0], asked
    assert page.url.endswith(f"/tickets/{duplicate}") and "已并单" not in page.locator("header").inner_text()

    page.once("dialog", lambda dialog: dialog.accept())
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/tickets/{duplicate}$"))
    assert "已并单" in page.locator("header").inner_text()
    context.close()
    _answer(master)

    for width, height in ((1366, 900), (390, 844)):
        citizen = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = citizen.new_page()
        page.goto(f"{live_server}/track")
        page.fill("input[name=tracking_no]", master)  # the number the merge SMS names, with their own phone
        page.fill("input[name=phone]", CALLER)
        page.locator("form:has(input[name=tracking_no]) button[type=submit]").click()
        page.wait_for_url(re.compile(rf".*/track/{duplicate}$"))
        notice = page.locator("[data-testid=merged-notice]")
        assert master in notice.inner_text()
        assert "没人来修" in page.content() and "老人无法下楼" not in page.content()
        assert "已联系电梯维保单位" in page.content()  # the master's answer
        assert page.locator("input[name=satisfaction]").count() == 3  # and they may rate it
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"track-merged-caller-{width}")
        citizen.close()


def test_the_citizen_account_lists_a_call_registered_from_its_phone(browser, live_server):
    from hotline.accounts.services import get_user
    from hotline.demo.seed import CITIZEN_PHONE
    from hotline.extensions import db
    from hotline.tickets.services import AppealInput, register_ticket

    with LIVE["app"].app_context():
        called = register_ticket(
            AppealInput(
                appeal_type="help", title="楼道灯坏了（来电）", body="楼道灯坏了很久。", citizen_phone=CITIZEN_PHONE
            ),
            get_user("operator"),
            "register",
        )
        db.session.commit()
        number = called.tracking_no
    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        sign_in(page, live_server, "citizen")
        listing = page.locator("[data-testid=my-appeals]")
        assert number in listing.inner_text()
        assert listing.locator(".warning-card").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"citizen-account-list-{width}")
        context.close()


def test_the_operator_calls_back_every_caller_of_a_merged_appeal(browser, live_server):
    master, duplicate = _two_appeals()
    from hotline.accounts.services import get_user
    from hotline.extensions import db
    from hotline.tickets.services import apply_transition, get_ticket

    with LIVE["app"].app_context():
        apply_transition(get_ticket(duplicate), "merge", get_user("dispatcher"), master=get_ticket(master))
        db.session.commit()
    _answer(master)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server}/?status=pending_callback")
    assert duplicate in page.content() and page.locator("[data-testid=merged-callbacks]").count() == 1
    screenshot(page, "callback-list-merged-callers-1366")
    page.goto(f"{live_server}/tickets/{duplicate}")
    form = page.locator("form[action$='/actions/rate_merged']")
    form.locator("select[name=satisfaction]").select_option("basically")
    screenshot(page, "merged-caller-callback-1366")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/tickets/{duplicate}$"))
    assert "基本满意" in page.content()
    page.goto(f"{live_server}/tickets/{master}")
    assert duplicate in page.locator("body").inner_text()
    screenshot(page, "master-with-merged-caller-rating-1366")
    context.close()
