"""Issue 20: an admin sets up part of a city in the browser (a unit, a category, a user) and that user signs
in, chooses their own password and works; the category is offered to citizens."""

import re

from tests.e2e.conftest import screenshot
from tests.e2e.test_staff_journey import sign_in


def choose(page, select, text):
    """Select the option whose label (indented for the tree) holds ``text``."""
    option = page.locator(f"{select} option", has_text=text).first
    page.select_option(select, value=option.get_attribute("value"))


def test_an_admin_creates_a_unit_a_category_and_a_user_who_signs_in(browser, page, live_server):
    sign_in(page, live_server, "admin")

    page.goto(f"{live_server}/admin/units")
    choose(page, "#new-unit select[name=parent_id]", "海川市")
    page.select_option("#new-unit select[name=kind]", value="department")
    page.fill("#new-unit input[name=code]", "e2e-archives")
    page.fill("#new-unit input[name=name]", "市档案馆")
    page.click("[data-testid=create-unit]")
    page.wait_for_url(re.compile(r".*/admin/units(#.*)?$"))
    assert page.locator("[data-testid=unit-tree] li", has_text="市档案馆").count() == 1
    screenshot(page, "admin-units-created")

    page.goto(f"{live_server}/admin/categories")
    choose(page, "select[name=parent_id]", "政务服务")
    page.fill("input[name=code]", "1199")
    page.fill("input[name=name]", "档案查询")
    page.click("button[type=submit]:has-text('创建分类')")
    page.wait_for_url(re.compile(r".*/admin/categories(#.*)?$"))
    assert page.locator("[data-testid=category-tree] li", has_text="档案查询").count() == 1
    screenshot(page, "admin-categories-created")

    page.goto(f"{live_server}/admin/users/new")
    page.fill("input[name=username]", "archivist")
    page.fill("input[name=display_name]", "周档案")
    choose(page, "select[name=org_unit_id]", "市档案馆")
    page.check("input[name=roles][value=handler]")
    page.click("main button[type=submit]")
    temporary = page.locator("[data-testid=temporary-password]").inner_text().strip()
    assert len(temporary) >= 12
    screenshot(page, "admin-user-created")

    # The new user, in a browser of their own: the temporary password opens only the password form.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    own = context.new_page()
    own.goto(f"{live_server}/login")
    own.fill("input[name=username]", "archivist")
    own.fill("input[name=password]", temporary)
    own.press("input[name=password]", "Enter")
    own.wait_for_url(re.compile(r".*/account/password$"))
    own.fill("input[name=current_password]", temporary)
    own.fill("input[name=new_password]", "zhouda")  # too short: refused with a message
    own.fill("input[name=confirm]", "zhouda")
    own.click("main button[type=submit]")
    assert own.locator(".invalid-feedback").count() >= 1
    own.fill("input[name=current_password]", temporary)
    own.fill("input[name=new_password]", "amber-kettle-orchard-7")
    own.fill("input[name=confirm]", "amber-kettle-orchard-7")
    own.click("main button[type=submit]")
    own.wait_for_url(re.compile(r".*/account$"))
    own.goto(f"{live_server}/")
    assert own.url == f"{live_server}/" and "周档案" in own.content()
    screenshot(own, "new-user-signed-in")
    context.close()

    # Citizens see the new category on the appeal form.
    citizen = browser.new_context(locale="zh-CN").new_page()
    citizen.goto(f"{live_server}/appeal")
    assert citizen.locator("select[name=category_id] option", has_text="档案查询").count() == 1
    citizen.context.close()
