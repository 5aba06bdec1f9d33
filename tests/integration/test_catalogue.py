"""Admins edit the routing catalogue and the canned answers; nobody else can."""

from sqlalchemy import select

from hotline.extensions import db
from hotline.tickets.models import CannedAnswer, CategoryRoute
from tests.factories import PASSWORD


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


def test_admin_sets_and_clears_a_route(client, world):
    login(client, "admin")
    page = client.get(f"/admin/routing?district={world.district.id}").get_data(as_text=True)
    assert "物业管理" in page
    client.post(f"/admin/routing?district={world.district.id}", data={f"route-{world.category.id}": world.street.id})
    route = db.session.execute(
        select(CategoryRoute).filter_by(category_id=world.category.id, district_id=world.district.id)
    ).scalar_one()
    assert route.unit_id == world.street.id
    client.post(f"/admin/routing?district={world.district.id}", data={f"route-{world.category.id}": ""})
    db.session.expire_all()
    assert (
        db.session.execute(
            select(CategoryRoute).filter_by(category_id=world.category.id, district_id=world.district.id)
        ).first()
        is None
    )


def test_route_to_another_districts_unit_is_refused(client, world):
    login(client, "admin")
    response = client.post(
        f"/admin/routing?district={world.district.id}", data={f"route-{world.category.id}": world.other_department.id}
    )
    assert response.status_code == 400


def test_canned_answers_admin(client, world):
    login(client, "admin")
    assert client.post("/admin/canned", data={"title": "", "body": ""}).status_code == 400
    client.post("/admin/canned", data={"title": "物业收费", "body": "已约谈物业。", "category_id": world.category.id})
    answer = db.session.execute(select(CannedAnswer)).scalar_one()
    assert answer.category_id == world.category.id and answer.active
    client.post(f"/admin/canned/{answer.id}/toggle")
    db.session.expire_all()
    assert not db.session.get(CannedAnswer, answer.id).active


def test_catalogue_pages_are_for_admins(client, world):
    login(client, "dispatcher")
    assert client.get("/admin/routing").status_code == 403
    assert client.get("/admin/canned").status_code == 403
