"""Ticket search and duplicate detection over the segmented index (``ticket_search``).

The index follows the tickets in the same transaction: a ``before_flush`` listener rewrites a ticket's
row whenever the ticket is new, its title, body or address changed, or one of its answers was
released. Bulk loads that bypass the ORM rebuild it with ``reindex`` (``flask search reindex``).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

from markupsafe import Markup, escape
from sqlalchemy import and_, event, func, literal_column, or_, select, text
from sqlalchemy.orm import Session, attributes

from hotline.accounts.models import User
from hotline.core.clock import utcnow
from hotline.extensions import db
from hotline.search.models import TicketSearch
from hotline.search.schema import FTS_TABLE
from hotline.search.segment import document_text, query_tokens, token_set
from hotline.tickets.models import Reply, Ticket
from hotline.tickets.workflow import OPEN_STATUSES

DUPLICATE_WINDOW = timedelta(days=30)
DUPLICATE_MIN_SCORE = 0.45
RANK_WINDOW = 1000
COUNT_CAP = 1000
_TEXT_FIELDS = ("title", "body", "address")


# --- keeping the index in step ------------------------------------------------------------------------------

def ticket_document(ticket: Ticket) -> str:
    answers = [r.body for r in ticket.replies if r.released_at is not None]
    return document_text(ticket.title, ticket.body, ticket.address, *answers)


def index_ticket(ticket: Ticket, session: Session | None = None) -> TicketSearch:
    """Write (or rewrite) the ticket's index row; the caller's flush stores it."""
    session = session or db.session()
    with session.no_autoflush:
        row = session.get(TicketSearch, ticket.id) if ticket.id is not None else None
        document = ticket_document(ticket)
    if row is None:
        row = TicketSearch(ticket=ticket, document=document)  # the flush gives it the new ticket's id
        session.add(row)
    elif row.document != document:
        row.document = document
    return row


def _text_changed(ticket: Ticket) -> bool:
    state = attributes.instance_state(ticket)
    return any(state.attrs[name].history.has_changes() for name in _TEXT_FIELDS)


@event.listens_for(Session, "before_flush")
def _index_changed_tickets(session: Session, flush_context, instances) -> None:
    tickets: dict[int, Ticket] = {}
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Ticket) and (obj in session.new or _text_changed(obj)):
            tickets[id(obj)] = obj
        elif isinstance(obj, Reply) and obj.released_at is not None and obj.ticket is not None:
            if obj in session.new or attributes.instance_state(obj).attrs.released_at.history.has_changes():
                tickets[id(obj.ticket)] = obj.ticket
    for ticket in tickets.values():
        index_ticket(ticket, session)


def reindex(batch: int = 2000, progress=None) -> int:
    """Rebuild every ticket's index row (after a bulk load). Flushes per batch; the caller commits."""
    from hotline.search.bulk import rebuild
    return rebuild(batch=batch, progress=progress)


# --- search -------------------------------------------------------------------------------------------------

@dataclass
class SearchFilters:
    status: str | None = None
    unit_id: int | None = None
    category_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class Hit:
    ticket: Ticket
    score: float
    snippet: Markup
    title: Markup


@dataclass
class SearchPage:
    query: str
    tokens: tuple[str, ...]
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 20

    @property
    def pages(self) -> int:
        return max(1, math.ceil(min(self.total, RANK_WINDOW) / self.per_page))

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def match_clause(tokens: Sequence[str]):
    """(where-clause on ticket_search, rank expression: higher is better) for the current back end."""
    if _dialect() == "postgresql":
        query = func.plainto_tsquery(literal_column("'simple'::regconfig"), " ".join(tokens))
        tsv = literal_column("ticket_search.tsv")
        return tsv.op("@@")(query), func.ts_rank_cd(tsv, query)
    fts = " AND ".join('"' + t.replace('"', '""') + '"' for t in tokens)
    matched = select(literal_column("rowid").label("id"), literal_column("bm25(%s)" % FTS_TABLE).label("r")) \
        .select_from(text(FTS_TABLE)).where(text(f"{FTS_TABLE} MATCH :fts").bindparams(fts=fts)).subquery("fts")
    return matched, -matched.c.r


def matching_ticket_ids(q: str):
    """A subquery of the ids of tickets matching every word of ``q`` (for filters elsewhere, e.g. the API)."""
    tokens = query_tokens((q or "").strip()[:200])
    if not tokens:
        return None
    clause, _ = match_clause(tokens)
    if _dialect() == "postgresql":
        return select(TicketSearch.ticket_id).where(clause)
    return select(clause.c.id)


