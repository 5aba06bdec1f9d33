"""Scope in lists (issue 23.3) and acting on a ticket by its number (issue 23.4).

Every list — the ticket list, search, the dashboard's drill-down and export, the API — returns exactly the
tickets the role can open on the ticket page that match the filter: nothing more (no leak), nothing less.
The ticket page is the reference: a GET of /tickets/<no> answering 200 or 404. A handler's unit sees the
tickets it leads (主办) and those it assists (协办); see docs/security.md, "Scope".
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.dashboard.models import project_ticket
from hotline.dashboard.services import save_project, tag_ticket
from hotline.extensions import db, limiter
from hotline.tickets.models import Category
from hotline.tickets.services import apply_transition
from tests.factories import PASSWORD

TRACKING = re.compile(r"\b\d{14}\b")
OLD = datetime(2026, 1, 10, 4, 0)  # 12:00 Beijing on 2026-01-10


def _user(name, unit, role):
    return create_user(name, PASSWORD, name, org_unit=unit, roles=[(role, unit)])


@pytest.fixture
def town(app, world):
    """Tickets led by either district, one led by 东湖区 with 西江区 assisting, one awaiting review; a second
    category; an old ticket; two of them in a key project; users scoped to each district."""
    w = world
    w.west_supervisor = _user("west_supervisor", w.other_district, Role.SUPERVISOR)
    w.west_dispatcher = _user("west_dispatcher", w.other_district, Role.DISPATCHER)
    w.noise = Category(code="0502", name="噪声扰民", parent=w.parent_category)
    db.session.add(w.noise)
    db.session.flush()
    east = w.ticket_in("in_progress")
    closed = w.ticket_in("closed")
    west = w.ticket_in("pending_dispatch", district_id=w.other_district.id, category_id=w.noise.id)
    apply_transition(west, "dispatch", w.dispatcher, lead_unit=w.other_district)
    assisted = w.ticket_in("pending_dispatch")
    apply_transition(assisted, "dispatch", w.dispatcher, lead_unit=w.district, assist_units=[w.other_district])
    review = w.ticket_in("pending_review")
    review.citizen_user_id = w.citizen_user.id  # the citizen account's own appeal
    closed.created_at = OLD
    project = save_project(w.admin, year=2026, name="老旧小区改造", public=True)
    tag_ticket(project, east, w.admin)
    tag_ticket(project, west, w.admin)
    db.session.commit()
    w.tickets = {t.tracking_no: t for t in (east, closed, west, assisted, review)}
    w.project = project
    limiter.enabled = False
    yield w
    limiter.enabled = True


ROLES = [
    "citizen",
    "operator",
    "dispatcher",
    "supervisor",
    "admin",
    "district_handler",
    "street_handler",
    "department_handler",
    "outsider",
    "west_supervisor",
    "west_dispatcher",
]


def _client(app, username):
    from flask import g

    client = app.test_client()
    g.pop("_login_user", None)
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _get(client, url):
    from flask import g

    g.pop("_login_user", None)
    return client.get(url)


def _openable(client, town) -> set[str]:
    """A citizen account's own appeal opens as the citizen's page of it (a redirect to /track/<no>)."""
    codes = {}
    for no in town.tickets:
        response = _get(client, f"/tickets/{no}")
        own = response.status_code == 302 and response.headers["Location"].endswith(f"/track/{no}")
        codes[no] = 200 if own else response.status_code
    assert set(codes.values()) <= {200, 404}, codes
    return {no for no, code in codes.items() if code == 200}


def _facts(town):
    """What each filter means, from the data itself."""

    def units(t):
        return {a.unit_id for a in t.active_assignments()}

    west_tree = {town.other_district.id, town.other_department.id}
    return {
        "status=closed": lambda t: t.status == "closed",
        "status=in_progress": lambda t: t.status == "in_progress",
        "category=noise": lambda t: t.category_id == town.noise.id,
        "category=parent": lambda t: t.category_id in (town.category.id, town.noise.id),
        "unit=west": lambda t: bool(units(t) & west_tree) or t.lead_unit_id in west_tree,  # lead or assist
        "lead=west": lambda t: t.lead_unit_id in west_tree,
        "date=old": lambda t: t.created_at < OLD + timedelta(days=1),
        "date=recent": lambda t: t.created_at >= OLD + timedelta(days=1),
        "project": lambda t: (
            db.session.execute(db.select(project_ticket.c.project_id).where(project_ticket.c.ticket_id == t.id)).first()
            is not None
        ),
        "none": lambda t: True,
    }


def _api_query(town, name) -> str:
    return {
        "status=closed": "status=closed",
        "status=in_progress": "status=in_progress",
        "category=noise": "category=0502",
        "category=parent": "category=05",
        "unit=west": "unit=d2",
        "date=old": "from=2026-01-01&to=2026-01-10",
        "date=recent": "from=2026-01-11",
        "none": "",
    }.get(name)


def _search_query(town, name) -> str | None:
    return {
        "status=closed": "status=closed",
        "status=in_progress": "status=in_progress",
        "category=noise": f"category={town.noise.id}",
        "category=parent": f"category={town.parent_category.id}",
        "lead=west": f"unit={town.other_district.id}",
        "date=old": "from=2026-01-01&to=2026-01-10",
        "date=recent": "from=2026-01-11",
        "none": "",
    }.get(name)


def _api_list(app, username, query) -> set[str]:
    token = app.test_client().post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.get_json()
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    response = app.test_client().get(f"/api/v1/tickets?per_page=100&{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {item["tracking_no"] for item in response.get_json()["items"]}


def _numbers(response) -> set[str]:
    assert response.status_code == 200, response.status_code
    return set(TRACKING.findall(response.get_data(as_text=True)))


@pytest.mark.parametrize("username", ROLES)
def test_every_list_returns_exactly_what_the_role_can_open(app, town, username):
    client = _client(app, username)
    openable = _openable(client, town)
    facts = _facts(town)
    problems = []

    def check(where, name, returned):
        returned &= set(town.tickets)
        expected = {no for no in openable if facts[name](town.tickets[no])}
        if returned != expected:
            problems.append(
                f"{where} [{name}]: leaked {sorted(returned - expected)}, missing {sorted(expected - returned)}"
            )

    for name in facts:
        if (query := _api_query(town, name)) is not None:
            check("API /api/v1/tickets", name, _api_list(app, username, query))
        if (query := _search_query(town, name)) is not None:
            check("search", name, _numbers(_get(client, f"/search/?q=物业&{query}")))
    for status in ("closed", "in_progress"):
        check("ticket list", f"status={status}", _numbers(_get(client, f"/?status={status}")))
    check("ticket list", "none", _numbers(_get(client, "/")))
    if username in ("supervisor", "admin", "west_supervisor"):
        project = f"project={town.project.id}"
        check("dashboard list", "project", _numbers(_get(client, f"/dashboard/tickets?{project}")))
        check("project page", "project", _numbers(_get(client, f"/dashboard/projects/{town.project.id}")))
        export = _get(client, f"/dashboard/export/tickets.csv?{project}")
        assert export.status_code == 200
        rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
        check("export", "project", {r[0] for r in rows[1:] if r})
    assert not problems, "\n".join(problems)


def test_a_handler_sees_the_tickets_its_unit_assists(app, town):
    """协办: 西江区's handler opens and lists the ticket 东湖区 leads with 西江区 assisting, and no other of 东湖区's."""
    assisted = next(
        no
        for no, t in town.tickets.items()
        if any(a.unit_id == town.other_district.id and a.role == "assist" for a in t.active_assignments())
    )
    client = _client(app, "outsider")
    assert _openable(client, town) == {assisted} | {
        no for no, t in town.tickets.items() if t.lead_unit_id == town.other_district.id
    }
    assert assisted in _api_list(app, "outsider", "")


def test_a_supervisor_cannot_tag_another_districts_ticket_into_a_project(app, town):
    """Issue 23.4: 西江区's supervisor gets 404 for a 东湖区 ticket, and cannot tag it into a project (then export
    it) by typing its number: the same answer as for a number that does not exist, and nothing tagged."""
    east = next(no for no, t in town.tickets.items() if t.status == "in_progress")  # 东湖区's, in the project
    other = town.ticket_in("in_progress")  # 东湖区's, in no project
    client = _client(app, "west_supervisor")
    assert _get(client, f"/tickets/{other.tracking_no}").status_code == 404
    from flask import g

    g.pop("_login_user", None)
    response = client.post(f"/dashboard/projects/{town.project.id}", data={"tracking_no": other.tracking_no})
    assert response.status_code == 200
    assert "No ticket has that tracking number." in response.get_data(as_text=True) or "没有" in response.get_data(
        as_text=True
    )
    assert db.session.execute(db.select(project_ticket).where(project_ticket.c.ticket_id == other.id)).first() is None
    g.pop("_login_user", None)
    untag = client.post(f"/dashboard/projects/{town.project.id}", data={"tracking_no": east, "untag": "y"})
    assert untag.status_code == 200  # nor untag one
    assert (
        db.session.execute(db.select(project_ticket).where(project_ticket.c.ticket_id == town.tickets[east].id)).first()
        is not None
    )
    export = _get(client, f"/dashboard/export/tickets.csv?project={town.project.id}").get_data(as_text=True)
    assert other.tracking_no not in export and east not in export


def test_a_merge_target_outside_the_dispatchers_scope_is_refused(app, town):
    """The merge target is named by its number: one the dispatcher cannot open is refused like an unknown one."""
    from hotline.core.errors import ValidationFailed
    from hotline.permissions import can_read

    duplicate = town.ticket_in("pending_dispatch")
    master = town.ticket_in("pending_dispatch")
    master.intake_unit_id = town.other_district.id  # taken in outside the centre's dispatcher's scope
    centre_dispatcher = _user("centre_dispatcher", town.hotline, Role.DISPATCHER)
    db.session.commit()
    assert can_read(centre_dispatcher, duplicate) and not can_read(centre_dispatcher, master)
    with pytest.raises(ValidationFailed):
        apply_transition(duplicate, "merge", centre_dispatcher, master=master)
    db.session.rollback()
    assert db.session.get(type(duplicate), duplicate.id).merged_into_id is None
