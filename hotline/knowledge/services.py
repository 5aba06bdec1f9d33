"""Knowledge base rules: editing and review (draft → published → retired), finding articles for an
appeal's text, and recording which article an answer used.

An article inserted into an answer carries its reference (``KB-0003``); when the answer is recorded
(``answer_directly`` or ``reply`` events), the references found in its text are stored in the event's
``data["knowledge_articles"]`` (a list of article ids), which the dashboard reads.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, or_, select
from sqlalchemy.orm import Session, UOWTransaction

from hotline.accounts.models import User
from hotline.core import privacy
from hotline.core.clock import to_local, utcnow
from hotline.core.errors import PermissionDenied, ValidationFailed
from hotline.core.i18n import in_default_language
from hotline.extensions import db
from hotline.knowledge.models import ArticleState, KnowledgeArticle
from hotline.permissions import can_administer
from hotline.search.segment import document_tokens, query_tokens
from hotline.tickets.models import Category, Ticket, TicketEvent
from hotline.tickets.services import on_new_ticket

REFERENCE = re.compile(r"KB-(\d{4,})")
USE_ACTIONS = frozenset({"answer_directly", "reply"})
USE_FIELD = "knowledge_articles"
TRANSITIONS = {
    "publish": ({ArticleState.DRAFT, ArticleState.RETIRED}, ArticleState.PUBLISHED),
    "retire": ({ArticleState.PUBLISHED}, ArticleState.RETIRED),
    "unpublish": ({ArticleState.PUBLISHED}, ArticleState.DRAFT),
}


def _require_admin(actor: User) -> None:
    if not can_administer(actor):
        raise PermissionDenied(_l("Only administrators edit the knowledge base."))


@dataclass
class ArticleInput:
    title: str
    body: str
    kind: str = "policy"
    question: str | None = None
    source: str | None = None
    category_id: int | None = None
    effective_from: date | None = None
    effective_until: date | None = None


def _validate(data: ArticleInput) -> None:
    if not (data.title or "").strip():
        raise ValidationFailed(_l("A title is required."), field="title")
    if not (data.body or "").strip():
        raise ValidationFailed(_l("The explanation is required."), field="body")
    if data.kind not in ("policy", "faq"):
        raise ValidationFailed(_l("Unknown article kind."), field="kind")
    if data.effective_from and data.effective_until and data.effective_until < data.effective_from:
        raise ValidationFailed(_l("The end date is before the start date."), field="effective_until")


def save_article(data: ArticleInput, actor: User, article: KnowledgeArticle | None = None) -> KnowledgeArticle:
    """Create a draft, or change an article (a published one stays published)."""
    _require_admin(actor)
    _validate(data)
    if article is None:
        article = KnowledgeArticle(state=ArticleState.DRAFT.value, created_at=utcnow())
        db.session.add(article)
    for name, value in vars(data).items():
        setattr(article, name, value.strip() if isinstance(value, str) else value)
    article.updated_by_id = actor.id
    article.updated_at = utcnow()
    db.session.flush()
    return article


def change_state(article: KnowledgeArticle, action: str, actor: User) -> KnowledgeArticle:
    _require_admin(actor)
    sources, target = TRANSITIONS.get(action, (set(), None))
    if target is None or ArticleState(article.state) not in sources:
        raise ValidationFailed(_l("This article cannot be changed that way now."))
    article.state = target.value
    if target is ArticleState.PUBLISHED:
        article.published_at = utcnow()
    article.updated_by_id = actor.id
    db.session.flush()
    return article


def in_force(today: date | None = None) -> Select[tuple[KnowledgeArticle]]:
    """Published articles whose effective period includes today (Asia/Shanghai)."""
    today = today or to_local(utcnow()).date()
    return select(KnowledgeArticle).where(
        KnowledgeArticle.state == ArticleState.PUBLISHED.value,
        or_(KnowledgeArticle.effective_from.is_(None), KnowledgeArticle.effective_from <= today),
        or_(KnowledgeArticle.effective_until.is_(None), KnowledgeArticle.effective_until >= today),
    )


@dataclass(frozen=True)
class PublicArticle:
    """An article as the public FAQ shows it: every text through the shared scrubber (hotline.core.privacy),
    so a case pasted into an explanation never publishes the citizen's name, number or house."""

    id: int
    title: str
    question: str | None
    body: str
    source: str | None
    effective_from: date | None
    effective_until: date | None


