"""Issue 22.5: the lead handler asks for an extension where it works (with the ticket's actions), and a day off
asked for is shown as the end of the next working day: in the form before sending, and in the answer after."""

import re
from datetime import date

from tests.factories import PASSWORD


def test_the_request_forms_sit_with_the_actions_and_list_the_days_off(client, world):
    ticket = world.ticket_in("in_progress")
    client.post("/login", data={"username": "district_handler", "password": PASSWORD})
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    actions = page.split('id="time-requests"')[0].rsplit("<section", 1)[1]
    assert "/actions/reply" in actions  # the same card as the answer
    assert "<details" not in page.split('id="time-requests"')[1].split("</section>")[0]
    from hotline.sla.policy import current_calendar

    calendar = current_calendar()
    days_off = [date.fromisoformat(d) for d in re.search(r'data-days-off="([^"]*)"', page).group(1).split(",")]
    assert len(days_off) > 100 and not any(calendar.is_workday(d)[0] for d in days_off)
    assert days_off == calendar.days_off(days_off[0], (days_off[-1] - days_off[0]).days + 1)  # none left out
    assert "js/extension-preview.js" in page


def test_a_day_off_asked_for_is_answered_with_the_next_working_days_end(client, world):
    from hotline.core.clock import utcnow
    from hotline.sla.policy import current_calendar

    ticket = world.ticket_in("in_progress")
    client.post("/login", data={"username": "district_handler", "password": PASSWORD})
    today = utcnow().date()
    day_off = current_calendar().days_off(date.fromordinal(ticket.answer_deadline_at.date().toordinal() + 1), 30)[0]
    following, _ = current_calendar().next_workday_on_or_after(day_off)
    response = client.post(
        f"/tickets/{ticket.tracking_no}/extension",
        data={"deadline": day_off.isoformat(), "reason": "需要现场复核"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert today <= day_off
    assert f"已申请延期：如获批准，答复时限为 {following.isoformat()} 23:59。" in page
