"""View guards: a login plus a permission predicate (``hotline.permissions``); the per-account sign-in lockout."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Response, abort
from flask_limiter import RequestLimit, RouteLimit
from flask_login import current_user, login_required

from hotline.accounts.models import User

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _login_required(view: Callable[_P, _R]) -> Callable[_P, _R]:
    """Flask-Login's ``login_required``, typed (Flask-Login ships no types): the same signature back."""
    guarded: Callable[_P, _R] = login_required(view)
    return guarded


def permission_required(predicate: Callable[[User], bool]) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """A login plus ``predicate(current_user)``, else 403: the page is guarded by the same named rule that
    shows its link and that ``permissions.TABLE`` declares."""

    def decorator(view: Callable[_P, _R]) -> Callable[_P, _R]:
        @wraps(view)
        @_login_required
        def wrapped(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            if not predicate(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def sign_in_lockout(
    username: Callable[[], str | None],
    failed: Callable[[Response], bool],
    on_breach: Callable[[RequestLimit], Response | None] | None = None,
) -> RouteLimit:
    """The per-account lockout every door that takes a password wears: the web sign-in and the API's token
    request count failures under one shared limit per account (issue 23.6), so a lock on one door holds on
    the other. ``username()`` reads the posted name; ``failed(response)`` tells a failure. Flask-Limiter keeps
    the counter (in Redis, or in memory while Redis is down)."""
    from flask import current_app

    from hotline.accounts.services import LOGIN_ACCOUNT_SCOPE, LOGIN_LIMIT_ACCOUNT, login_account_key
    from hotline.extensions import limiter

    return limiter.shared_limit(
        lambda: current_app.config.get("LOGIN_LIMIT_ACCOUNT", LOGIN_LIMIT_ACCOUNT),
        scope=LOGIN_ACCOUNT_SCOPE,
        key_func=lambda: login_account_key(username()),
        methods=["POST"],
        deduct_when=failed,
        on_breach=on_breach,
    )


def record_lockout(username: str | None, limit: RequestLimit) -> None:
    """The audit row of a refused, locked sign-in; committed at once (the request that follows fails)."""
    from flask import current_app, request

    from hotline.core.audit import record_audit
    from hotline.extensions import db

    name = (username or "").strip()[:64] or "?"
    try:
        record_audit(
            name,
            "login.locked",
            username or "",
            {"address": request.remote_addr, "door": request.path, "limit": str(limit.limit)},
        )
        db.session.commit()
    except Exception:  # noqa: BLE001 — the lockout must answer even when the database cannot record it
        db.session.rollback()
        current_app.logger.exception("could not record a login lockout")
