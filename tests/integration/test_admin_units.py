"""/admin/units (issue 20.1): the org tree; create, rename, move (paths of the subtree recomputed), deactivate
(refused while the unit holds open tickets, active users or active units below, naming how many)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.orgs.services import get_unit_by_code
from tests.integration.test_admin_users import get, post
from tests.integration.test_sessions import audit_details, signed_in_client


@pytest.fixture
def admin(app, world):
    return signed_in_client(app, "admin")


def unit(code) -> OrgUnit:
    db.session.expire_all()
    return get_unit_by_code(code)


def flashed(client, response) -> str:
    return get(client, response.headers["Location"]).get_data(as_text=True)


def test_the_tree_is_shown_indented(admin, world):
    html = get(admin, "/admin/units").get_data(as_text=True)
    names = re.findall(r'<a href="/admin/units/\d+"[^>]*>([^<]+)</a>', html)
    assert names.index("海川市") < names.index("东湖区") < names.index("湖滨街道") < names.index("柳岸社区")
    assert re.search(rf'unit-indent-3" aria-hidden="true"></span>\s*<a href="/admin/units/{world.community.id}"', html)


def test_create_a_unit_under_a_parent_of_the_right_kind(admin, world):
    response = post(
        admin,
        "/admin/units",
        data={
            "parent_id": world.street.id,
            "kind": "community",
            "code": "d1-s1-c2",
            "name": "荷塘社区",
            "name_en": "Hetang",
        },
    )
    assert response.status_code == 302
    created = unit("d1-s1-c2")
    assert created.parent_id == world.street.id and created.depth == 3
    assert created.path == f"{world.street.path}{created.id}/"
    assert audit_details() == [
        ("unit.create", "unit d1-s1-c2", {"kind": "community", "name": "荷塘社区", "parent": "d1-s1"})
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"kind": "community", "parent": "district"}, "不能设在"),  # a community under a district
        ({"kind": "street", "parent": None}, "必须有上级单位"),  # only the city is a root
        ({"kind": "district", "parent": "street"}, "不能设在"),
        ({"kind": "community", "parent": "street", "code": "d1"}, "已被使用"),  # a taken code
    ],
)
def test_creating_a_unit_in_the_wrong_place_is_refused(admin, world, data, message):
    parent = getattr(world, data["parent"]) if data["parent"] else None
    response = post(
        admin,
        "/admin/units",
        data={
            "parent_id": parent.id if parent else "",
            "kind": data["kind"],
            "code": data.get("code", "new-unit"),
            "name": "新单位",
        },
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert unit("new-unit") is None and audit_details() == []


def test_rename(admin, world):
    response = post(admin, f"/admin/units/{world.street.id}", data={"name": "湖滨街道办事处", "name_en": "Hubin"})
    assert response.status_code == 302
    assert unit("d1-s1").name == "湖滨街道办事处"
    assert audit_details() == [
        ("unit.update", "unit d1-s1", {"name": ["湖滨街道", "湖滨街道办事处"], "name_en": [None, "Hubin"]})
    ]
    assert post(admin, f"/admin/units/{world.street.id}", data={"name": ""}).status_code == 400


def test_move_recomputes_the_paths_of_the_subtree(admin, world):
    response = post(admin, f"/admin/units/{world.street.id}/move", data={"parent_id": world.other_district.id})
    assert response.status_code == 302
    street, community = unit("d1-s1"), unit("d1-s1-c1")
    assert street.parent_id == world.other_district.id
    assert street.path == f"{world.other_district.path}{street.id}/" and street.depth == 2
    assert community.path == f"{street.path}{community.id}/" and community.depth == 3
    assert unit("d2").contains(community) and not unit("d1").contains(community)
    assert audit_details() == [("unit.move", "unit d1-s1", {"parent": ["d1", "d2"]})]


@pytest.mark.parametrize(
    "target, message", [("community", "自身或其下级"), ("street", "自身或其下级"), ("department", "不能设在")]
)
def test_a_move_under_its_own_subtree_or_the_wrong_kind_is_refused(admin, world, target, message):
    before = {u.code: u.path for u in db.session.execute(sa.select(OrgUnit)).scalars()}
    response = post(admin, f"/admin/units/{world.street.id}/move", data={"parent_id": getattr(world, target).id})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert {u.code: u.path for u in db.session.execute(sa.select(OrgUnit)).scalars()} == before
    assert audit_details() == []


def test_deactivation_is_refused_while_the_unit_holds_work_naming_how_many(admin, world):
    world.ticket_in("in_progress")  # led by 东湖区
    world.ticket_in("dispatched")
    html = flashed(admin, post(admin, f"/admin/units/{world.district.id}/deactivate"))
    # 2 open tickets, 1 active user (district_handler), 2 active units below (street, department)
    assert "2 件未办结工单、1 个启用用户和 2 个启用的下级单位" in html
    assert unit("d1").active and audit_details() == []
    community_html = flashed(admin, post(admin, f"/admin/units/{world.street.id}/deactivate"))
    assert "0 件未办结工单、1 个启用用户和 1 个启用的下级单位" in community_html


def test_deactivate_and_reactivate_a_free_unit(admin, world):
    assert post(admin, f"/admin/units/{world.community.id}/deactivate").status_code == 302
    assert not unit("d1-s1-c1").active
    page = get(admin, "/admin/users/new").get_data(as_text=True)
    assert re.search(r"<option[^>]*>[^<]*湖滨街道", page)
    assert not re.search(r"<option[^>]*>[^<]*柳岸社区", page)  # no longer offered for new users
    assert post(admin, f"/admin/units/{world.community.id}/activate").status_code == 302
    assert unit("d1-s1-c1").active
    assert [d[0] for d in audit_details()] == ["unit.deactivate", "unit.activate"]
    assert audit_details()[0][2] == {"active": [True, False]}


def test_an_inactive_unit_disappears_from_dispatch_choices(app, admin, world):
    world.ticket_in("pending_dispatch")
    assert post(admin, f"/admin/units/{world.community.id}/deactivate").status_code == 302
    dispatcher = signed_in_client(app, "dispatcher")
    desk = get(dispatcher, "/dispatch").get_data(as_text=True)
    assert re.search(r"<option[^>]*>[^<]*湖滨街道", desk) and not re.search(r"<option[^>]*>[^<]*柳岸社区", desk)


def test_a_unit_cannot_be_reactivated_under_an_inactive_parent(admin, world):
    post(admin, f"/admin/units/{world.community.id}/deactivate")
    world.street_handler.active = False
    db.session.commit()
    assert post(admin, f"/admin/units/{world.street.id}/deactivate").status_code == 302
    assert not unit("d1-s1").active
    html = flashed(admin, post(admin, f"/admin/units/{world.community.id}/activate"))
    assert "已停用" in html and not unit("d1-s1-c1").active


def test_unknown_units_are_404(admin, world):
    assert get(admin, "/admin/units/999999").status_code == 404
    assert post(admin, "/admin/units/999999/move", data={"parent_id": world.city.id}).status_code == 404
