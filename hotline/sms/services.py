"""Opt-outs and the release SMS's rating link: rules that need no ticket services (``tickets.services`` calls
them when it releases an answer; ``sms.inbound`` and the public link page call back into the tickets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context, request

from hotline.core.clock import utcnow
from hotline.core.links import link_token, parse_link_token
from hotline.extensions import db
from hotline.sms.models import SmsOptOut

RATE_LINK_PATH = "/r/"  # the public blueprint's short route (hotline/public/views.py rate_link)


# --- opt-out ------------------------------------------------------------------------------------------------


def is_opted_out(phone: str) -> bool:
    return db.session.get(SmsOptOut, phone) is not None


def opt_out(phone: str, via: str = "sms") -> bool:
    """Stop non-essential SMS to ``phone`` (the rating invitation; later surveys). True if it was new."""
    if is_opted_out(phone):
        return False
    db.session.add(SmsOptOut(phone=phone, via=via, created_at=utcnow()))
    return True


def opt_in(phone: str) -> bool:
    """Lift an opt-out; True if there was one."""
    row = db.session.get(SmsOptOut, phone)
    if row is None:
        return False
    db.session.delete(row)
    return True


# --- the signed rating link ---------------------------------------------------------------------------------

# A link carries the ticket, the released answer and its expiry day, signed with the app's secret: short
# enough for an SMS (about 25 characters after /r/). It works while that answer awaits this ticket's rating,
# so it is used once: after the rating, a redo or the end of the callback window it opens nothing.


@dataclass(frozen=True)
class RateLink:
    ticket_id: int
    reply_id: int
    expires: datetime


def rate_link_token(ticket_id: int, reply_id: int, now: datetime | None = None) -> str:
    days = int(current_app.config.get("SMS_RATING_LINK_DAYS", 7))
    return link_token("rate-link", ticket_id, reply_id, days, now)


def parse_rate_link(token: str, now: datetime | None = None) -> RateLink | None:
    """The link's ticket and answer, or None for a forged, mangled or expired one (one answer for all)."""
    link = parse_link_token("rate-link", token, now)
    return None if link is None else RateLink(link.first, link.second, link.expires)


def rate_link_url(ticket_id: int, reply_id: int) -> str | None:
    """The link for the release SMS: on ``PUBLIC_BASE_URL``, else the address this request came to; None
    outside a request without that setting (a CLI release: the SMS then goes without a link)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or (request.url_root if has_request_context() else None)
    if not base:
        return None
    return base.rstrip("/") + RATE_LINK_PATH + rate_link_token(ticket_id, reply_id)
