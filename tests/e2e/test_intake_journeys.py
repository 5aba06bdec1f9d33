"""Citizen on a phone files an appeal with a photo and looks it up; an operator registers a call by keyboard."""

import re

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_staff_journey import sign_in

PHONE_VIEWPORT = {"width": 390, "height": 844}


def test_citizen_files_with_a_photo_on_a_phone_and_tracks_it(browser, live_server, tmp_path):
    photo = tmp_path / "pothole.jpg"
    Image.new("RGB", (64, 48), (90, 90, 90)).save(photo, "JPEG")
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server}/portal")
    page.get_by_role("link", name="我要反映").click()
    page.wait_for_url(f"{live_server}/appeal")  # waits for "load": the category filter's script is attached
    page.select_option("#appeal_type", "complaint")
    page.fill("input[data-filter-select=category_id]", "噪音")
    expect(page.locator("#category_id")).not_to_have_value("")  # the filter picked the first match (waits for it)
    page.fill("#title", "夜间施工噪音扰民")
    page.fill("#body", "人民路工地每天晚上十一点后仍在施工，影响休息。")
    page.select_option("#district_id", label="东湖区")
    page.fill("#address", "东湖区人民路100号")
    page.set_input_files("#photos", str(photo))
    page.fill("#citizen_phone", "13612345678")
    screenshot(page, "portal-appeal-phone")
    page.get_by_role("button", name="提交诉求").click()
    tracking_no = page.get_by_test_id("tracking-no").inner_text().strip()
    assert re.fullmatch(r"\d{14}", tracking_no)
    screenshot(page, "portal-submitted-phone")
    # a new visit: look it up with number + phone
    lookup = context.new_page()
    context.clear_cookies()
    lookup.goto(f"{live_server}/track")
    lookup.fill("#tracking_no", tracking_no)
    lookup.fill("#phone", "13612345678")
    lookup.get_by_role("button", name="查询").click()
    lookup.wait_for_url(re.compile(rf".*/track/{tracking_no}$"))
    assert "夜间施工噪音扰民" in lookup.content() and "待审核" in lookup.content()
    screenshot(lookup, "portal-tracked-phone")
    context.close()


def test_operator_registers_a_call_by_keyboard_alone(page, live_server):
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server}/console/")
    # the phone field has the focus: type as the caller speaks, Tab through the form
    page.keyboard.type("13800138000")
    page.keyboard.press("Tab")
    page.keyboard.type("张伟")
    page.keyboard.press("Tab")  # type of appeal
    page.keyboard.press("Tab")  # urgency
    page.keyboard.press("Tab")  # category filter
    page.keyboard.type("物业管理")
    page.keyboard.press("Enter")  # picks the first match and moves to the list
    page.keyboard.press("Tab")  # district
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type("东湖区湖光路12号阳光花园")
    page.keyboard.press("Tab")
    page.keyboard.type("物业擅自涨价")
    page.keyboard.press("Tab")
    page.keyboard.type("物业公司未经业主大会同意上调物业费。")
    page.wait_for_selector("[data-testid=caller-history] li")
    screenshot(page, "console-keyboard")
    page.focus("#title")
    page.keyboard.press("Enter")  # Enter submits
    page.wait_for_url(re.compile(r".*/console/\?last=\d{14}$"))
    assert "已登记" in page.content()
    number = re.search(r"last=(\d{14})", page.url).group(1)
    page.goto(f"{live_server}/tickets/{number}")
    assert "物业擅自涨价" in page.content() and "待派单" in page.content()
