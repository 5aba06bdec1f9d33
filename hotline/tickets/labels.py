"""Human labels for the workflow's codes, through the translation catalogue."""

from flask_babel import lazy_gettext as _l

from hotline.core.i18n import current_language

STATUS = {
    "pending_review": _l("Pending review"),
    "pending_dispatch": _l("Pending dispatch"),
    "answered_directly": _l("Answered directly"),
    "not_accepted": _l("Not accepted"),
    "transferred": _l("Transferred to an emergency line"),
    "dispatched": _l("Dispatched"),
    "merged": _l("Merged"),
    "in_progress": _l("In progress"),
    "return_requested": _l("Return requested"),
    "suspended": _l("Suspended"),
    "replied": _l("Replied"),
    "pending_callback": _l("Pending callback"),
    "closed": _l("Closed"),
}
ACTION = {
    "submit": _l("Submitted online"),
    "register": _l("Registered"),
    "accept": _l("Accepted"),
    "answer_directly": _l("Answered directly"),
    "refuse": _l("Not accepted"),
    "dispatch": _l("Dispatched"),
    "transfer_emergency": _l("Transferred to an emergency line"),
    "merge": _l("Merged"),
    "merged_in": _l("Duplicate merged in"),
    "sign": _l("Signed for"),
    "request_return": _l("Return requested"),
    "approve_return": _l("Return approved"),
    "reject_return": _l("Return rejected"),
    "pass_down": _l("Passed down"),
    "suspend": _l("Suspended"),
    "resume": _l("Resumed"),
    "reply": _l("Answer submitted"),
    "approve_reply": _l("Answer released"),
    "send_back_reply": _l("Answer sent back"),
    "rate_satisfied": _l("Rated by the citizen"),
    "citizen_sms": _l("SMS from the citizen"),
    "rate_unsatisfied": _l("Rated unsatisfied: redo"),
    "close_unreached": _l("Closed: citizen not reached"),
    "note": _l("Progress note"),
    "opinion": _l("Assisting unit's opinion"),
    "reveal_contact": _l("Full contact data viewed"),
    "play_recording": _l("Call recording played"),
    "yellow_card": _l("Yellow card: deadline near"),
    "red_card": _l("Red card: deadline passed"),
    "escalated": _l("Escalated one level up"),
    "supervision_order": _l("Supervision order issued"),
    "supervision_overdue": _l("Supervision order unanswered"),
    "supervision_answered": _l("Supervision answered"),
    "urged": _l("Urged"),
    "extension_requested": _l("Extension requested"),
    "extension_approved": _l("Extension approved"),
    "extension_denied": _l("Extension denied"),
    "suspension_requested": _l("Suspension requested"),
    "suspension_denied": _l("Suspension denied"),
    "project_tagged": _l("Tagged to a key livelihood project"),
    "rate_merged": _l("Rated by the citizen"),
    "merged_rated": _l("A merged caller rated the answer"),
}
# What a button says: the action as a verb (the timeline uses ACTION, what happened).
VERB = {
    "submit": _l("Submit"),
    "register": _l("Register"),
    "accept": _l("Accept"),
    "answer_directly": _l("Answer directly"),
    "refuse": _l("Refuse"),
    "dispatch": _l("Dispatch"),
    "transfer_emergency": _l("Transfer to 110/119/120/122"),
    "merge": _l("Merge into another ticket"),
    "sign": _l("Sign for it"),
    "request_return": _l("Request return"),
    "approve_return": _l("Approve return"),
    "reject_return": _l("Reject return"),
    "pass_down": _l("Pass down"),
    "suspend": _l("Suspend"),
    "resume": _l("Resume"),
    "reply": _l("Submit answer"),
    "approve_reply": _l("Approve and release answer"),
    "send_back_reply": _l("Send answer back"),
    "rate_satisfied": _l("Record satisfied"),
    "rate_unsatisfied": _l("Record unsatisfied (redo)"),
    "close_unreached": _l("Close: citizen not reached"),
    "rate_merged": _l("Record this caller's rating"),
}
# What a citizen is told of a status (their account's list): no internal step (review of an answer, a return
# request, a suspension asked for) shows through.
CITIZEN_STATUS = {
    "pending_review": _l("Received, being checked"),
    "pending_dispatch": _l("Accepted, being assigned"),
    "dispatched": _l("Being handled"),
    "in_progress": _l("Being handled"),
    "return_requested": _l("Being handled"),
    "suspended": _l("Being handled"),
    "replied": _l("Being handled"),
    "pending_callback": _l("Answered, awaiting your rating"),
    "closed": _l("Closed"),
    "answered_directly": _l("Answered"),
    "not_accepted": _l("Not accepted"),
    "transferred": _l("Transferred to an emergency line"),
    "merged": _l("Merged"),
}
_CITIZEN_SAME_AS = {
    "dispatched": "in_progress",
    "return_requested": "in_progress",
    "suspended": "in_progress",
    "replied": "in_progress",
}


