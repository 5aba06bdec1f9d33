"""An online interview in Chromium: a citizen asks on the portal, the unit's handler publishes the answer from
the staff page, and the citizen's page shows it without a reload (static/js/interview-live.js polls live.json)."""

from datetime import timedelta

from tests.e2e.conftest import LIVE, screenshot

ANSWER = "今年起老旧小区加装电梯每台最高补贴十万元，请向所在街道提交申请。"


def _live_session() -> int:
    from hotline.accounts.services import get_user
    from hotline.core.clock import utcnow
    from hotline.extensions import db
    from hotline.interviews import services
    from hotline.orgs.services import get_unit_by_code

    with LIVE["app"].app_context():
        start = utcnow() + timedelta(minutes=5)
        session = services.schedule_session(
            services.ScheduleInput(
                kind="interview",
                topic="老旧小区加装电梯（端到端测试）",
                unit_id=get_unit_by_code("d1-housing").id,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                guests="东湖区住房和城乡建设局局长",
            ),
            get_user("supervisor"),
        )
        services.start_session(session, get_user("supervisor"))
        db.session.commit()
        return session.id


def test_an_answer_published_by_staff_appears_on_the_portal_without_a_reload(live_server, browser):
    interview_id = _live_session()
    citizen = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    staff = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    try:
        citizen.goto(f"{live_server}/portal/interviews/{interview_id}")
        citizen.fill("textarea[name=text]", "我叫王小明，电话13912340001，住人民路88号3栋201室，加装电梯有补贴吗？")
        citizen.fill("input[name=phone]", "13912340001")
        citizen.click("button[type=submit].btn-primary >> text=提交问题")
        citizen.wait_for_load_state()
        assert "审核通过后将在此显示" in citizen.inner_text("main")
        citizen.evaluate("window.__notReloaded = true")

        staff.goto(f"{live_server}/login")
        staff.fill("input[name=username]", "handler")
        staff.fill("input[name=password]", "hotline-demo")
        staff.press("input[name=password]", "Enter")
        staff.wait_for_load_state()
        staff.goto(f"{live_server}/interviews/{interview_id}")
        pending = staff.locator("[data-question]", has_text="加装电梯有补贴吗")
        assert "138" not in pending.inner_text() or "****" in pending.inner_text()  # the unit sees the phone masked
        pending.locator("textarea[name=answer]").fill(ANSWER)
        pending.locator("button", has_text="发布答复").click()
        staff.wait_for_load_state()
        assert "答复已发布" in staff.inner_text("main")
        screenshot(staff, "interview-staff")

        citizen.locator("#qa-list [data-answer]", has_text="每台最高补贴十万元").wait_for(timeout=20000)
        assert citizen.evaluate("window.__notReloaded") is True  # drawn by the script, not by a reload
        shown = citizen.inner_text("#qa-list")
        assert "加装电梯有补贴吗" in shown
        for secret in ("王小明", "13912340001", "88号", "201室"):
            assert secret not in shown, secret
        screenshot(citizen, "interview-live")
    finally:
        citizen.context.close()
        staff.context.close()
