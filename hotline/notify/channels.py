"""Delivery channels. In-app needs none; e-mail goes over SMTP (Flask-Mail); SMS through the configured
provider (``hotline.sms.providers``, docs/sms.md)."""

from __future__ import annotations


class DeliveryError(Exception):
    """The channel refused or failed; the notification is tried again later."""


def send_email(recipient: str, subject: str, body: str) -> None:
    from flask_mail import Message

    from hotline.extensions import mail

    try:
        mail.send(Message(subject=subject, recipients=[recipient], body=body))
    except Exception as exc:  # SMTP errors of every kind: try again later
        raise DeliveryError(f"e-mail failed: {exc}") from exc
