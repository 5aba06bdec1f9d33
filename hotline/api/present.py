"""What each caller may see of a ticket: contact data by role, the timeline by audience."""

from __future__ import annotations

import logging

from hotline.api.auth import Caller
from hotline.core.clock import to_local
from hotline.tickets.labels import label
from hotline.tickets.models import ReplyState, Ticket
from hotline.tickets.services import mask_phone

audit = logging.getLogger("hotline.audit")


def ref(obj) -> dict | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def local(moment):
    return to_local(moment) if moment else None


def contact(ticket: Ticket, caller: Caller) -> tuple[str | None, str | None]:
    """Hotline staff see the caller; others a masked phone, and nothing of a confidential caller."""
    if caller.sees_contact:
        return ticket.citizen_name, ticket.citizen_phone
    if ticket.confidential:
        return None, None
    return ticket.citizen_name, mask_phone(ticket.citizen_phone)


def summary(ticket: Ticket, caller: Caller) -> dict:
    name, phone = contact(ticket, caller)
    return {
        "tracking_no": ticket.tracking_no,
        "status": ticket.status,
        "status_label": label("status", ticket.status),
        "channel": ticket.channel,
        "appeal_type": ticket.appeal_type,
        "urgency": ticket.urgency,
        "title": ticket.title,
        "category": ref(ticket.category),
        "district": ref(ticket.district),
        "lead_unit": ref(ticket.lead_unit),
        "citizen_name": name,
        "citizen_phone": phone,
        "confidential": ticket.confidential,
        "created_at": local(ticket.created_at),
        "updated_at": local(ticket.updated_at),
        "answer_deadline_at": local(ticket.answer_deadline_at),
    }


def released_answer(ticket: Ticket) -> dict | None:
    """The latest answer the hotline approved and released to the citizen."""
    approved = [r for r in ticket.replies if r.state == ReplyState.APPROVED.value]
    if not approved:
        return None
    reply = approved[-1]
    return {
        "body": reply.body,
        "unit": reply.unit.name if reply.unit else None,
        "released_at": local(reply.released_at or reply.reviewed_at),
    }


def public_timeline(ticket: Ticket) -> list[dict]:
    """The citizen's timeline: public events only, no staff names, no notes."""
    return [
        {
            "action": e.action,
            "label": label("action", e.action),
            "to_status": e.to_status,
            "from_status": e.from_status,
            "at": local(e.created_at),
            "public": True,
        }
        for e in ticket.events
        if e.public
    ]


def staff_timeline(ticket: Ticket) -> list[dict]:
    return [
        {
            "action": e.action,
            "label": label("action", e.action),
            "from_status": e.from_status,
            "to_status": e.to_status,
            "at": local(e.created_at),
            "actor": e.actor.display_name if e.actor else label("actor", e.actor_kind),
            "unit": e.unit.name if e.unit else None,
            "note": e.note,
            "public": e.public,
        }
        for e in ticket.events
    ]


def detail(ticket: Ticket, caller: Caller) -> dict:
    data = summary(ticket, caller)
    data.update(
        {
            "body": ticket.body,
            "address": ticket.address,
            "lat": ticket.lat,
            "lon": ticket.lon,
            "sign_deadline_at": local(ticket.sign_deadline_at),
            "warning_level": ticket.warning_level,
            "satisfaction": ticket.satisfaction,
            "answer": released_answer(ticket),
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in _attachments(ticket)
            ],
            "events": staff_timeline(ticket) if caller.user is not None else public_timeline(ticket),
        }
    )
    if caller.sees_contact:
        from hotline.core.audit import record_audit

        record_audit(caller.user, "contact.view", ticket.tracking_no, {"via": "api"})
    return data


def _attachments(ticket: Ticket):
    from sqlalchemy import select

    from hotline.extensions import db
    from hotline.tickets.models import Attachment

    return db.session.execute(
        select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    ).scalars()


def track(ticket: Ticket) -> dict:
    """The citizen's view of their appeal; a merged one follows its master: the master's number, its progress
    from dispatch on and its answer (docs/architecture.md, "Merged callers")."""
    from hotline.tickets.services import followed_ticket, merged_callback_open

    followed = followed_ticket(ticket)
    timeline = public_timeline(ticket)
    if followed is not ticket:
        timeline += [e for e in public_timeline(followed) if e["action"] not in ("submit", "register", "accept")]
        timeline.sort(key=lambda e: e["at"])
    return {
        "tracking_no": ticket.tracking_no,
        "status": ticket.status,
        "status_label": label("status", ticket.status),
        "appeal_type": ticket.appeal_type,
        "category": ticket.category.full_name if ticket.category else None,
        "title": ticket.title,
        "created_at": local(ticket.created_at),
        "timeline": timeline,
        "merged_into": followed.tracking_no if followed is not ticket else None,
        "master_status": followed.status if followed is not ticket else None,
        "answer": released_answer(followed),
        "awaiting_rating": ticket.status == "pending_callback" or merged_callback_open(ticket),
    }
