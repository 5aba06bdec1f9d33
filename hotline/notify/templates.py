"""Notification texts. English msgids, Chinese from the catalogue; rendered in the reader's language (the inbox:
the page's; an e-mail: the recipient's preference) or the default (中文: SMS to citizens). Payloads hold data
(numbers, titles, unit names, times) and codes, never words of one language."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

# template name → (subject, body); the payload fills the placeholders.
TEMPLATES = {
    "yellow_card": (
        _l("Yellow card: ticket %(tracking_no)s is due soon"),
        _l("Ticket %(tracking_no)s (%(title)s) at %(unit)s is due at %(deadline)s. Please finish it in time."),
    ),
    "red_card": (
        _l("Red card: ticket %(tracking_no)s is overdue"),
        _l("Ticket %(tracking_no)s (%(title)s) at %(unit)s passed its deadline %(deadline)s."),
    ),
    "supervision_order": (
        _l("Supervision order on ticket %(tracking_no)s"),
        _l("A supervision order was issued to %(unit)s on ticket %(tracking_no)s; respond by %(response_deadline)s."),
    ),
    "escalated": (
        _l("Escalated: ticket %(tracking_no)s"),
        _l(
            "Ticket %(tracking_no)s at %(unit)s is still overdue (deadline %(deadline)s) and was escalated to %(to_unit)s."
        ),
    ),
    "urging": (
        _l("Urging on ticket %(tracking_no)s"),
        _l("The hotline urges %(unit)s to act on ticket %(tracking_no)s; respond by %(response_deadline)s."),
    ),
    "supervision_overdue": (
        _l("Unanswered %(kind)s on ticket %(tracking_no)s"),
        _l("%(unit)s did not answer the %(kind)s on ticket %(tracking_no)s in time."),
    ),
    "extension_requested": (
        _l("Extension requested on ticket %(tracking_no)s"),
        _l("%(unit)s asks to extend ticket %(tracking_no)s to %(deadline)s."),
    ),
    "extension_decided": (
        _l("Extension %(decision)s on ticket %(tracking_no)s"),
        _l("The extension of ticket %(tracking_no)s was %(decision)s."),
    ),  # rows from before
    "suspension_requested": (
        _l("Suspension requested on ticket %(tracking_no)s"),
        _l("%(unit)s asks to suspend ticket %(tracking_no)s."),
    ),
    "suspension_decided": (
        _l("Suspension %(decision)s on ticket %(tracking_no)s"),
        _l("The suspension of ticket %(tracking_no)s was %(decision)s."),
    ),
    "reply_released": (
        _l("Answer to your appeal %(tracking_no)s"),
        _l(
            "[12345] Your appeal %(tracking_no)s has been answered. Look it up with its tracking number and your phone number."
        ),
    ),
    "reply_released_rate": (
        _l("Answer to your appeal %(tracking_no)s"),
        _l(
            "[12345] Your appeal %(tracking_no)s has been answered. Please rate it: reply 1 satisfied, 2 basically "
            "satisfied, 3 unsatisfied, or open %(rate_url)s . Reply TD to stop surveys."
        ),
    ),
    "evaluation_invite": (
        _l("Public evaluation of the units"),
        _l(
            "[12345] Your appeal %(tracking_no)s was handled by %(unit)s. Please rate the unit in this year's public "
            "evaluation: %(evaluation_url)s . Reply TD to stop surveys."
        ),
    ),
    "sms_rated": (
        _l("Rating recorded"),
        _l("[12345] Thank you: your rating of appeal %(tracking_no)s was recorded."),
    ),
    "sms_nothing_to_rate": (
        _l("Nothing to rate"),
        _l(
            "[12345] No answered appeal of this phone number awaits a rating. To file an appeal, call 12345 or "
            "send us what happened."
        ),
    ),
    "sms_noted": (
        _l("Message added to your appeal"),
        _l("[12345] Your message was added to appeal %(tracking_no)s for the operator."),
    ),
    "sms_drafted": (
        _l("Message received"),
        _l("[12345] Your message was received: an operator will register it as an appeal and send you its number."),
    ),
    "sms_opted_out": (
        _l("Unsubscribed"),
        _l("[12345] You will get no more surveys by SMS. Messages about your own appeals still reach you."),
    ),
    "citizen_sms": (
        _l("SMS from the caller of %(tracking_no)s"),
        _l("The caller of ticket %(tracking_no)s sent an SMS; it is in the ticket's history."),
    ),
    "ticket_merged": (
        _l("Your appeal %(tracking_no)s was merged"),
        _l(
            "[12345] Your appeal %(tracking_no)s is about the same matter as %(master)s and is handled "
            "together with it. Follow its progress and answer with %(tracking_no)s and your phone number."
        ),
    ),
    "ticket_dispatched": (_l("New ticket %(tracking_no)s"), _l("Ticket %(tracking_no)s was dispatched to your unit.")),
    "tracking_numbers": (
        _l("Your 12345 tracking numbers"),
        _l(
            "[12345] Appeals filed with this phone number: %(numbers)s. Look each one up with its "
            "tracking number and this phone number."
        ),
    ),
    "accountability_opened": (
        _l("Accountability case %(case)s against %(unit)s"),
        _l(
            "An accountability case was opened against %(unit)s on ticket %(tracking_no)s. Its rectification "
            "report is due %(report_due)s."
        ),
    ),
    "accountability_report": (
        _l("Rectification report on accountability case %(case)s"),
        _l("%(unit)s submitted its rectification report on case %(case)s (ticket %(tracking_no)s) for review."),
    ),
    "accountability_returned": (
        _l("Rectification report returned: case %(case)s"),
        _l("The rectification report of %(unit)s on case %(case)s was returned: a new report is due %(report_due)s."),
    ),
    "accountability_closed": (
        _l("Accountability case %(case)s closed"),
        _l("The rectification report of %(unit)s on case %(case)s was accepted and the case is closed."),
    ),
    "accountability_overdue": (
        _l("Rectification report overdue: case %(case)s"),
        _l("The rectification report of %(unit)s on case %(case)s was due %(report_due)s and has not come in."),
    ),
}

# Notifications whose wording depends on a coded value of the payload: one whole sentence per value, so each
# language words it its own way (no "Extension 批准 on ticket…"). Payloads carry the code.
VARIANT_FIELD = {"extension_decided": "decision", "suspension_decided": "decision", "supervision_overdue": "kind"}
VARIANTS = {
    ("extension_decided", "approved"): (
        _l("Extension approved on ticket %(tracking_no)s"),
        _l("The extension of ticket %(tracking_no)s was approved."),
    ),
    ("extension_decided", "denied"): (
        _l("Extension denied on ticket %(tracking_no)s"),
        _l("The extension of ticket %(tracking_no)s was denied."),
    ),
    ("suspension_decided", "approved"): (
        _l("Suspension approved on ticket %(tracking_no)s"),
        _l("The suspension of ticket %(tracking_no)s was approved."),
    ),
    ("suspension_decided", "denied"): (
        _l("Suspension denied on ticket %(tracking_no)s"),
        _l("The suspension of ticket %(tracking_no)s was denied."),
    ),
    ("supervision_overdue", "order"): (
        _l("Unanswered supervision order on ticket %(tracking_no)s"),
        _l("%(unit)s did not answer the supervision order on ticket %(tracking_no)s in time."),
    ),
    ("supervision_overdue", "urging"): (
        _l("Unanswered urging on ticket %(tracking_no)s"),
        _l("%(unit)s did not answer the urging on ticket %(tracking_no)s in time."),
    ),
}
# What rows written before the codes carried (Chinese words in the payload).
LEGACY_CODES = {"批准": "approved", "驳回": "denied", "督办单": "order", "催办": "urging"}


class _Missing(dict):
    def __missing__(self, key):
        return ""


def render(template: str, payload: dict | None, locale: str | None = None) -> tuple[str, str]:
    """(subject, body) of a notification, in ``locale`` (default: the installation's default language)."""
    payload = payload or {}
    field = VARIANT_FIELD.get(template)
    code = payload.get(field) if field else None
    code = LEGACY_CODES.get(code, code) if isinstance(code, str) else None
    variant = VARIANTS.get((template, code)) if code is not None else None
    subject, body = variant or TEMPLATES.get(template, (template, template))
    values = _Missing(payload)
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(subject) % values, str(body) % values