def public_article(article: KnowledgeArticle) -> PublicArticle:
    scrub = privacy.scrub_text
    return PublicArticle(
        id=article.id,
        title=scrub(article.title),
        body=scrub(article.body),
        question=scrub(article.question) or None,
        source=scrub(article.source) or None,
        effective_from=article.effective_from,
        effective_until=article.effective_until,
    )


@dataclass
class ArticleHit:
    article: KnowledgeArticle
    score: float


# Words of an appeal that say who or where, or how the caller asks, not what the matter is: an elevator
# complaint names the 物业 and the 小区 as often as a fee complaint does. They never make a hint relevant.
HINT_GENERIC = frozenset(
    """
小区 物业 物业公司 公司 业主 居民 住户 邻居 来电 来电人 市民 群众 老人 孩子 家里 家人 家中 本人 自己 大家 老板
社区 街道 政府 部门 相关 单位 工作人员 人员 门口 附近 周边 楼下 楼道 单元 房子 地方 情况 事情 东西
处理 解决 协调 帮助 帮忙 联系 反馈 核实 核查 督促 尽快 及时 马上 一直 多次 经常 总是 现在 目前 至今 今年 去年
最近 晚上 每天 已经 还是 没人 无人 不管 没有 导致 影响 严重 困难 很大 一下 一些 这种 那种 这样 怎样 为什么 生活
咨询 投诉 举报 申请 办理 需要 哪些 哪里 哪个 找谁 知道 了解 想问 问问 是不是 合理 合法 应该 不能 不让 不给
规定 条件 流程 材料 手续 时间 多长 多久 多少 一个 一个月 两个 几个
""".split()
)
# A hint must share at least this many of its topic words (title and question) with the appeal; an article
# filed under another group of categories than the ticket needs one more.
HINT_MIN_TOPIC_WORDS = 1


def _hint_words(text: str) -> set[str]:
    return {w for w in document_tokens(text) if len(w) > 1 and w not in HINT_GENERIC}


def _category_groups() -> dict[int, int]:
    """Category id → the id of its top-level group (itself for a group)."""
    rows = db.session.execute(select(Category.id, Category.parent_id)).all()
    parents: dict[int, int | None] = {category_id: parent_id for category_id, parent_id in rows}
    out = {}
    for category_id, _parent_id in rows:
        top, seen = category_id, set()
        while (parent_id := parents.get(top)) and top not in seen:
            seen.add(top)
            top = parent_id
        out[category_id] = top
    return out


def find_articles(
    text: str, category_id: int | None = None, limit: int = 5, *, whole_text: bool = False, include_drafts: bool = False
) -> list[ArticleHit]:
    """Articles in force ranked by BM25 over their segmented title, question and body.

    A typed query (``whole_text=False``) must match every word. An appeal's text (``whole_text=True``, the
    hints beside a ticket and in the console) is held to a relevance floor instead, since no hint is better
    than a wrong one: what the article is about (its title and question) must share a word with the appeal
    that names the matter (not 小区, 物业, 申请: ``HINT_GENERIC``), and two such words when the article is
    filed under another group of categories than the ticket; words found only in an article's body rank but
    never qualify it. The ticket's own category ranks first. The knowledge base is small (hundreds of
    articles): ranking in Python keeps both back ends equal."""
    words = _hint_words(text) if whole_text else set(query_tokens(text))
    if not words:
        return []
    query = select(KnowledgeArticle) if include_drafts else in_force()
    articles = list(db.session.execute(query).scalars())
    docs = [
        Counter(document_tokens(" ".join(p for p in (a.title, a.title, a.question, a.body) if p))) for a in articles
    ]
    groups = _category_groups() if whole_text and category_id else {}
    n = len(docs) or 1
    avg = sum(sum(d.values()) for d in docs) / n or 1
    df = Counter(w for d in docs for w in set(d))
    hits = []
    for article, doc in zip(articles, docs):
        matched = [w for w in words if w in doc]
        if not matched or (not whole_text and len(matched) < len(words)):
            continue
        if whole_text:
            topic = words & set(document_tokens(f"{article.title} {article.question or ''}"))
            needed = HINT_MIN_TOPIC_WORDS
            if category_id and article.category_id and groups.get(article.category_id) != groups.get(category_id):
                needed += 1
            if len(topic) < needed:
                continue
        length = sum(doc.values())
        score = sum(
            math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
            * doc[w]
            * 2.2
            / (doc[w] + 1.2 * (0.25 + 0.75 * length / avg))
            for w in matched
        )
        if category_id and article.category_id == category_id:
            score *= 1.5
        hits.append(ArticleHit(article, round(score, 2)))
    hits.sort(key=lambda h: (-h.score, h.article.id))
    return hits[:limit]


