"""/admin/categories (issue 20.1): the two-level tree; create, rename, reorder, deactivate (hidden from new
appeals and Open311 services, kept on old tickets); audited with before -> after."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.tickets.models import Category
from tests.integration.test_admin_users import get, post
from tests.integration.test_sessions import audit_details, signed_in_client


@pytest.fixture
def admin(app, world):
    return signed_in_client(app, "admin")


def category(code) -> Category:
    db.session.expire_all()
    return db.session.execute(sa.select(Category).filter_by(code=code)).scalar_one_or_none()


def add(client, code, name, parent=None):
    return post(
        client, "/admin/categories", data={"code": code, "name": name, "parent_id": parent.id if parent else ""}
    )


def appeal_options(client) -> list[str]:
    html = get(client, "/appeal").get_data(as_text=True)
    select = html[html.index('name="category_id"') :]
    return re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", select[: select.index("</select>")])


def test_create_first_and_second_level_categories(admin, world):
    assert add(admin, "06", "社会保障").status_code == 302
    assert add(admin, "0601", "低保", category("06")).status_code == 302
    assert category("0601").parent_id == category("06").id
    assert "低保" in appeal_options(admin)
    assert [d[:2] for d in audit_details()] == [
        ("category.create", "category 06"),
        ("category.create", "category 0601"),
    ]
    assert audit_details()[1][2] == {"name": "低保", "parent": "06"}


def test_a_third_level_or_a_taken_code_is_refused(admin, world):
    third = post(admin, "/admin/categories", data={"code": "050101", "name": "三级", "parent_id": world.category.id})
    assert third.status_code == 400 and category("050101") is None
    taken = add(admin, "0501", "重复")
    assert taken.status_code == 400 and "已被使用" in taken.get_data(as_text=True)
    assert add(admin, "07", "").status_code == 400
    assert audit_details() == []


def test_rename(admin, world):
    response = post(admin, f"/admin/categories/{world.category.id}", data={"name": "物业服务", "name_en": "Property"})
    assert response.status_code == 302 and category("0501").name == "物业服务"
    assert audit_details() == [
        ("category.update", "category 0501", {"name": ["物业管理", "物业服务"], "name_en": [None, "Property"]})
    ]


def test_reorder_changes_the_appeal_form(admin, world):
    add(admin, "0502", "噪音扰民", world.parent_category)
    add(admin, "0503", "违章建筑", world.parent_category)
    assert appeal_options(admin)[-3:] == ["物业管理", "噪音扰民", "违章建筑"]
    assert post(admin, f"/admin/categories/{category('0503').id}/up").status_code == 302
    assert appeal_options(admin)[-3:] == ["物业管理", "违章建筑", "噪音扰民"]
    post(admin, f"/admin/categories/{category('0501').id}/down")
    assert appeal_options(admin)[-3:] == ["违章建筑", "物业管理", "噪音扰民"]
    edge = post(admin, f"/admin/categories/{category('0503').id}/up")
    assert "已在列表的最前或最后" in get(admin, edge.headers["Location"]).get_data(as_text=True)
    reorders = [d for d in audit_details() if d[0] == "category.reorder"]
    assert reorders == [
        ("category.reorder", "category 0503", {"position": [3, 2]}),
        ("category.reorder", "category 0501", {"position": [1, 2]}),
    ]


def test_deactivation_hides_it_from_new_appeals_and_open311_but_keeps_old_tickets(client, admin, world):
    ticket = world.ticket_in("in_progress")
    assert post(admin, f"/admin/categories/{world.category.id}/deactivate").status_code == 302
    assert "物业管理" not in appeal_options(admin)
    codes = [s["service_code"] for s in client.get("/open311/v2/services.json").get_json()]
    assert "0501" not in codes
    assert client.get("/open311/v2/services/0501.json").status_code == 404
    db.session.expire_all()
    assert db.session.get(type(ticket), ticket.id).category_id == world.category.id  # kept on the old ticket
    assert audit_details()[-1] == ("category.deactivate", "category 0501", {"active": [True, False], "with": []})
    assert post(admin, f"/admin/categories/{world.category.id}/activate").status_code == 302
    assert "物业管理" in appeal_options(admin)


def test_a_new_appeal_with_a_deactivated_category_is_refused(client, admin, world):
    from tests.integration.api_helpers import appeal_json, new_key

    post(admin, f"/admin/categories/{world.category.id}/deactivate")
    _key, headers = new_key()
    response = client.post("/api/v1/tickets", json=appeal_json(world), headers=headers)
    assert response.status_code in (400, 422) and "category" in str(response.get_json())


def test_deactivating_a_first_level_category_hides_its_children(admin, world):
    assert post(admin, f"/admin/categories/{world.parent_category.id}/deactivate").status_code == 302
    assert not category("05").active and not category("0501").active
    assert audit_details()[-1][2] == {"active": [True, False], "with": ["0501"]}
    refused = post(admin, f"/admin/categories/{world.category.id}/activate")
    assert "已停用" in get(admin, refused.headers["Location"]).get_data(as_text=True)
    assert not category("0501").active


def test_unknown_categories_are_404(admin, world):
    assert get(admin, "/admin/categories/999999").status_code == 404
    assert post(admin, "/admin/categories/999999/up").status_code == 404
