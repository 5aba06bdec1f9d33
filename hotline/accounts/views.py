import time
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user

from hotline.accounts.decorators import record_lockout, sign_in_lockout
from hotline.accounts.forms import ChangePasswordForm, ConfirmForm, LoginForm
from hotline.accounts.services import authenticate, change_own_password, choose_language, sign_out, sign_out_everywhere
from hotline.core.errors import ValidationFailed
from hotline.core.forms import add_errors
from hotline.core.i18n import LANGUAGE_COOKIE
from hotline.extensions import db, limiter

bp = Blueprint("accounts", __name__)

# Password guessing (docs/security.md): failed sign-ins are counted per account (the posted username, whatever
# the address) and per client address (whatever the username). Successful sign-ins are not counted.
LOGIN_LIMIT_ADDRESS = "30 per 15 minutes"
LANGUAGE_COOKIE_DAYS = 365


def _login_address_key() -> str:
    return "login-address:" + (request.remote_addr or "unknown")


def _login_failed(response: Response) -> bool:
    return request.method == "POST" and response.status_code != 302


def _login_locked(limit: RequestLimit) -> Response:
    """The lockout answer: the sign-in page again, with a clear message and 429."""
    record_lockout(request.form.get("username"), limit)
    form = LoginForm()
    minutes = max(1, round((limit.reset_at - time.time()) / 60)) if limit.reset_at else 15
    message = _(
        "Too many failed sign-in attempts. Sign-in is locked for this account or address; "
        "try again in %(minutes)d minutes or ask an administrator.",
        minutes=minutes,
    )
    response = current_app.make_response((render_template("accounts/login.html", form=form, locked=message), 429))
    response.headers["Retry-After"] = str(minutes * 60)
    return response


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("tickets.index")


@bp.route("/login", methods=["GET", "POST"])
@sign_in_lockout(lambda: request.form.get("username"), _login_failed, on_breach=_login_locked)
@limiter.limit(
    lambda: current_app.config.get("LOGIN_LIMIT_ADDRESS", LOGIN_LIMIT_ADDRESS),
    key_func=_login_address_key,
    methods=["POST"],
    deduct_when=_login_failed,
    on_breach=_login_locked,
    scope="login-address",
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("tickets.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user is None:
            flash(_("Wrong username or password."), "danger")
            current_app.logger.info(
                "failed sign-in for %r from %s", (form.username.data or "")[:64], request.remote_addr
            )
        else:
            db.session.commit()
            session.clear()  # a fresh session on login: no fixation
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign-out ends the session and the remember cookie here and every copy of them elsewhere (a shared
    office PC: the next person must not be signed back in). The session is cleared before ``logout_user``,
    which leaves its instruction to delete the remember cookie in the session."""
    if current_user.is_authenticated:
        sign_out(current_user._get_current_object())
        db.session.commit()
    session.clear()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code):
    """The language switch: kept in a cookie of its own (sign-in and sign-out start a new session) and, for a
    signed-in user, as the account's preference (another browser starts in it)."""
    response = redirect(_safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path))
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        response.set_cookie(
            LANGUAGE_COOKIE,
            code,
            max_age=LANGUAGE_COOKIE_DAYS * 86400,
            httponly=True,
            samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
        if current_user.is_authenticated:
            choose_language(current_user._get_current_object(), code)
            db.session.commit()
    return response


# --- the signed-in user's own account ----------------------------------------------------------------------

# What a user who must choose a new password may still reach (docs/security.md).
PASSWORD_CHANGE_EXEMPT = frozenset(
    {"accounts.change_password", "accounts.logout", "accounts.set_language", "static", "bootstrap.static"}
)


@bp.before_app_request
def require_password_change():
    """After an admin's reset the user chooses a new password before anything else."""
    if request.endpoint in PASSWORD_CHANGE_EXEMPT or request.path.startswith(("/api/", "/open311/")):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("accounts.change_password"))
    return None


@bp.route("/account")
@login_required
def account():
    return render_template("accounts/account.html", form=ConfirmForm())


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_own_password(current_user, form.current_password.data, form.new_password.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            add_errors(form, exc, "new_password")
        else:
            # This session carries on under the new session version; every other one has ended.
            remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            login_user(current_user._get_current_object(), remember=remember)
            flash(_("Your password has been changed. Other sessions have been signed out."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/password.html", form=form), 400 if form.errors else 200


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere_view():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sign_out_everywhere(current_user)
    db.session.commit()
    logout_user()
    flash(_("You have been signed out on every device."), "info")
    return redirect(url_for("accounts.login"))
