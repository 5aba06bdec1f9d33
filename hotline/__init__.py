"""The hotline application factory: wires extensions, blueprints, error handlers and commands."""

from __future__ import annotations

import os

from flask import Flask, Response, g, render_template, request, session
from flask_login import current_user

from config import CONFIGS, INSTANCE_DIR, refuse_development_on_postgresql, sqlalchemy_url


def create_app(config: str | type | None = None, **overrides) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="static", instance_path=str(INSTANCE_DIR))
    config_cls = (
        CONFIGS[config or os.environ.get("HOTLINE_CONFIG", "development")] if not isinstance(config, type) else config
    )
    app.config.from_object(config_cls() if config_cls.__name__ == "ProductionConfig" else config_cls)
    app.config.from_prefixed_env("HOTLINE")  # any setting from the environment: HOTLINE_<NAME>=<json or text>
    app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config.get("DATABASE_REPLICA_URL"):
        from hotline.core.replica import engine_options

        app.config["SQLALCHEMY_BINDS"] = {"replica": engine_options(app.config["DATABASE_REPLICA_URL"])}
    refuse_development_on_postgresql(
        app.config["SQLALCHEMY_DATABASE_URI"], config_chosen=config is not None or "HOTLINE_CONFIG" in os.environ
    )
    from hotline.sms.providers import check_sms_config

    check_sms_config(app.config)  # a mistyped SMS_GATEWAY or missing credentials stop the start, not each SMS
    os.makedirs(app.instance_path, exist_ok=True)

    if app.config.get("PROXY_COUNT"):  # behind nginx: the client's address and scheme come from X-Forwarded-*
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap its WSGI app
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )
    _init_extensions(app)
    from hotline.core.params import install_converters, refuse_unstorable_input

    install_converters(app)  # before any rule binds its converters: <int:> holds only storable ids
    app.before_request(refuse_unstorable_input)  # NUL, control characters, lone surrogates (issue 23.5)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_template_helpers(app)
    _register_commands(app)
    from hotline.core.security import init_security  # CSP and hardening headers (docs/security.md)

    init_security(app)
    return app