def hints_for_ticket(ticket: Ticket, limit: int = 3) -> list[ArticleHit]:
    """The policy explanations offered beside a ticket's answer form."""
    return find_articles(f"{ticket.title} {ticket.body}", ticket.category_id, limit=limit, whole_text=True)


def quoted_text(article: KnowledgeArticle) -> str:
    """What the console inserts into an answer: the explanation with its reference."""
    source = f"《{article.source}》" if article.source else ""
    basis = _l("(Basis: %(source)s policy interpretation %(reference)s)", source=source, reference=article.reference)
    return f"{article.body.strip()}\n{in_default_language(basis)}"


# --- recording use ------------------------------------------------------------------------------------------


def referenced_article_ids(value: str | None) -> list[int]:
    return sorted({int(m) for m in REFERENCE.findall(value or "")})


def _with_articles_used(session: Session, data: dict[str, Any] | None, text: str | None) -> dict[str, Any] | None:
    """The event data with the articles quoted as KB-nnnn in ``text`` that exist."""
    ids = referenced_article_ids(text)
    if ids:
        with session.no_autoflush:
            known = sorted(session.execute(select(KnowledgeArticle.id).where(KnowledgeArticle.id.in_(ids))).scalars())
        if known:
            return {**(data or {}), USE_FIELD: known}
    return data


@event.listens_for(Session, "before_flush")
def _record_article_use(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    """An answer that quotes KB-nnnn records the article on its (new, append-only) event."""
    for obj in session.new:
        if isinstance(obj, TicketEvent) and obj.action in USE_ACTIONS:
            text = obj.note
            if obj.action == "reply" and obj.ticket is not None and obj.ticket.replies:
                text = obj.ticket.replies[-1].body
            data = _with_articles_used(session, obj.data, text)
            if data is not obj.data:
                obj.data = data


@on_new_ticket
def _record_article_use_at_intake(ticket: Ticket, first_event: dict[str, Any]) -> None:
    """The same for a ticket answered directly when registered (its first event is written without a flush)."""
    if first_event["action"] in USE_ACTIONS:
        first_event["data"] = _with_articles_used(db.session(), first_event["data"], first_event["note"])


# --- demo ---------------------------------------------------------------------------------------------------


def seed_demo_articles() -> int:
    """About ten realistic published articles for the demo city (idempotent by title)."""
    from hotline.knowledge.demo import ARTICLES

    codes = {c.code: c.id for c in db.session.execute(select(Category)).scalars()}
    titles = set(db.session.execute(select(KnowledgeArticle.title)).scalars())
    added = 0
    for item in ARTICLES:
        if item["title"] in titles:
            continue
        now = utcnow()
        db.session.add(
            KnowledgeArticle(
                kind=item.get("kind", "policy"),
                title=item["title"],
                question=item.get("question"),
                body=item["body"],
                source=item.get("source"),
                category_id=codes.get(item["category"]),
                effective_from=item.get("effective_from"),
                effective_until=item.get("effective_until"),
                state=item.get("state", ArticleState.PUBLISHED.value),
                created_at=now,
                updated_at=now,
                published_at=now if item.get("state", "published") == "published" else None,
            )
        )
        added += 1
    db.session.flush()
    return added
