"""Knowledge base pages: the admins' editor, the staff reading view and the public FAQ (/faq)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hotline.accounts.decorators import permission_required
from hotline.core.errors import DomainError
from hotline.core.forms import options
from hotline.extensions import db
from hotline.knowledge import services
from hotline.knowledge.forms import ArticleForm
from hotline.knowledge.models import ArticleState, KnowledgeArticle
from hotline.permissions import can_administer, is_staff
from hotline.tickets.models import Category

bp = Blueprint("knowledge", __name__, url_prefix="/knowledge")
public_bp = Blueprint("faq", __name__, url_prefix="/faq")


def _article(article_id: int) -> KnowledgeArticle:
    article = db.session.get(KnowledgeArticle, article_id)
    if article is None:
        abort(404)
    return article


def _categories():
    return (
        db.session.execute(
            select(Category).where(Category.parent_id.is_not(None), Category.active).order_by(Category.code)
        )
        .scalars()
        .all()
    )


@bp.route("/")
@permission_required(is_staff)
def index():
    q = (request.args.get("q") or "").strip()
    state = request.args.get("state") or None
    if q:
        articles = [h.article for h in services.find_articles(q, limit=100, include_drafts=True)]
    else:
        articles = (
            db.session.execute(select(KnowledgeArticle).order_by(KnowledgeArticle.state, KnowledgeArticle.title))
            .scalars()
            .all()
        )
    if state:
        articles = [a for a in articles if a.state == state]
    return render_template("knowledge/index.html", articles=articles, q=q, state=state, states=list(ArticleState))


@bp.route("/<int:article_id>")
@permission_required(is_staff)
def show(article_id):
    return render_template("knowledge/show.html", article=_article(article_id))


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
@permission_required(can_administer)
def edit(article_id=None):
    article = _article(article_id) if article_id else None
    form = ArticleForm(obj=article)
    form.category_id.choices = options([("", _("No category"))] + [(c.id, c.full_name) for c in _categories()])
    if form.validate_on_submit():
        data = services.ArticleInput(
            **{
                name: form[name].data
                for name in (
                    "kind",
                    "title",
                    "question",
                    "body",
                    "source",
                    "category_id",
                    "effective_from",
                    "effective_until",
                )
            }
        )
        try:
            article = services.save_article(data, current_user, article)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            for name, message in exc.fields.items():
                field = form._fields.get(name) or form.body
                field.errors = list(field.errors) + [str(message)]
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".show", article_id=article.id))
    return render_template("knowledge/edit.html", form=form, article=article), 400 if form.errors else 200


@bp.route("/<int:article_id>/<any(publish, retire, unpublish):action>", methods=["POST"])
@permission_required(can_administer)
def change_state(article_id, action):
    article = _article(article_id)
    services.change_state(article, action, current_user)
    db.session.commit()
    flash(_("Done."), "success")
    return redirect(url_for(".show", article_id=article.id))


@public_bp.route("/")
def faq():
    q = (request.args.get("q") or "").strip()
    if q:
        articles = [h.article for h in services.find_articles(q, limit=50)]
    else:
        articles = (
            db.session.execute(services.in_force().order_by(KnowledgeArticle.category_id, KnowledgeArticle.title))
            .scalars()
            .all()
        )
    return render_template("knowledge/faq.html", articles=[services.public_article(a) for a in articles], q=q)


@public_bp.route("/<int:article_id>")
def faq_article(article_id):
    article = db.session.execute(services.in_force().where(KnowledgeArticle.id == article_id)).scalar()
    if article is None:
        abort(404)
    return render_template("knowledge/faq_article.html", article=services.public_article(article))
