"""Who is calling the API: a staff user (bearer token), a partner channel (X-API-Key) or the public."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Unauthorized

from hotline.accounts.models import User
from hotline.api.services import ActiveKey, find_active_key, user_for_token
from hotline.tickets.services import PUBLIC, AnyActor

API_KEY_HEADER = "X-API-Key"


class InvalidCredentials(Unauthorized):
    """Credentials were sent but are wrong, expired or revoked: never silently anonymous."""

    def __init__(self, message: LazyString) -> None:
        super().__init__()
        self.data = {"message": message}


@dataclass(frozen=True)
class Caller:
    user: User | None = None
    api_key: ActiveKey | None = None

    @property
    def authenticated(self) -> bool:
        return self.user is not None or self.api_key is not None

    @property
    def actor(self) -> AnyActor:
        """Staff act as themselves; partner channels and the public file as the public does."""
        return self.user if self.user is not None else PUBLIC

    @property
    def sees_contact(self) -> bool:
        """Full phone numbers and confidential callers: hotline centre staff only."""
        return self.user is not None and self.user.is_hotline_staff


_CALLER_KEY = "hotline.api_caller"  # in the request's WSGI environ


def current_caller() -> Caller:
    # Cached on the request, not on g: an app context may outlive one request (tests, CLI).
    caller = request.environ.get(_CALLER_KEY)
    if not isinstance(caller, Caller):
        caller = request.environ[_CALLER_KEY] = _resolve()
    return caller


def _resolve() -> Caller:
    header = request.headers.get("Authorization", "")
    raw_key = request.headers.get(API_KEY_HEADER)
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidCredentials(_l("Use the header Authorization: Bearer <token>."))
        user = user_for_token(token.strip())
        if user is None:
            raise InvalidCredentials(_l("The token is invalid or has expired. Request a new one."))
        return Caller(user=user)
    if raw_key is not None:
        key = find_active_key(raw_key.strip())
        if key is None:
            raise InvalidCredentials(_l("The API key is invalid or has been revoked."))
        return Caller(api_key=key)
    return Caller()


def is_authenticated_quietly() -> bool:
    """For rate-limit exemptions: authenticated callers are limited by their agreement, not by address."""
    try:
        return current_caller().authenticated
    except Unauthorized:
        return False


def require_authenticated() -> Caller:
    caller = current_caller()
    if not caller.authenticated:
        raise Unauthorized()
    return caller