def _scope_and_filters(query, user: User | None, filters: SearchFilters):
    if user is not None:
        from hotline.tickets.queries import visible_tickets
        scope = visible_tickets(user).whereclause
        if scope is not None:  # None: city-wide hotline staff see everything
            query = query.where(scope)
    if filters.status:
        query = query.where(Ticket.status == filters.status)
    if filters.unit_id:
        query = query.where(Ticket.lead_unit_id == filters.unit_id)
    if filters.category_id:
        from hotline.tickets.models import Category
        children = select(Category.id).where(Category.parent_id == filters.category_id)
        query = query.where(or_(Ticket.category_id == filters.category_id, Ticket.category_id.in_(children)))
    if filters.date_from:
        query = query.where(Ticket.created_at >= datetime.combine(filters.date_from, datetime.min.time()))
    if filters.date_to:
        query = query.where(Ticket.created_at < datetime.combine(filters.date_to + timedelta(days=1),
                                                                 datetime.min.time()))
    return query


def search_tickets(q: str, user: User | None = None, filters: SearchFilters | None = None, *, page: int = 1,
                   per_page: int = 20, count: bool = True) -> SearchPage:
    """Tickets matching every word of ``q`` (segmented), best first, limited to what ``user`` may see."""
    filters = filters or SearchFilters()
    tokens = query_tokens((q or "").strip()[:200])
    result = SearchPage(query=q or "", tokens=tokens, page=max(page, 1), per_page=per_page)
    if not tokens:
        return result
    clause, rank = match_clause(tokens)
    if _dialect() == "postgresql":
        tsv = literal_column("ticket_search.tsv")
        base = select(Ticket.id.label("id"), tsv.label("tsv")).join(TicketSearch, TicketSearch.ticket_id == Ticket.id) \
            .where(clause)
    else:
        base = select(Ticket.id.label("id"), rank.label("rank")).join(clause, clause.c.id == Ticket.id)
    base = _scope_and_filters(base, user, filters)
    # Rank the newest RANK_WINDOW matches only: ranking costs a little per matching row, and a common
    # word matches tens of thousands of tickets at a million; filters narrow the window.
    window = base.order_by(Ticket.id.desc()).limit(RANK_WINDOW).subquery("window")
    if _dialect() == "postgresql":
        query = func.plainto_tsquery(literal_column("'simple'::regconfig"), " ".join(tokens))
        score = func.ts_rank_cd(window.c.tsv, query)
    else:
        score = window.c.rank
    rows = db.session.execute(select(window.c.id, score.label("score"))
                              .order_by(literal_column("score").desc(), window.c.id.desc())
                              .limit(per_page).offset((result.page - 1) * per_page)).all()
    if count:  # counted up to COUNT_CAP (the page says "1000+")
        capped = base.with_only_columns(Ticket.id).limit(COUNT_CAP + 1).subquery()
        result.total = db.session.execute(select(func.count()).select_from(capped)).scalar_one()
    tickets = {t.id: t for t in db.session.execute(select(Ticket).where(Ticket.id.in_([r[0] for r in rows])))
               .scalars()}
    for ticket_id, score in rows:
        ticket = tickets[ticket_id]
        result.hits.append(Hit(ticket=ticket, score=float(score or 0), title=highlight(ticket.title, tokens),
                               snippet=snippet(ticket_snippet_text(ticket), tokens)))
    return result


def ticket_snippet_text(ticket: Ticket) -> str:
    return " ".join(p for p in (ticket.body, ticket.address) if p)


# --- highlighting ---------------------------------------------------------------------------------------------

