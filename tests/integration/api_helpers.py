"""Shared helpers for the API and Open311 tests."""

import base64
import io

from PIL import Image

from hotline.api.services import create_api_key, issue_token
from hotline.extensions import db
from tests.factories import PHONE


def token_for(user) -> dict:
    return {"Authorization": f"Bearer {issue_token(user)}"}


def new_key(channel="民心网") -> tuple[object, dict]:
    key, raw = create_api_key(channel)
    db.session.commit()
    return key, {"X-API-Key": raw}


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def png_b64() -> str:
    return base64.b64encode(png_bytes()).decode()


def appeal_json(world, **overrides) -> dict:
    body = {
        "appeal_type": "complaint",
        "title": "夜间施工噪音",
        "body": "工地每晚十一点后仍在施工。",
        "citizen_phone": PHONE,
        "citizen_name": "李娜",
        "category_code": world.category.code,
        "district_code": world.district.code,
        "address": "东湖区人民路2号",
    }
    body.update(overrides)
    return body


def assert_error(response, status, code, fields=()):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert set(fields) <= set(error["fields"]), error
    return error
