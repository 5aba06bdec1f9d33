"""The calendar and sla commands, the admin pages, the bell and the ticket's supervision panel."""

from pathlib import Path

import pytest

from hotline.extensions import db
from tests.factories import PASSWORD

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["2026-09-30T10:00:00+08:00", "--working-days", "1"], "2026-10-08T23:59:59+08:00\n"),
        (["2026-09-30T10:00:00+08:00", "--working-days", "3"], "2026-10-10T23:59:59+08:00\n"),
        (["2026-09-18T10:00:00+08:00", "--working-days", "1"], "2026-09-20T23:59:59+08:00\n"),  # make-up Sunday
        (["2026-01-01T10:00:00+08:00", "--working-days", "1"], "2026-01-04T23:59:59+08:00\n"),  # make-up Sunday
        (["2026-12-30T10:00:00+08:00", "--working-days", "3"], "2027-01-04T23:59:59+08:00 provisional\n"),
        (["2026-10-01T09:00:00+08:00", "--hours", "2"], "2026-10-01T11:00:00+08:00\n"),
        (["2026-10-01T01:00:00+00:00", "--hours", "24"], "2026-10-02T09:00:00+08:00\n"),
    ],
)
def test_sla_deadline_command(app, args, expected):
    result = app.test_cli_runner().invoke(args=["sla", "deadline", *args])
    assert result.exit_code == 0, result.output
    assert result.output == expected


def test_sla_deadline_needs_one_limit_and_an_offset(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["sla", "deadline", "2026-09-30T10:00:00+08:00"]).exit_code != 0
    assert runner.invoke(args=["sla", "deadline", "2026-09-30T10:00:00", "--hours", "2"]).exit_code != 0


def test_calendar_show_and_import(app, tmp_path):
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["calendar", "show", "2026"]).output
    assert "2026: known" in shown and "2026-10-10 workday" in shown
    assert "NOT KNOWN" in runner.invoke(args=["calendar", "show", "2031"]).output
    result = runner.invoke(args=["calendar", "import", str(DATA / "notice_2025.txt")])
    assert result.exit_code == 0 and "28 holidays, 5 make-up workdays" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("date,is_workday\n2031-01-01,perhaps\n")
    assert runner.invoke(args=["calendar", "import", str(bad)]).exit_code != 0


def test_sla_sweep_command_prints_counts(world, app):
    from datetime import datetime

    from hotline.core.clock import LOCAL_TZ, frozen_at, to_utc_naive

    with frozen_at(to_utc_naive(datetime(2026, 11, 23, 10, tzinfo=LOCAL_TZ))):
        world.ticket_in("in_progress")
    output = app.test_cli_runner().invoke(args=["sla", "sweep", "--now", "2026-12-08T09:00:00+08:00"]).output
    assert "yellow: 1\nred: 1\nsupervision_order: 1\nescalate: 0" in output


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


def test_admin_pages_and_the_bell(client, world):
    login(client, "admin")
    assert client.get("/admin/calendar/2026").status_code == 200
    response = client.post("/admin/calendar/day", data={"day": "2026-11-30", "note": "测试"})
    assert response.status_code == 302
    import datetime as dt

    from hotline.sla.models import WorkCalendarDay

    row = db.session.get(WorkCalendarDay, dt.date(2026, 11, 30))
    assert row.is_workday is False and row.source == "admin"
    client.post("/admin/calendar/day", data={"day": "2026-11-30", "is_workday": "y"})
    db.session.expire_all()
    assert db.session.get(WorkCalendarDay, dt.date(2026, 11, 30)).is_workday
    from hotline.sla.policy import invalidate_calendar

    invalidate_calendar()
    assert client.get("/admin/sla-policies").status_code == 200
    from hotline.sla.models import SlaPolicy

    policy = db.session.execute(
        db.select(SlaPolicy).filter_by(appeal_type="consultation", urgency="normal")
    ).scalar_one()
    client.post(
        f"/admin/sla-policies/{policy.id}",
        data={"sign_limit": "1", "sign_unit": "working_days", "answer_limit": "2", "answer_unit": "working_days"},
    )
    db.session.refresh(policy)
    assert policy.answer_limit == 2
    client.post(
        f"/admin/sla-policies/{policy.id}",
        data={"sign_limit": "1", "sign_unit": "working_days", "answer_limit": "3", "answer_unit": "working_days"},
    )
    client.post("/logout")
    login(client, "district_handler")
    assert client.get("/admin/calendar/2026").status_code == 403


def test_supervisor_urges_from_the_ticket_page_and_the_unit_sees_the_bell(client, world):
    ticket = world.ticket_in("in_progress")
    login(client, "supervisor")
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert 'id="supervision"' in page
    client.post(f"/tickets/{ticket.tracking_no}/urge", data={"message": "请尽快办理"})
    client.post("/logout")
    login(client, "district_handler")
    page = client.get("/").get_data(as_text=True)
    assert 'id="unread-count">1<' in page
    inbox = client.get("/notifications").get_data(as_text=True)
    assert ticket.tracking_no in inbox
    client.post("/notifications/read", data={})
    assert 'id="unread-count"' not in client.get("/").get_data(as_text=True)
