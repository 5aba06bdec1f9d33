"""What makes an appeal acceptable, for every channel: one set of limits, every field checked at once."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from hotline.core.errors import ValidationFailed
from hotline.core.text import strip_control
from hotline.tickets.workflow import Appeal, Channel, Urgency

if TYPE_CHECKING:
    from hotline.tickets.services import AppealInput

# Field limits (characters). Forms, the JSON API and Open311 all read these.
LIMITS = {"title": 100, "body": 4000, "address": 200, "citizen_name": 32, "note": 2000}
# Mainland mobile (13x–19x, 11 digits) or a landline with area code (010-12345678, 0755 1234567).
PHONE_PATTERN = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
TEXT_FIELDS = ("appeal_type", "urgency", "channel", "title", "body", "citizen_phone", "address", "citizen_name")
LAT_RANGE, LON_RANGE = (3.0, 54.0), (73.0, 136.0)  # China's extent; a point outside is a typo


def normalise_phone(phone: str | None) -> str:
    return re.sub(r"[\s()（）]", "", phone or "").replace("+86", "", 1)


def phone_is_valid(phone: str | None) -> bool:
    return bool(PHONE_PATTERN.match(normalise_phone(phone)))


def validate_appeal(appeal: AppealInput) -> None:
    """Raise ``ValidationFailed`` naming every field that is wrong; normalise what is right."""
    from hotline.extensions import db
    from hotline.orgs.models import OrgUnit, UnitKind
    from hotline.tickets.models import Category

    errors: dict[str, str] = {}
    for name in TEXT_FIELDS:  # one rule for every channel: no control characters are stored
        value = getattr(appeal, name)
        if isinstance(value, str):
            setattr(appeal, name, strip_control(value))
    for name, enum_cls in (("appeal_type", Appeal), ("urgency", Urgency), ("channel", Channel)):
        if getattr(appeal, name) not in {m.value for m in enum_cls}:
            errors[name] = _l("Choose one of the listed values.")
    for name, label in (("title", _l("A title")), ("body", _l("A description"))):
        value = (getattr(appeal, name) or "").strip()
        setattr(appeal, name, value)
        if not value:
            errors[name] = _l("%(what)s is required.", what=label)
    for name, limit in LIMITS.items():
        value = getattr(appeal, name, None)
        if isinstance(value, str) and len(value) > limit:
            errors[name] = _l("At most %(n)d characters.", n=limit)
    appeal.citizen_phone = normalise_phone(appeal.citizen_phone)
    if not appeal.citizen_phone:
        errors["citizen_phone"] = _l("A phone number is required.")
    elif not PHONE_PATTERN.match(appeal.citizen_phone):
        errors["citizen_phone"] = _l("Enter a mainland mobile number (11 digits) or a landline with area code.")
    if appeal.category_id is not None:
        category = db.session.get(Category, appeal.category_id)
        if category is None or not category.active:
            errors["category_id"] = _l("Unknown category.")
    if appeal.district_id is not None:
        district = db.session.get(OrgUnit, appeal.district_id)
        if district is None or district.kind != UnitKind.DISTRICT.value:
            errors["district_id"] = _l("Unknown district.")
    if (appeal.lat is None) != (appeal.lon is None):
        errors["lat"] = _l("Give both latitude and longitude, or neither.")
    elif (
        appeal.lat is not None
        and appeal.lon is not None
        and not (LAT_RANGE[0] <= appeal.lat <= LAT_RANGE[1] and LON_RANGE[0] <= appeal.lon <= LON_RANGE[1])
    ):
        errors["lat"] = _l("The map point is outside China.")
    if appeal.confidential and appeal.appeal_type != Appeal.REPORT.value:
        appeal.confidential = False  # confidentiality protects informants (举报) only
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), fields=errors)
