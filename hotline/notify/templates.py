"""Notification texts. English msgids, Chinese from the catalogue; rendered in the default locale (中文)."""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

# template name → (subject, body); the payload fills the placeholders.
TEMPLATES = {
    "yellow_card": (_l("Yellow card: ticket %(tracking_no)s is due soon"),
                    _l("Ticket %(tracking_no)s (%(title)s) at %(unit)s is due at %(deadline)s. Please finish it in time.")),
    "red_card": (_l("Red card: ticket %(tracking_no)s is overdue"),
                 _l("Ticket %(tracking_no)s (%(title)s) at %(unit)s passed its deadline %(deadline)s.")),
    "supervision_order": (_l("Supervision order on ticket %(tracking_no)s"),
                          _l("A supervision order was issued to %(unit)s on ticket %(tracking_no)s; respond by %(response_deadline)s.")),
    "escalated": (_l("Escalated: ticket %(tracking_no)s"),
                  _l("Ticket %(tracking_no)s at %(unit)s is still overdue (deadline %(deadline)s) and was escalated to %(to_unit)s.")),
    "urging": (_l("Urging on ticket %(tracking_no)s"),
               _l("The hotline urges %(unit)s to act on ticket %(tracking_no)s; respond by %(response_deadline)s.")),
    "supervision_overdue": (_l("Unanswered %(kind)s on ticket %(tracking_no)s"),
                            _l("%(unit)s did not answer the %(kind)s on ticket %(tracking_no)s in time.")),
    "extension_requested": (_l("Extension requested on ticket %(tracking_no)s"),
                            _l("%(unit)s asks to extend ticket %(tracking_no)s to %(deadline)s.")),
    "extension_decided": (_l("Extension %(decision)s on ticket %(tracking_no)s"),
                          _l("The extension of ticket %(tracking_no)s was %(decision)s.")),
    "suspension_requested": (_l("Suspension requested on ticket %(tracking_no)s"),
                             _l("%(unit)s asks to suspend ticket %(tracking_no)s.")),
    "suspension_decided": (_l("Suspension %(decision)s on ticket %(tracking_no)s"),
                           _l("The suspension of ticket %(tracking_no)s was %(decision)s.")),
    "reply_released": (_l("Answer to your appeal %(tracking_no)s"),
                       _l("[12345] Your appeal %(tracking_no)s has been answered. Look it up with its tracking number and your phone number.")),
    "ticket_merged": (_l("Your appeal %(tracking_no)s was merged"),
                      _l("[12345] Your appeal %(tracking_no)s is handled together with %(master)s.")),
    "ticket_dispatched": (_l("New ticket %(tracking_no)s"), _l("Ticket %(tracking_no)s was dispatched to your unit.")),
}


class _Missing(dict):
    def __missing__(self, key):
        return ""


def render(template: str, payload: dict | None, locale: str | None = None) -> tuple[str, str]:
    """(subject, body) of a notification, in ``locale`` (the installation's default language)."""
    subject, body = TEMPLATES.get(template, (template, template))
    values = _Missing(payload or {})
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(subject) % values, str(body) % values
