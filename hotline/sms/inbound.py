"""A citizen's SMS to the hotline (``POST /api/v1/sms/inbound``): a rating, a note, a new appeal or an opt-out.

The release SMS says: reply 1 (满意), 2 (基本满意) or 3 (不满意). That reply rates the phone's latest released
answer exactly as the tracking page does (不满意 sends it to redo). Any other text is a note on the phone's open
ticket for the operator, or, with none open, a draft that waits in the review queue for an operator to register.
``TD`` / ``退订`` stops non-essential SMS. Each message is handled once: the provider retries webhooks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from hotline.accounts.models import User
from hotline.core.clock import utcnow
from hotline.core.errors import DomainError
from hotline.core.text import strip_control
from hotline.extensions import db
from hotline.notify.services import queue_notification
from hotline.sms import services as sms
from hotline.sms.models import InboundOutcome, InboundSms
from hotline.sms.providers import InboundMessage
from hotline.sms.words import OPT_OUT_WORDS
from hotline.tickets.models import ReplyState, Ticket
from hotline.tickets.services import (
    CitizenActor,
    apply_transition,
    followed_ticket,
    merged_callback_open,
    record_event,
)
from hotline.tickets.validation import PHONE_PATTERN, normalise_phone
from hotline.tickets.workflow import OPEN_STATUSES, RatingChannel, Satisfaction, Status

RATINGS = {"1": Satisfaction.SATISFIED, "2": Satisfaction.BASICALLY_SATISFIED, "3": Satisfaction.UNSATISFIED}
MAX_TEXT = 1000


@dataclass(frozen=True)
class Handled:
    sms: InboundSms
    duplicate: bool


def _phone(raw: str) -> str:
    phone = normalise_phone(raw)
    return phone[2:] if re.fullmatch(r"861[3-9]\d{9}", phone) else phone


def _word(text: str) -> str:
    """The reply as a word: full-width digits and letters folded (１ → 1), spaces and end punctuation dropped."""
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    return re.sub(r"[\s.。!！,，]+$", "", folded).strip()


def handle_inbound(provider: str, message: InboundMessage) -> Handled:
    """Record and act on one reply; a repeat of the same provider message changes nothing. Flushes."""
    seen = db.session.execute(
        select(InboundSms).filter_by(provider=provider, message_id=message.message_id[:64])
    ).scalar_one_or_none()
    if seen is not None:
        return Handled(seen, True)
    phone, text = _phone(message.phone), (strip_control(message.text) or "").strip()[:MAX_TEXT]
    row = InboundSms(
        provider=provider,
        message_id=message.message_id[:64],
        phone=phone[:20],
        text=text,
        received_at=utcnow(),
        outcome=InboundOutcome.IGNORED.value,
    )
    db.session.add(row)
    if not PHONE_PATTERN.match(phone) or not text:
        return Handled(row, False)  # nobody to answer, or nothing said
    word = _word(text)
    if word in OPT_OUT_WORDS:
        sms.opt_out(phone)
        row.outcome = InboundOutcome.OPTED_OUT.value
        queue_notification("sms", phone, "sms_opted_out")
    elif word in RATINGS:
        _rate(row, phone, RATINGS[word])
    else:
        _note_or_draft(row, phone, text)
    db.session.flush()
    return Handled(row, False)


def awaiting_rating(phone: str) -> Ticket | None:
    """The phone's latest released answer that still awaits its rating: its own ticket in 待回访, or a merged
    appeal whose master's answer is within the callback window."""
    now = utcnow()
    own = db.session.execute(
        select(Ticket).where(Ticket.citizen_phone == phone, Ticket.status == Status.PENDING_CALLBACK.value)
    ).scalars()
    merged = db.session.execute(
        select(Ticket).where(Ticket.citizen_phone == phone, Ticket.status == Status.MERGED.value)
    ).scalars()
    candidates = [*own, *(t for t in merged if merged_callback_open(t, now))]
    # Every candidate's answer is released (answered_at set): the latest one wins, the newer ticket on a tie.
    return max(candidates, key=lambda t: (followed_ticket(t).answered_at or now, t.id), default=None)