def _pattern(tokens: Iterable[str]) -> re.Pattern | None:
    words = sorted({t for t in tokens if t}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None


def highlight(value: str | None, tokens: Iterable[str]) -> Markup:
    """The text, HTML-escaped, with each query word wrapped in <mark>."""
    value = value or ""
    pattern = _pattern(tokens)
    if pattern is None:
        return Markup(escape(value))
    out, last = [], 0
    for m in pattern.finditer(value):
        out.append(escape(value[last:m.start()]))
        out.append(Markup("<mark>%s</mark>") % m.group(0))
        last = m.end()
    out.append(escape(value[last:]))
    return Markup("").join(out)


def snippet(value: str | None, tokens: Iterable[str], width: int = 90) -> Markup:
    """A window of about ``width`` characters around the first match, escaped and highlighted."""
    value = " ".join((value or "").split())
    pattern = _pattern(tokens)
    first = pattern.search(value) if pattern else None
    start = max(0, (first.start() if first else 0) - width // 3)
    piece = value[start:start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(value) else ""
    return Markup(prefix) + highlight(piece, tokens) + Markup(suffix)


# --- duplicates (并单 support) --------------------------------------------------------------------------------

@dataclass
class Duplicate:
    ticket: Ticket
    reason: str    # "phone", "text" or "phone+text"
    score: float   # 0..1


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine similarity of two token sets (|A∩B| / √(|A|·|B|))."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def appeal_tokens(title: str | None, body: str | None, address: str | None = None) -> frozenset[str]:
    return token_set(" ".join(p for p in (title, body, address) if p))


def _open_recent(now: datetime):
    return and_(Ticket.status.in_([s.value for s in OPEN_STATUSES]), Ticket.merged_into_id.is_(None),
                Ticket.created_at >= now - DUPLICATE_WINDOW)


def find_duplicates(*, phone: str | None, category_id: int | None, district_id: int | None,
                    title: str | None, body: str | None, address: str | None = None,
                    exclude_id: int | None = None, limit: int = 5, candidates: int = 200) -> list[Duplicate]:
    """Open tickets of the last 30 days that look like the same appeal: the same phone, or similar text
    in the same category and district. Two indexed queries; at most ``candidates`` texts compared."""
    now = utcnow()
    found: dict[int, Duplicate] = {}
    if phone:
        q = select(Ticket).where(Ticket.citizen_phone == phone, _open_recent(now)) \
            .order_by(Ticket.created_at.desc()).limit(limit)
        for t in db.session.execute(q).scalars():
            if t.id != exclude_id:
                found[t.id] = Duplicate(t, "phone", 1.0)
    mine = appeal_tokens(title, body, address)
    if category_id and district_id and mine:
        q = (select(Ticket.id, TicketSearch.document).join(TicketSearch, TicketSearch.ticket_id == Ticket.id)
             .where(Ticket.category_id == category_id, Ticket.district_id == district_id, _open_recent(now))
             .order_by(Ticket.created_at.desc()).limit(candidates))
        scored = []
        for ticket_id, document in db.session.execute(q):
            if ticket_id == exclude_id:
                continue
            score = similarity(mine, frozenset(document.split()))
            if score >= DUPLICATE_MIN_SCORE:
                scored.append((score, ticket_id))
        scored.sort(reverse=True)
        top = scored[:limit]
        tickets = {t.id: t for t in db.session.execute(select(Ticket).where(
            Ticket.id.in_([i for _, i in top]))).scalars()} if top else {}
        for score, ticket_id in top:
            if ticket_id in found:
                found[ticket_id] = Duplicate(found[ticket_id].ticket, "phone+text", 1.0)
            else:
                found[ticket_id] = Duplicate(tickets[ticket_id], "text", round(score, 2))
    return sorted(found.values(), key=lambda d: (-d.score, -d.ticket.id))[:limit]


def duplicates_of(ticket: Ticket, limit: int = 5) -> list[Duplicate]:
    """Earlier open tickets the dispatcher could merge ``ticket`` into (never a later one)."""
    found = find_duplicates(phone=ticket.citizen_phone, category_id=ticket.category_id,
                            district_id=ticket.district_id, title=ticket.title, body=ticket.body,
                            address=ticket.address, exclude_id=ticket.id, limit=limit + 5)
    return [d for d in found if d.ticket.created_at <= ticket.created_at and d.ticket.id != ticket.id][:limit]


def duplicates_for_queue(tickets: Sequence[Ticket], limit: int = 3) -> dict[int, list[Duplicate]]:
    """``duplicates_of`` for a whole queue in two queries (the dispatch desk)."""
    if not tickets:
        return {}
    now = utcnow()
    pairs = {(t.category_id, t.district_id) for t in tickets if t.category_id and t.district_id}
    phones = {t.citizen_phone for t in tickets if t.citizen_phone}
    conditions = [Ticket.citizen_phone.in_(phones)] if phones else []
    conditions += [and_(Ticket.category_id == c, Ticket.district_id == d) for c, d in pairs]
    if not conditions:
        return {}
    rows = db.session.execute(
        select(Ticket, TicketSearch.document).outerjoin(TicketSearch, TicketSearch.ticket_id == Ticket.id)
        .where(or_(*conditions), _open_recent(now)).order_by(Ticket.created_at.desc()).limit(5000)).all()
    out: dict[int, list[Duplicate]] = {}
    for t in tickets:
        mine = appeal_tokens(t.title, t.body, t.address)
        found = []
        for other, document in rows:
            if other.id == t.id or other.created_at > t.created_at:
                continue
            same_phone = other.citizen_phone == t.citizen_phone
            score = 0.0
            if other.category_id == t.category_id and other.district_id == t.district_id and document:
                score = similarity(mine, frozenset(document.split()))
            if same_phone:
                found.append(Duplicate(other, "phone+text" if score >= DUPLICATE_MIN_SCORE else "phone", 1.0))
            elif score >= DUPLICATE_MIN_SCORE:
                found.append(Duplicate(other, "text", round(score, 2)))
        found.sort(key=lambda d: (-d.score, -d.ticket.id))
        if found:
            out[t.id] = found[:limit]
    return out
