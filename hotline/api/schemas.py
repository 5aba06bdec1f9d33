"""The API's request and response shapes. Limits come from ``hotline.tickets.validation``, the one place."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from hotline.core.params import FIRST_DAY, LAST_DAY
from hotline.intake.services import MAX_PHOTO_BYTES, MAX_PHOTOS
from hotline.tickets.validation import LAT_RANGE, LIMITS, LON_RANGE, PHONE_PATTERN
from hotline.tickets.workflow import Appeal, Status, Urgency

APPEAL_TYPES = [a.value for a in Appeal]
URGENCIES = [u.value for u in Urgency]
STATUSES = [s.value for s in Status]


class TokenRequestSchema(ma.Schema):
    username = fields.String(required=True, validate=validate.Length(max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))


class TokenSchema(ma.Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the token stays valid."})


class PhotoSchema(ma.Schema):
    filename = fields.String(load_default="photo", validate=validate.Length(max=120))
    data = fields.String(
        required=True,
        metadata={
            "description": f"The image, base64-encoded: JPEG, PNG or WebP, at most {MAX_PHOTO_BYTES // 2**20} MB "
            "decoded, checked by content."
        },
    )


class TicketCreateSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    appeal_type = fields.String(required=True, validate=validate.OneOf(APPEAL_TYPES))
    title = fields.String(required=True, validate=validate.Length(min=1, max=LIMITS["title"]))
    body = fields.String(required=True, validate=validate.Length(min=1, max=LIMITS["body"]))
    citizen_phone = fields.String(
        required=True,
        validate=validate.Length(max=20),
        metadata={
            "description": "Mainland mobile (11 digits) or landline with area code.",
            "pattern": PHONE_PATTERN.pattern,
        },
    )
    citizen_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=LIMITS["citizen_name"])
    )
    urgency = fields.String(
        load_default="normal",
        validate=validate.OneOf(URGENCIES),
        metadata={
            "description": "Staff decide urgency: anonymous callers and partner keys may send only `normal` "
            "(anything else is refused with 422 naming `urgency`)."
        },
    )
    category_code = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=16),
        metadata={"description": "A second-level category code (see Open311 services)."},
    )
    district_code = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=32),
        metadata={"description": "The org-unit code of a district."},
    )
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=LIMITS["address"]))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(*LAT_RANGE))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(*LON_RANGE))
    confidential = fields.Boolean(
        load_default=False,
        metadata={"description": "Only for reports (举报): the caller's identity stays inside the hotline."},
    )
    allow_publish = fields.Boolean(load_default=False)
    outcome = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(["submit", "register"]),
        metadata={
            "description": "Staff with the operator role may `register` (straight to "
            "dispatch); everyone else files with `submit` (review)."
        },
    )
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=LIMITS["note"]))
    photos = fields.List(
        fields.Nested(PhotoSchema),
        load_default=list,
        validate=validate.Length(max=MAX_PHOTOS),
        metadata={
            "description": "JSON only: base64 photos. With multipart/form-data send "
            "the files as parts named `photos` instead."
        },
    )


class TicketCreateFormSchema(TicketCreateSchema):
    """The multipart/form-data body (OpenAPI only): every field of the JSON body as a form field, the photos
    as file parts named `photos`."""

    photos = fields.List(
        Upload(),
        load_default=list,
        validate=validate.Length(max=MAX_PHOTOS),
        metadata={
            "description": f"Up to {MAX_PHOTOS} file parts named `photos`: JPEG, PNG or WebP, at most "
            f"{MAX_PHOTO_BYTES // 2**20} MB each, checked by content."
        },
    )


class TicketQuerySchema(ma.Schema):
    q = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "Chinese full-text search (segmented with jieba): tickets matching every word."},
    )
    status = fields.String(validate=validate.OneOf(STATUSES))
    unit = fields.String(
        validate=validate.Length(max=32), metadata={"description": "Org-unit code: tickets at this unit or below it."}
    )
    category = fields.String(
        validate=validate.Length(max=16),
        metadata={"description": "Category code; a first-level code includes its subcategories."},
    )
    date_from = fields.Date(
        data_key="from",
        validate=validate.Range(FIRST_DAY, LAST_DAY),
        metadata={"description": "Created on or after (YYYY-MM-DD, Beijing)."},
    )
    date_to = fields.Date(
        data_key="to",
        validate=validate.Range(FIRST_DAY, LAST_DAY),
        metadata={"description": "Created on or before (YYYY-MM-DD, Beijing)."},
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class TrackQuerySchema(ma.Schema):
    tracking_no = fields.String(required=True, validate=validate.Length(min=1, max=20))
    phone = fields.String(required=True, validate=validate.Length(min=1, max=20))


class RefSchema(ma.Schema):
    code = fields.String()
    name = fields.String()


class EventSchema(ma.Schema):
    action = fields.String()
    label = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    at = fields.DateTime()
    actor = fields.String(allow_none=True, metadata={"description": "Staff name (staff callers only)."})
    unit = fields.String(allow_none=True)
    note = fields.String(allow_none=True, metadata={"description": "Internal note (staff callers only)."})
    public = fields.Boolean()


class PublicEventSchema(ma.Schema):
    action = fields.String()
    label = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    at = fields.DateTime()


class AnswerSchema(ma.Schema):
    body = fields.String()
    unit = fields.String(allow_none=True)
    released_at = fields.DateTime(allow_none=True)


class AttachmentSchema(ma.Schema):
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class TicketSummarySchema(ma.Schema):
    tracking_no = fields.String()
    status = fields.String()
    status_label = fields.String()
    channel = fields.String()
    appeal_type = fields.String()
    urgency = fields.String()
    title = fields.String()
    category = fields.Nested(RefSchema, allow_none=True)
    district = fields.Nested(RefSchema, allow_none=True)
    lead_unit = fields.Nested(RefSchema, allow_none=True)
    citizen_name = fields.String(allow_none=True)
    citizen_phone = fields.String(
        allow_none=True,
        metadata={
            "description": "Full for hotline staff; masked (138****1234) for everyone else; null for a "
            "confidential caller outside the hotline."
        },
    )
    confidential = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    answer_deadline_at = fields.DateTime(allow_none=True)


class TicketSchema(TicketSummarySchema):
    body = fields.String()
    address = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    sign_deadline_at = fields.DateTime(allow_none=True)
    warning_level = fields.String()
    satisfaction = fields.String(allow_none=True)
    answer = fields.Nested(AnswerSchema, allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentSchema))
    events = fields.List(fields.Nested(EventSchema))


class TicketPageSchema(ma.Schema):
    items = fields.List(fields.Nested(TicketSummarySchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    total_capped = fields.Boolean(
        metadata={"description": "With `q`: more tickets match than the 1,000 newest listed and counted."}
    )
    pages = fields.Integer()


class TrackSchema(ma.Schema):
    tracking_no = fields.String()
    status = fields.String()
    status_label = fields.String()
    appeal_type = fields.String()
    category = fields.String(allow_none=True)
    title = fields.String()
    created_at = fields.DateTime()
    timeline = fields.List(fields.Nested("PublicEventSchema"))
    merged_into = fields.String(
        allow_none=True,
        metadata={"description": "A merged appeal: the master it follows (its progress and answer are given here)"},
    )
    master_status = fields.String(allow_none=True)
    answer = fields.Nested(AnswerSchema, allow_none=True)
    awaiting_rating = fields.Boolean()


class ErrorBodySchema(ma.Schema):
    code = fields.String(metadata={"example": "validation_failed"})
    message = fields.String()
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.String())


class ErrorSchema(ma.Schema):
    error = fields.Nested(ErrorBodySchema)
