"""Intake rules shared by the citizen portal, the operator console, the JSON API and Open311."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from PIL import Image, UnidentifiedImageError
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from hotline.accounts.models import User
from hotline.core.clock import utcnow
from hotline.core.errors import ValidationFailed
from hotline.core.storage import storage
from hotline.core.text import strip_control
from hotline.extensions import db
from hotline.tickets.models import Attachment, Ticket
from hotline.tickets.services import AnyActor, AppealInput, register_ticket
from hotline.tickets.workflow import Urgency

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 5 * 1024 * 1024
# A small file can hold a huge image (a 9000×9000 PNG compresses to 250 KB and decodes to 243 MB). The header's
# size is checked before any pixel is decoded; 24 MP is a 6000×4000 camera photo, more than a phone sends.
MAX_PHOTO_PIXELS = 24_000_000
MAX_PHOTO_SIDE = 2560  # the stored photo's longest side: enough to read a sign, bounded re-encode and storage
PHOTO_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}


@dataclass
class Photo:
    filename: str
    data: bytes
    content_type: str = ""
    suffix: str = ""


def read_photo(filename: str, stream: IO[bytes], field: str = "photos") -> Photo:
    """Read at most the size limit (a larger upload is refused before it is read whole) and check the
    content, not the name: it must decode as a JPEG, PNG or WebP image."""
    data = stream.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed(_l("Each photo may be at most 5 MB."), field=field)
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            kind = image.format
            width, height = image.size
            if width * height > MAX_PHOTO_PIXELS:
                raise ValidationFailed(
                    _l(
                        "Each photo may have at most %(n)d megapixels; please send a smaller photo.",
                        n=MAX_PHOTO_PIXELS // 1_000_000,
                    ),
                    field=field,
                )
            image.verify()
        if kind not in PHOTO_FORMATS:
            raise ValidationFailed(_l("Only JPEG, PNG or WebP photos are accepted."), field=field)
        data = reencode_photo(data, kind)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(_l("Only JPEG, PNG or WebP photos are accepted."), field=field) from None
    content_type, suffix = PHOTO_FORMATS[kind]
    return Photo(
        filename=(strip_control(filename) or "photo")[-120:], data=data, content_type=content_type, suffix=suffix
    )


def reencode_photo(data: bytes, kind: str) -> bytes:
    """Decode the pixels and encode them afresh (docs/security.md): EXIF (GPS position, camera), comments,
    ICC and anything appended to or hidden in the file (polyglots) are dropped; only the first frame is kept.
    The EXIF orientation is applied first so the photo still stands upright. A larger photo is scaled down to
    MAX_PHOTO_SIDE (a JPEG is decoded at the reduced scale already, which is most of the saving)."""
    from PIL import ImageOps

    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        if kind == "JPEG":
            image.draft("RGB", (MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
        picture = ImageOps.exif_transpose(image)
        picture.load()
    picture.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
    if kind == "JPEG" and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    elif kind in ("PNG", "WEBP") and picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        picture = picture.convert("RGBA")
    out = io.BytesIO()
    options: dict[str, dict[str, int | bool]] = {
        "JPEG": {"quality": 88, "optimize": True},
        "PNG": {"optimize": True},
        "WEBP": {"quality": 85},
    }
    picture.save(out, kind, **options[kind])  # no exif=, icc_profile= or pnginfo=: nothing but pixels
    return out.getvalue()


def intake_appeal(
    appeal: AppealInput, actor: AnyActor, outcome: str, *, photos: Sequence[Photo] = (), note: str | None = None
) -> Ticket:
    """Register an appeal with its photos, all or nothing: a rollback removes the stored files."""
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(_l("At most %(n)d photos.", n=MAX_PHOTOS), field="photos")
    if not isinstance(actor, User) and appeal.urgency != Urgency.NORMAL.value:
        # Staff decide urgency: a caller who could file "critical" would jump every dispatch queue.
        raise ValidationFailed(_l("Only hotline staff set the urgency; leave it out or send normal."), field="urgency")
    ticket = register_ticket(appeal, actor, outcome, note=note)
    files = storage()
    for photo in photos:
        key = files.save(photo.data, photo.suffix)
        _delete_on_rollback(key)
        db.session.add(
            Attachment(
                ticket=ticket,
                filename=photo.filename,
                content_type=photo.content_type,
                size=len(photo.data),
                sha256=hashlib.sha256(photo.data).hexdigest(),
                storage_key=key,
                created_at=utcnow(),
                uploaded_by_id=actor.id if isinstance(actor, User) else None,
            )
        )
    db.session.flush()
    return ticket


_ROLLBACK_KEY = "hotline_files_to_remove"


def _delete_on_rollback(key: str) -> None:
    db.session().info.setdefault(_ROLLBACK_KEY, []).append(key)


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    session.info.pop(_ROLLBACK_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_files(session: Session, previous_transaction: SessionTransaction) -> None:
    if session.in_transaction():
        return
    keys = session.info.pop(_ROLLBACK_KEY, [])
    if keys:
        files = storage()
        for key in keys:
            files.delete(key)


# --- what the operator sees while the caller speaks --------------------------------------------------------


def caller_history(phone: str, limit: int = 20) -> list[Ticket]:
    """The caller's earlier appeals, newest first."""
    if not phone:
        return []
    return list(
        db.session.execute(
            select(Ticket).where(Ticket.citizen_phone == phone).order_by(Ticket.created_at.desc()).limit(limit)
        ).scalars()
    )


# --- form support -------------------------------------------------------------------------------------------


def category_choices() -> dict[str, list[tuple[int, str]]]:
    """Second-level categories grouped under their first level, for a select with optgroups."""
    from hotline.tickets.models import Category

    groups: dict[str, list[tuple[int, str]]] = {}
    parents = db.session.execute(
        select(Category)
        .where(Category.parent_id.is_(None), Category.active)
        .order_by(Category.sort_order, Category.code)
    ).scalars()
    for parent in parents:
        groups[parent.name] = [(c.id, f"{c.name}") for c in parent.children if c.active]
    return groups


def district_choices() -> list[tuple[int, str]]:
    from hotline.orgs.models import OrgUnit, UnitKind

    return [
        (u.id, u.name)
        for u in db.session.execute(
            select(OrgUnit).where(OrgUnit.kind == UnitKind.DISTRICT.value, OrgUnit.active).order_by(OrgUnit.code)
        ).scalars()
    ]


def appeal_from_form(form: FlaskForm, channel: str) -> AppealInput:
    """The form's fields (named as in ``AppealInput``) as an appeal; validation happens in intake."""
    fields = {
        name: form[name].data
        for name in (
            "appeal_type",
            "title",
            "body",
            "citizen_phone",
            "citizen_name",
            "category_id",
            "district_id",
            "address",
            "confidential",
        )
        if name in form
    }
    for optional in ("urgency", "lat", "lon", "allow_publish"):
        if optional in form:
            fields[optional] = form[optional].data
    fields["citizen_name"] = (fields.get("citizen_name") or "").strip() or None
    fields["address"] = (fields.get("address") or "").strip() or None
    return AppealInput(channel=channel, **fields)
