"""社会监督评议 in Chromium on a phone: the citizen opens the evaluation link of a closed appeal, answers the
admin's questionnaire without signing in, and the link is used up."""

from __future__ import annotations

from sqlalchemy import select

from tests.e2e.conftest import LIVE, screenshot


def open_questionnaire_and_link(base: str) -> tuple[str, str]:
    """An open questionnaire with a score and a choice question; (the link of a closed demo appeal, its unit)."""
    from hotline.accounts.services import get_user
    from hotline.evaluation import services
    from hotline.extensions import db
    from hotline.tickets.models import Ticket

    with LIVE["app"].app_context():
        admin = get_user("admin")
        questionnaire = services.create_questionnaire(admin, 2026, "2026年度社会监督评议（端到端）")
        services.add_question(admin, questionnaire, "承办单位办事效率如何？", "score")
        services.add_question(admin, questionnaire, "您对承办单位的总体评价", "choice")
        services.change_status(admin, questionnaire, "open")
        ticket = db.session.execute(
            select(Ticket).where(Ticket.status == "closed", Ticket.lead_unit_id.is_not(None)).limit(1)
        ).scalar_one()
        db.session.commit()
        return base + services.LINK_PATH + services.evaluation_link_token(ticket.id, questionnaire.id), (
            ticket.lead_unit.name
        )


def test_the_citizen_answers_the_questionnaire_from_the_link_on_a_phone(browser, live_server):
    link, unit = open_questionnaire_and_link(live_server)
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    try:
        page.goto(link)
        assert page.locator("h1").inner_text() == "2026年度社会监督评议（端到端）"
        assert unit in page.locator("main, body").first.inner_text()
        # the answer buttons fit the phone's width: no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator("label", has_text="4").first.click()
        assert page.locator("input[type=radio]:checked").count() == 1
        page.wait_for_timeout(400)  # the button's colour transition
        screenshot(page, "evaluation-link-phone")
        page.locator(
            "#evaluation-form button[type=submit]"
        ).click()  # one question left unanswered: refused, nothing recorded
        assert page.locator(".text-danger").count() == 1
        page.locator("label", has_text="基本满意").click()
        page.locator("#evaluation-form button[type=submit]").click()
        page.wait_for_selector("#thanks")
        screenshot(page, "evaluation-link-thanks")
        page.goto(link)  # used: the link opens nothing any more
        assert "已通过此链接评议过该单位" in page.locator("#link-message").inner_text()
    finally:
        page.context.close()
    with LIVE["app"].app_context():
        from hotline.evaluation.models import EvaluationResponse
        from hotline.extensions import db

        (response,) = db.session.execute(select(EvaluationResponse)).scalars().all()
        assert sorted(a.value for a in response.answers) == [2, 4]
        assert response.respondent_kind == "citizen" and response.user_id is None