def _init_extensions(app: Flask) -> None:
    from hotline import models  # noqa: F401  (every model registered before anything maps)
    from hotline.celery import celery_init_app
    from hotline.extensions import babel, bootstrap, csrf, db, limiter, login_manager, mail, migrate

    db.init_app(app)
    if app.config.get("DATABASE_REPLICA_URL"):
        from hotline.core.replica import listen

        with app.app_context():
            listen(db.engines["replica"])
    from hotline.core import transactions

    transactions.init_app(app)
    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    bootstrap.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app, locale_selector=_select_locale, default_translation_directories=os.path.join(app.root_path, "translations")
    )
    from hotline.core import i18n

    i18n.install(app)
    i18n.warn_if_not_compiled(app, os.path.join(app.root_path, "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "warning"
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please sign in to see this page.")

    @login_manager.user_loader
    def load_user(identity: str):
        from hotline.accounts.services import user_for_session

        return user_for_session(identity)

    celery_init_app(app)
    from hotline.cti import bus as cti_bus

    cti_bus.init_app(app)


def _select_locale() -> str:
    from flask import current_app, has_request_context

    from hotline.core.i18n import LANGUAGE_COOKIE

    wanted = None
    if has_request_context():  # CLI and tasks speak the default language
        # This browser's choice (kept in its own cookie, so signing in or out, which clears the session,
        # keeps it), else the signed-in user's saved preference.
        wanted = (
            session.get("lang")
            or request.cookies.get(LANGUAGE_COOKIE)
            or (current_user.is_authenticated and current_user.locale)
            or None
        )
    if isinstance(wanted, str) and wanted in current_app.config["LANGUAGES"]:
        return wanted
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _register_blueprints(app: Flask) -> None:
    from hotline.accounts.views import bp as accounts_bp
    from hotline.intake.views import bp as intake_bp
    from hotline.public.views import bp as public_bp
    from hotline.tickets.catalogue import bp as catalogue_bp
    from hotline.tickets.queues import bp as queues_bp
    from hotline.tickets.views import bp as tickets_bp

    app.register_blueprint(accounts_bp)
    from hotline.core.health import bp as health_bp  # /healthz and /readyz for load balancers and monitoring

    app.register_blueprint(health_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(intake_bp)
    from hotline.cti.views import bp as cti_bp  # the console's screen pop

    app.register_blueprint(cti_bp)
    app.register_blueprint(queues_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(tickets_bp)
    from hotline.notify.views import bp as notify_bp
    from hotline.sla.views import bp as sla_bp

    app.register_blueprint(sla_bp)
    app.register_blueprint(notify_bp)
    from hotline.accountability.views import bp as accountability_bp  # 责任追究

    app.register_blueprint(accountability_bp)
    # The machine channels: JSON API (flask-smorest, OpenAPI) and Open311; no cookies, so no CSRF.
    from hotline.api import init_api
    from hotline.extensions import csrf
    from hotline.open311.views import bp as open311_bp

    init_api(app)
    app.register_blueprint(open311_bp)
    from hotline.dashboard import register as register_dashboard

    register_dashboard(app)
    from hotline.search import register as register_search  # search, smart dispatch, knowledge base

    register_search(app)
    from hotline.opinion import register as register_opinion  # 舆情 cases and their public responses

    register_opinion(app)
    csrf.exempt(open311_bp)
    from hotline.interviews import register as register_interviews  # 在线访谈 / 新闻发布会 (docs/interviews.md)

    register_interviews(app)
    from hotline.admin.audit import bp as audit_bp  # the admins' audit history page

    app.register_blueprint(audit_bp)
    from hotline.archive.views import bp as archive_bp  # the archive of closed tickets: lookup, file, restore

    app.register_blueprint(archive_bp)
    from hotline.admin.views import bp as admin_bp  # users, units, categories, API keys

    app.register_blueprint(admin_bp)
    from hotline.admin.imports import bp as imports_bp  # bulk import and export

    app.register_blueprint(imports_bp)
    from hotline.assessment import register as register_assessment  # 考核: unit assessment (docs/assessment.md)

    register_assessment(app)

    from hotline.evaluation.views import bp as evaluation_bp  # 社会监督评议
    from hotline.evaluation.views import public_bp as evaluation_public_bp

    app.register_blueprint(evaluation_bp)
    app.register_blueprint(evaluation_public_bp)


def _register_error_handlers(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException, ServiceUnavailable

    from hotline.api.errors import machine_error_response
    from hotline.core.errors import RETRY_AFTER_SECONDS, DomainError, database_unavailable
    from hotline.extensions import db, login_manager

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        machine = machine_error_response(exc)  # /api and /open311 never answer with HTML
        if machine is not None:
            return machine
        if exc.response is not None:  # an exception that carries its own page (the sign-in lockout)
            return exc.response
        # abort(400, description=…) says what was wrong; werkzeug's own English descriptions are not shown.
        message = exc.description if exc.description != type(exc).description else None
        retry = {k: v for k, v in exc.get_headers() if k.lower() == "retry-after"}
        return error_page(exc.code or 500, message, headers=retry)  # a bare HTTPException has no code

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        from hotline.core.security import explain_csrf_failure

        explain_csrf_failure(exc.description)  # the deployment's mistake, when it is one: in the log
        return http_error(exc)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        machine = machine_error_response(exc)
        if machine is not None:
            return machine
        return error_page(exc.status_code, str(exc.message))

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        # Never a stack trace to the user; the log keeps it.
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 — a dead connection may refuse even the rollback
            db.session.remove()
        if database_unavailable(exc):
            app.logger.error("database unavailable on %s: %s", request.path, exc)
            # Nothing may touch the database while the page is made: show the visitor as signed out (else
            # Flask-Login loads the user again) and tell clients when to come back.
            g._login_user = login_manager.anonymous_user()
            return http_error(ServiceUnavailable(retry_after=RETRY_AFTER_SECONDS))
        app.logger.exception("unhandled error on %s", request.path)
        machine = machine_error_response(exc)
        if machine is not None:
            return machine
        return error_page(500)


def error_page(code: int, message: str | None = None, headers=None) -> Response:
    """The error page in the site's layout; signed out if the signed-in layout cannot be drawn (its user
    comes from the database); a page that needs nothing at all if even that fails."""
    from flask import current_app

    from hotline.extensions import login_manager

    for attempt in ("as is", "signed out"):
        try:
            if attempt == "signed out":
                g._login_user = login_manager.anonymous_user()
            response = current_app.make_response(render_template("errors/error.html", code=code, message=message))
            break
        except Exception:  # noqa: BLE001 — the error page must not fail
            current_app.logger.exception("the error page failed (%s)", attempt)
    else:
        response = Response(BARE_ERROR_PAGE, mimetype="text/html")
    response.status_code = code
    response.headers.extend(headers or {})
    return response


# Needs no template, translation, user or database: the last answer when the error page cannot be drawn.
BARE_ERROR_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>12345</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em">
<h1>系统暂时无法处理您的请求</h1><p>请稍后再试。诉求可拨打 12345 热线。</p>
<p lang="en">The service cannot answer right now. Please try again in a moment.</p></body></html>"""


def _register_template_helpers(app: Flask) -> None:
    from hotline.core.clock import to_local
    from hotline.tickets.labels import label
    from hotline.tickets.services import mask_phone

    @app.template_filter("local")
    def local_time(moment, fmt="%Y-%m-%d %H:%M"):
        return to_local(moment).strftime(fmt) if moment else ""

    from hotline.core.replica import read_source
    from hotline.core.ui import HELPERS, csrf_token
    from hotline.tickets.ui import HELPERS as TICKET_HELPERS

    app.jinja_env.globals.update(label=label, read_source=read_source, **HELPERS, **TICKET_HELPERS)
    from hotline import permissions

    permissions.register(app)  # the named predicates, so templates ask what a user may do, not which role
    app.jinja_env.filters["mask_phone"] = mask_phone

    @app.context_processor
    def inject_locale():
        from hotline.core.i18n import current_language

        # csrf_token: flask_wtf's context processor (registered earlier) would shadow the global.
        return {"current_locale": current_language(), "languages": app.config["LANGUAGES"], "csrf_token": csrf_token}


def _register_commands(app: Flask) -> None:
    from hotline.accounts.cli import users_cli
    from hotline.demo.cli import seed_demo_command, seed_reference_command

    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo_command)
    from hotline.sla.cli import calendar_cli, sla_cli

    app.cli.add_command(calendar_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(seed_reference_command)
    from hotline.admin.cli import categories_cli, orgs_cli  # and users|routing import/export (issue 20.2)

    app.cli.add_command(orgs_cli)
    app.cli.add_command(categories_cli)
    from hotline.cti.cli import cti_cli

    app.cli.add_command(cti_cli)
    from hotline.sms.cli import sms_cli

    app.cli.add_command(sms_cli)
    from hotline.accountability.cli import accountability_cli

    app.cli.add_command(accountability_cli)
    from hotline.archive.cli import archive_cli

    app.cli.add_command(archive_cli)
    from hotline.tickets.cli import tickets_cli

    app.cli.add_command(tickets_cli)