def citizen_status(status: str) -> str:
    """The status a citizen is shown for ``status``: one code (label and colour) for every internal step of
    handling, so neither the words nor the badge's colour tell them apart."""
    return _CITIZEN_SAME_AS.get(status, status)


APPEAL = {
    "consultation": _l("Consultation"),
    "help": _l("Request for help"),
    "complaint": _l("Complaint"),
    "report": _l("Report"),
    "suggestion": _l("Suggestion"),
    "praise": _l("Praise"),
}
URGENCY = {"normal": _l("Normal"), "urgent": _l("Urgent"), "critical": _l("Critical")}
CHANNEL = {
    "phone": _l("Phone"),
    "web": _l("Web"),
    "api": _l("API"),
    "open311": _l("Open311"),
    "wechat": _l("WeChat"),
    "email": _l("E-mail"),
}
SATISFACTION = {
    "satisfied": _l("Satisfied"),
    "basically": _l("Basically satisfied"),
    "unsatisfied": _l("Unsatisfied"),
    "not_reached": _l("Not reached"),
}
RATED_VIA = {
    "phone": _l("by the operator's callback"),
    "web": _l("on the tracking page"),
    "link": _l("by the SMS link"),
    "sms": _l("by SMS reply"),
}
# How a rating came (workflow.RatingChannel) as a name, for lists and the dashboard (RATED_VIA says it within a
# sentence); "unknown": rated before the channel was recorded (2026-12).
RATING_CHANNEL = {
    "phone": _l("Callback"),
    "web": _l("Tracking page"),
    "link": _l("SMS link"),
    "sms": _l("SMS reply"),
    "unknown": _l("Not recorded"),
}
# What became of a ticket's release SMS (tickets.queries.release_sms_states).
SMS_DELIVERY = {"delivered": _l("Delivered"), "undelivered": _l("Not delivered"), "sending": _l("Sending")}
ROLE = {
    "citizen": _l("Citizen"),
    "operator": _l("Operator"),
    "dispatcher": _l("Dispatcher"),
    "handler": _l("Handler"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
    "evaluator": _l("Evaluator"),
}
UNIT_KIND = {
    "city": _l("City"),
    "district": _l("District"),
    "street": _l("Street"),
    "community": _l("Community"),
    "department": _l("Department"),
    "hotline_centre": _l("Hotline centre"),
}
WARNING = {"none": "", "yellow": _l("Yellow card"), "red": _l("Red card")}
ACTOR = {"citizen": _l("Citizen"), "public": _l("Citizen"), "system": _l("System")}

ALL = {
    "status": STATUS,
    "action": ACTION,
    "verb": VERB,
    "appeal": APPEAL,
    "urgency": URGENCY,
    "channel": CHANNEL,
    "satisfaction": SATISFACTION,
    "rated_via": RATED_VIA,
    "rating_channel": RATING_CHANNEL,
    "sms_delivery": SMS_DELIVERY,
    "role": ROLE,
    "unit_kind": UNIT_KIND,
    "warning": WARNING,
    "actor": ACTOR,
    "citizen_status": CITIZEN_STATUS,
}


_CACHE: dict[tuple, str] = {}  # (language, kind, code) -> text; the catalogue is fixed while the app runs


def label(kind: str, code: str | None) -> str:
    if code is None:
        return ""
    key = (current_language(), kind, code)
    text = _CACHE.get(key)
    if text is None:
        text = _CACHE[key] = str(ALL[kind].get(code, code))
    return text