def _rate(row: InboundSms, phone: str, rating: Satisfaction) -> None:
    ticket = awaiting_rating(phone)
    if ticket is None:
        row.outcome = InboundOutcome.REFUSED.value
        queue_notification("sms", phone, "sms_nothing_to_rate")
        return
    if ticket.status == Status.MERGED.value:
        action = "rate_merged"
    else:
        action = "rate_unsatisfied" if rating is Satisfaction.UNSATISFIED else "rate_satisfied"
    try:
        with db.session.begin_nested():  # a refused rating leaves the reply's own row in place
            apply_transition(
                ticket, action, CitizenActor(phone, via=RatingChannel.SMS.value), satisfaction=rating.value
            )
    except DomainError:
        row.outcome = InboundOutcome.REFUSED.value
        queue_notification("sms", phone, "sms_nothing_to_rate")
        return
    row.outcome, row.ticket_id = InboundOutcome.RATED.value, ticket.id
    queue_notification("sms", phone, "sms_rated", ticket=ticket, payload={"tracking_no": ticket.tracking_no})


def _open_ticket(phone: str) -> Ticket | None:
    """Where a citizen's free text goes: the answer awaiting their rating, else their latest open appeal."""
    waiting = awaiting_rating(phone)
    if waiting is not None:
        return waiting
    return db.session.execute(
        select(Ticket)
        .where(Ticket.citizen_phone == phone, Ticket.status.in_([s.value for s in OPEN_STATUSES]))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _note_or_draft(row: InboundSms, phone: str, text: str) -> None:
    ticket = _open_ticket(phone)
    if ticket is None:
        row.outcome = InboundOutcome.DRAFTED.value
        queue_notification("sms", phone, "sms_drafted")
        return
    row.outcome, row.ticket_id = InboundOutcome.NOTED.value, ticket.id
    record_event(ticket, "citizen_sms", CitizenActor(phone, via=RatingChannel.SMS.value), note=text)
    payload: dict[str, object] = {"tracking_no": ticket.tracking_no}
    if ticket.created_by is not None:  # the operator who took the call hears of it
        queue_notification(
            "in_app",
            ticket.created_by.username,
            "citizen_sms",
            ticket=ticket,
            payload=payload,
            recipient_user_id=ticket.created_by.id,
        )
    queue_notification("sms", phone, "sms_noted", ticket=ticket, payload=payload)


# --- drafts: SMS appeals waiting for an operator ------------------------------------------------------------


def drafts(limit: int = 20) -> list[InboundSms]:
    """Texts from phones with no open appeal, oldest first, until an operator registers or dismisses them."""
    return list(
        db.session.execute(
            select(InboundSms)
            .where(InboundSms.outcome == InboundOutcome.DRAFTED.value, InboundSms.handled_at.is_(None))
            .order_by(InboundSms.received_at, InboundSms.id)
            .limit(limit)
        ).scalars()
    )


def open_draft(sms_id: int | None) -> InboundSms | None:
    if sms_id is None or not 0 < sms_id < 2**31:  # a mangled ?sms= is no draft (and no PostgreSQL error)
        return None
    row = db.session.get(InboundSms, sms_id)
    if row is None or row.outcome != InboundOutcome.DRAFTED.value or row.handled_at is not None:
        return None
    return row


def close_draft(row: InboundSms, user: User, ticket: Ticket | None = None) -> None:
    """The operator registered the draft as ``ticket``, or dismissed it (no ticket)."""
    from hotline.core.audit import record_audit

    row.handled_at, row.handled_by_id = utcnow(), user.id
    row.ticket_id = ticket.id if ticket is not None else None
    detail = {"ticket": ticket.tracking_no} if ticket is not None else None
    record_audit(user, "sms.draft_registered" if ticket else "sms.draft_dismissed", f"sms:{row.id}", detail)


# --- the release SMS's signed link --------------------------------------------------------------------------


def ticket_for_rate_link(token: str) -> Ticket | None:
    """The ticket a link rates, while the answer it was sent for still awaits that rating (so a used, redone
    or expired link opens nothing); None for a forged or mangled one."""
    link = sms.parse_rate_link(token)
    ticket = db.session.get(Ticket, link.ticket_id) if link is not None else None
    if link is None or ticket is None:
        return None
    if ticket.status == Status.MERGED.value:
        awaiting = merged_callback_open(ticket)
    else:
        awaiting = ticket.status == Status.PENDING_CALLBACK.value
    released = [r for r in followed_ticket(ticket).replies if r.state == ReplyState.APPROVED.value]
    latest = max(released, key=lambda r: (r.released_at or r.submitted_at, r.id), default=None)
    return ticket if awaiting and latest is not None and latest.id == link.reply_id else None
