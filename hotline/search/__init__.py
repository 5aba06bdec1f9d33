"""Chinese search over tickets, duplicate detection and smart dispatch (jieba + PostgreSQL FTS / SQLite FTS5).

``register(app)`` wires the search and knowledge pages, the knowledge base's template helpers (pure: the
duplicates, routing suggestions and policy hints a page shows are loaded by its view), and the ``search`` /
``routing`` commands.
"""

from __future__ import annotations


def register(app) -> None:
    from hotline.knowledge.services import quoted_text
    from hotline.knowledge.views import bp as knowledge_bp
    from hotline.knowledge.views import public_bp as faq_bp
    from hotline.search.cli import routing_cli, search_cli
    from hotline.search.views import bp as search_bp

    app.register_blueprint(search_bp)
    app.register_blueprint(knowledge_bp)
    app.register_blueprint(faq_bp)
    app.cli.add_command(search_cli)
    app.cli.add_command(routing_cli)
    app.jinja_env.globals.update(
        kb_quote=quoted_text,
        kb_state_label=_state_label,
        kb_state_badge=_state_badge,
    )


def _state_label(state: str) -> str:
    from flask_babel import gettext as _

    return {"draft": _("Draft"), "published": _("Published"), "retired": _("Retired")}.get(state, state)


def _state_badge(state: str):
    from markupsafe import Markup

    css = {"draft": "text-bg-secondary", "published": "text-bg-success", "retired": "text-bg-light border"}
    return Markup('<span class="badge %s">%s</span>') % (css.get(state, "text-bg-light"), _state_label(state))
