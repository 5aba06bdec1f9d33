"""Ticket search and duplicate detection over the segmented index (``ticket_search``).

The index follows the tickets in the same transaction: a ``before_flush`` listener rewrites a ticket's
row whenever the ticket is new, its title, body or address changed, or one of its answers was
released. Bulk loads that bypass the ORM rebuild it with ``reindex`` (``flask search reindex``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Generic, NamedTuple, TypeVar

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    any_,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, UOWTransaction, attributes

from hotline.accounts.models import User
from hotline.core.clock import utcnow
from hotline.core.live import reused_each
from hotline.core.models import table_of
from hotline.extensions import db
from hotline.search.models import TicketSearch
from hotline.search.schema import FTS_TABLE
from hotline.search.segment import document_text, query_tokens, token_set
from hotline.tickets.models import Reply, Ticket
from hotline.tickets.services import on_new_ticket
from hotline.tickets.workflow import OPEN_STATUSES

DUPLICATE_WINDOW = timedelta(days=30)
DUPLICATE_MIN_SCORE = 0.45
RANK_WINDOW = 1000
COUNT_CAP = 1000
_TEXT_FIELDS = ("title", "body", "address")
_Row = TypeVar("_Row", bound=tuple[object, ...])
# Adds conditions on ``Ticket`` (scope, filters) to a statement of matching ticket ids.
Narrow = Callable[[Select[tuple[int]]], Select[tuple[int]]]
# A duplicate candidate of the desk: id, citizen_phone, category_id, district_id, address, created_at, document.
_Candidate = tuple[int, str, int | None, int | None, str | None, datetime, str | None]


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


@on_new_ticket
def _index_new_ticket(ticket: Ticket, first_event: dict[str, Any]) -> None:
    """A ticket registered through ``register_ticket`` (written without a flush) gets its row at once."""
    db.session.execute(
        insert(table_of(TicketSearch)),
        {
            "ticket_id": ticket.id,
            "document": document_text(ticket.title, ticket.body, ticket.address),
            "updated_at": utcnow(),
        },
    )


def _text_changed(ticket: Ticket) -> bool:
    state = attributes.instance_state(ticket)
    return any(state.attrs[name].history.has_changes() for name in _TEXT_FIELDS)


@event.listens_for(Session, "before_flush")
def _index_changed_tickets(session: Session, flush_context: UOWTransaction, instances: Sequence[object] | None) -> None:
    tickets: dict[int, Ticket] = {}
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Ticket) and (obj in session.new or _text_changed(obj)):
            tickets[id(obj)] = obj
        elif isinstance(obj, Reply) and obj.released_at is not None and obj.ticket is not None:
            if obj in session.new or attributes.instance_state(obj).attrs.released_at.history.has_changes():
                tickets[id(obj.ticket)] = obj.ticket
    for ticket in tickets.values():
        index_ticket(ticket, session)


def reindex(batch: int = 2000, progress: Callable[[int], object] | None = None) -> int:
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


def match_clause(tokens: Sequence[str]) -> tuple[Subquery, ColumnElement[float]]:
    """SQLite's FTS5 match (a subquery of ``id``, to join on ``Ticket.id``) and its rank expression (higher is
    better); PostgreSQL matches in ``_pg_window``."""
    fts = " AND ".join('"' + t.replace('"', '""') + '"' for t in tokens)
    matched = (
        select(literal_column("rowid").label("id"), literal_column(f"bm25({FTS_TABLE})").label("r"))
        .select_from(text(FTS_TABLE))
        .where(text(f"{FTS_TABLE} MATCH :fts").bindparams(fts=fts))
        .subquery("fts")
    )
    return matched, -matched.c.r


def newest_matches(q: str, narrow: Narrow | None = None) -> list[int] | None:
    """Ids of the newest tickets matching every word of ``q``, newest first: up to COUNT_CAP + 1 of them
    (more than COUNT_CAP means "1000+"). ``narrow(select)`` adds conditions on ``Ticket`` (scope,
    filters); None when ``q`` has no words. For lists that page by recency (the API's ``?q=``)."""
    tokens = query_tokens((q or "").strip()[:200])
    if not tokens:
        return None
    if _dialect() == "postgresql":
        return _pg_window(tokens, narrow)
    matched, _ = match_clause(tokens)
    query = select(Ticket.id).join(matched, matched.c.id == Ticket.id)
    query = narrow(query) if narrow else query
    return list(db.session.execute(query.order_by(Ticket.id.desc()).limit(COUNT_CAP + 1)).scalars())


def _scope(user: User) -> ColumnElement[bool] | None:
    """The where-clause of what ``user`` may see; None for city-wide hotline staff (everything)."""
    from hotline.permissions import ticket_scope

    return ticket_scope(user)


def _scope_and_filters(query: Select[_Row], user: User | None, filters: SearchFilters) -> Select[_Row]:
    if user is not None:
        scope = _scope(user)
        if scope is not None:
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
        query = query.where(
            Ticket.created_at < datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time())
        )
    return query


def search_tickets(
    q: str,
    user: User | None = None,
    filters: SearchFilters | None = None,
    *,
    page: int = 1,
    per_page: int = 20,
    count: bool = True,
) -> SearchPage:
    """Tickets matching every word of ``q`` (segmented), best first, limited to what ``user`` may see.

    Only the newest RANK_WINDOW matches are ranked (a common word matches tens of thousands of tickets at
    a million); the total is counted up to COUNT_CAP (the page says "1000+")."""
    filters = filters or SearchFilters()
    tokens = query_tokens((q or "").strip()[:200])
    result = SearchPage(query=q or "", tokens=tokens, page=max(page, 1), per_page=per_page)
    if not tokens:
        return result
    if _dialect() == "postgresql":
        narrowed = _has_filters(filters) or (user is not None and _scope(user) is not None)
        window = _pg_window(tokens, (lambda query: _scope_and_filters(query, user, filters)) if narrowed else None)
        result.total = len(window)
        rows = _pg_ranked(tokens, window[:RANK_WINDOW], per_page, (result.page - 1) * per_page)
    else:
        rows, result.total = _sqlite_ranked(tokens, user, filters, per_page, (result.page - 1) * per_page, count)
    tickets = {t.id: t for t in db.session.execute(select(Ticket).where(Ticket.id.in_([r[0] for r in rows]))).scalars()}
    for ticket_id, score in rows:
        ticket = tickets[ticket_id]
        result.hits.append(
            Hit(
                ticket=ticket,
                score=float(score or 0),
                title=highlight(ticket.title, tokens),
                snippet=snippet(ticket_snippet_text(ticket), tokens),
            )
        )
    return result


# PostgreSQL finds the newest matches in id slices, newest first, and stops at the first slice that holds
# more than COUNT_CAP of them. A bitmap scan of the whole GIN index would visit every matching row (70,000
# heap rows for two common words at a million tickets: 250 ms); a slice visits about SLICE_TARGET.
# - The newest RECENT_SCAN rows are read in id order, testing each row's tsvector; the scan stops at the
#   COUNT_CAP + 1st match (common words: a few thousand rows, under 10 ms).
# - Otherwise the rate of matches seen so far sizes the next slice so it should hold SLICE_TARGET matches:
#   the GIN index ANDed with a BRIN id range (ix_ticket_search_recency), then wider, then all. Rarer words
#   make the GIN scan cheaper and jump straight to wide slices; no match at all costs one index probe.
RECENT_SCAN = 30_000
SLICE_TARGET = 1_600


def _tsquery(tokens: Sequence[str]) -> ColumnElement[object]:
    return func.plainto_tsquery(literal_column("'simple'::regconfig"), " ".join(tokens))


def _pg_window(tokens: Sequence[str], narrow: Narrow | None = None) -> list[int]:
    """Ids of up to COUNT_CAP + 1 matching tickets, newest first (fewer only when that is all of them);
    ``narrow`` adds conditions on ``Ticket`` (joined only when given)."""
    limit = max(RANK_WINDOW, COUNT_CAP) + 1
    query = _tsquery(tokens)
    # The best plan depends on how common the words are and on the id floor: never reuse a generic plan
    # (psycopg prepares a statement after five runs, and PostgreSQL may then plan it once for all values).
    db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    newest = db.session.execute(select(func.max(TicketSearch.ticket_id))).scalar() or 0
    # The LIMIT inside keeps PostgreSQL from pushing the match into the subquery (no bitmap scan here).
    recent = (
        select(TicketSearch.ticket_id, literal_column("ticket_search.tsv").label("tsv"))
        .order_by(TicketSearch.ticket_id.desc())
        .limit(RECENT_SCAN)
        .subquery("recent")
    )
    first = select(recent.c.ticket_id).where(recent.c.tsv.op("@@")(query))
    if narrow:
        first = narrow(first.join(Ticket, Ticket.id == recent.c.ticket_id))
    ids = list(db.session.execute(first.order_by(recent.c.ticket_id.desc()).limit(limit)).scalars())
    span = RECENT_SCAN
    while len(ids) < limit and span < newest:
        rate = max(len(ids), 0.5) / span  # matches per id so far (half a match when none was seen)
        span = max(2 * span, int(SLICE_TARGET / rate))
        matched = select(TicketSearch.ticket_id).where(literal_column("ticket_search.tsv").op("@@")(query))
        if span < newest:
            matched = matched.where(TicketSearch.ticket_id > newest - span)
        if narrow:
            matched = narrow(matched.join(Ticket, Ticket.id == TicketSearch.ticket_id))
        ids = list(db.session.execute(matched.order_by(TicketSearch.ticket_id.desc()).limit(limit)).scalars())
    return ids


def _pg_ranked(tokens: Sequence[str], window: list[int], limit: int, offset: int) -> list[tuple[int, float]]:
    """One page of the window, best ts_rank_cd first (newest first among equals)."""
    if not window:
        return []
    score = func.ts_rank_cd(literal_column("ticket_search.tsv"), _tsquery(tokens)).label("score")
    return [
        tuple(r)
        for r in db.session.execute(
            select(TicketSearch.ticket_id, score)
            .where(TicketSearch.ticket_id == any_(bindparam("ids", window, type_=ARRAY(Integer))))
            .order_by(literal_column("score").desc(), TicketSearch.ticket_id.desc())
            .limit(limit)
            .offset(offset)
        )
    ]


def _sqlite_ranked(
    tokens: Sequence[str], user: User | None, filters: SearchFilters, limit: int, offset: int, count: bool
) -> tuple[list[tuple[int, float]], int]:
    """SQLite (development, tests): FTS5 with bm25 over the newest RANK_WINDOW matches, and the capped count."""
    matched, rank = match_clause(tokens)
    base = select(Ticket.id.label("id"), rank.label("rank")).join(matched, matched.c.id == Ticket.id)
    base = _scope_and_filters(base, user, filters)
    window = base.order_by(Ticket.id.desc()).limit(RANK_WINDOW).subquery("window")
    rows = [
        tuple(r)
        for r in db.session.execute(
            select(window.c.id, window.c.rank.label("score"))
            .order_by(literal_column("score").desc(), window.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
    ]
    total = 0
    if count:
        capped = base.with_only_columns(Ticket.id).limit(COUNT_CAP + 1).subquery()
        total = db.session.execute(select(func.count()).select_from(capped)).scalar_one()
    return rows, total


def _has_filters(filters: SearchFilters) -> bool:
    return any(vars(filters).values())


def ticket_snippet_text(ticket: Ticket) -> str:
    return " ".join(p for p in (ticket.body, ticket.address) if p)


# --- highlighting ---------------------------------------------------------------------------------------------


def _pattern(tokens: Iterable[str]) -> re.Pattern[str] | None:
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
        out.append(escape(value[last : m.start()]))
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
    piece = value[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(value) else ""
    return Markup(prefix) + highlight(piece, tokens) + Markup(suffix)


# --- duplicates (并单 support) --------------------------------------------------------------------------------


class TicketRef(NamedTuple):
    """What a duplicate hint shows of the other ticket (``Duplicate.ticket`` on the desk)."""

    id: int
    tracking_no: str
    status: str
    title: str


_Other = TypeVar("_Other", Ticket, TicketRef)


@dataclass
class Duplicate(Generic[_Other]):
    ticket: _Other  # the ticket itself (find_duplicates), a plain TicketRef on the desk (duplicates_for_queue)
    reason: str  # why, "+"-joined in this order: "caller" (and category), "address" (and category), "text"
    score: float  # 0..1: 1 for the same caller or address, the text similarity otherwise

    @property
    def reasons(self) -> list[str]:
        return self.reason.split("+")


def _strongest_first(d: Duplicate[Ticket]) -> tuple[float, int, int]:
    return -d.score, -len(d.reasons), -d.ticket.id


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine similarity of two token sets (|A∩B| / √(|A|·|B|))."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def appeal_tokens(title: str | None, body: str | None, address: str | None = None) -> frozenset[str]:
    return token_set(" ".join(p for p in (title, body, address) if p))


def _open_recent(now: datetime) -> ColumnElement[bool]:
    return _open_since(now - DUPLICATE_WINDOW)


def _open_since(since: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    return and_(
        Ticket.status.in_([s.value for s in OPEN_STATUSES]), Ticket.merged_into_id.is_(None), Ticket.created_at >= since
    )


def find_duplicates(
    *,
    phone: str | None,
    category_id: int | None,
    district_id: int | None,
    title: str | None,
    body: str | None,
    address: str | None = None,
    exclude_id: int | None = None,
    limit: int = 5,
    candidates: int = 200,
) -> list[Duplicate[Ticket]]:
    """Open tickets of the last 30 days that look like the same appeal: the same caller about the same category
    (and district, when known), the same address in the same category, or similar text in the same category and
    district. The caller's other appeals (another category or district) are not duplicates: the console shows
    them as the caller's history. Indexed queries; at most ``candidates`` texts compared. The one duplicate rule
    for the console, the dispatch desk and intake; each candidate once, with every reason it matched."""
    now = utcnow()
    reasons: dict[int, set[str]] = {}
    scores: dict[int, float] = {}
    tickets: dict[int, Ticket] = {}

    def hit(ticket_id: int, reason: str, score: float) -> None:
        if ticket_id != exclude_id:
            reasons.setdefault(ticket_id, set()).add(reason)
            scores[ticket_id] = max(scores.get(ticket_id, 0.0), score)

    exact = []
    if phone and category_id:
        exact.append(
            (
                "caller",
                and_(
                    Ticket.citizen_phone == phone,
                    Ticket.category_id == category_id,
                    *([Ticket.district_id == district_id] if district_id else []),
                ),
            )
        )
    if category_id and address and address.strip():
        exact.append(("address", and_(Ticket.category_id == category_id, Ticket.address == address.strip())))
    for reason, condition in exact:
        for t in db.session.execute(
            select(Ticket).where(condition, _open_recent(now)).order_by(Ticket.created_at.desc()).limit(limit)
        ).scalars():
            tickets[t.id] = t
            hit(t.id, reason, 1.0)
    mine = appeal_tokens(title, body, address)
    if category_id and district_id and mine and (title or body):
        q = (
            select(Ticket.id, TicketSearch.document)
            .join(TicketSearch, TicketSearch.ticket_id == Ticket.id)
            .where(Ticket.category_id == category_id, Ticket.district_id == district_id, _open_recent(now))
            .order_by(Ticket.created_at.desc())
            .limit(candidates)
        )
        scored = sorted(
            (
                (similarity(mine, frozenset(document.split())), ticket_id)
                for ticket_id, document in db.session.execute(q)
            ),
            reverse=True,
        )
        for score, ticket_id in [(sc, i) for sc, i in scored if sc >= DUPLICATE_MIN_SCORE][:limit]:
            hit(ticket_id, "text", round(score, 2))
    missing = [i for i in reasons if i not in tickets]
    if missing:
        tickets.update((t.id, t) for t in db.session.execute(select(Ticket).where(Ticket.id.in_(missing))).scalars())
    order = ("caller", "address", "text")
    found = [Duplicate(tickets[i], "+".join(r for r in order if r in reasons[i]), scores[i]) for i in reasons]
    return sorted(found, key=_strongest_first)[:limit]


def duplicates_of(ticket: Ticket, limit: int = 5) -> list[Duplicate[Ticket]]:
    """Earlier open tickets the dispatcher could merge ``ticket`` into (never a later one)."""
    found = find_duplicates(
        phone=ticket.citizen_phone,
        category_id=ticket.category_id,
        district_id=ticket.district_id,
        title=ticket.title,
        body=ticket.body,
        address=ticket.address,
        exclude_id=ticket.id,
        limit=limit + 5,
    )
    return [d for d in found if d.ticket.created_at <= ticket.created_at and d.ticket.id != ticket.id][:limit]


@lru_cache(maxsize=64)
def _queue_candidates(pairs: int, with_phones: bool, candidates: int) -> Select[_Candidate]:
    """The candidate rows for a queue with ``pairs`` (category, district) pairs (bound as c0, d0, c1, …), and
    its phones: built once per shape, as building it (a subquery per pair) costs more than running it.
    Plain rows, not ORM objects, and per pair only the newest ``candidates`` (one index range each, as
    ``find_duplicates``): a popular pair holds thousands of open tickets at a million."""
    since: BindParameter[datetime] = bindparam("since")
    columns = (
        Ticket.id,
        Ticket.citizen_phone,
        Ticket.category_id,
        Ticket.district_id,
        Ticket.address,
        Ticket.created_at,
    )
    parts = (
        [select(*columns).where(Ticket.citizen_phone.in_(bindparam("phones", expanding=True)), _open_since(since))]
        if with_phones
        else []
    )
    parts += [
        select(*columns)
        .where(Ticket.category_id == bindparam(f"c{i}"), Ticket.district_id == bindparam(f"d{i}"), _open_since(since))
        .order_by(Ticket.created_at.desc())
        .limit(candidates)
        .subquery()
        .select()
        for i in range(pairs)
    ]
    found_rows = union(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return select(found_rows, TicketSearch.document).outerjoin(TicketSearch, TicketSearch.ticket_id == found_rows.c.id)


_NO_TOKENS: frozenset[str] = frozenset()
_Entry = tuple[int, datetime, frozenset[str]]  # a candidate as the desk compares it: id, created_at, tokens


def duplicates_for_queue(
    tickets: Sequence[Ticket], limit: int = 3, candidates: int = 200
) -> dict[int, list[Duplicate[TicketRef]]]:
    """``duplicates_of`` for a whole queue (the dispatch desk), with plain ``TicketRef`` tickets. A process
    reuses a ticket's hints for ``DESK_HINTS_SECONDS`` while the ticket is unchanged (its id and version): the
    desk is reloaded after every dispatch and each view showed the same twenty tickets' hints anew, a third of
    its time. Only earlier tickets can be a ticket's duplicates, so new appeals never make a hint stale; one
    closed or merged meanwhile may show that long (merging into it is then refused with a message)."""
    by_key = {(t.id, t.version): t for t in tickets}
    found = reused_each(
        "desk_duplicates",
        by_key,
        current_app.config["DESK_HINTS_SECONDS"],
        lambda missing: _queue_duplicates([by_key[k] for k in missing], limit, candidates),
    )
    return {key[0]: hints for key, hints in found.items() if hints}


def _queue_duplicates(
    tickets: Sequence[Ticket], limit: int, candidates: int
) -> dict[tuple[int, int], list[Duplicate[TicketRef]]]:
    """The hints of each ticket by (id, version), in one query for the queue: the candidates are grouped by
    phone, by category and district, and by category and address, so each ticket is compared only with its
    own groups, and each candidate's tokens are split once. A ticket with no hint gets an empty list."""
    none: dict[tuple[int, int], list[Duplicate[TicketRef]]] = {(t.id, t.version): [] for t in tickets}
    if not tickets:
        return none
    pairs = sorted({(t.category_id, t.district_id) for t in tickets if t.category_id and t.district_id})
    phones = sorted({t.citizen_phone for t in tickets if t.citizen_phone})
    if not pairs and not phones:
        return none
    params = {"since": utcnow() - DUPLICATE_WINDOW, **({"phones": phones} if phones else {})}
    for i, (category_id, district_id) in enumerate(pairs):
        params[f"c{i}"], params[f"d{i}"] = category_id, district_id
    rows = db.session.execute(_queue_candidates(len(pairs), bool(phones), candidates), params).all()
    # Plain tuples (id, created_at, tokens) grouped three ways; each candidate's document is split once.
    # by_phone: the same caller about the same category and district
    by_phone: dict[tuple[str, int | None, int | None], list[_Entry]] = {}
    by_place: dict[tuple[int | None, int | None], list[_Entry]] = {}
    by_address: dict[tuple[int | None, str], list[_Entry]] = {}
    for other_id, phone, category_id, district_id, address, created_at, document in rows:
        entry = (other_id, created_at, frozenset(document.split()) if document else _NO_TOKENS)
        by_phone.setdefault((phone, category_id, district_id), []).append(entry)
        if district_id is not None:  # for a ticket with no district: the same caller and category anywhere
            by_phone.setdefault((phone, category_id, None), []).append(entry)
        by_place.setdefault((category_id, district_id), []).append(entry)
        if address:
            by_address.setdefault((category_id, address), []).append(entry)
    found_by_ticket: dict[int, list[tuple[int, str, float]]] = {}
    for t in tickets:
        reasons: dict[int, list[str]] = {}
        scores: dict[int, float] = {}
        my_id, my_time = t.id, t.created_at  # read once: ORM attribute access in the inner loop adds up
        exact = [("caller", by_phone.get((t.citizen_phone, t.category_id, t.district_id), ()) if t.category_id else ())]
        if t.address:
            exact.append(("address", by_address.get((t.category_id, t.address), ())))
        for reason, group in exact:
            for other_id, created_at, _ in group:
                if other_id != my_id and created_at <= my_time:
                    reasons.setdefault(other_id, []).append(reason)
                    scores[other_id] = 1.0
        mine = appeal_tokens(t.title, t.body, t.address) if t.category_id else _NO_TOKENS
        if mine:
            for other_id, created_at, tokens in by_place.get((t.category_id, t.district_id), ()):
                if not tokens or other_id == my_id or created_at > my_time:
                    continue
                score = similarity(mine, tokens)
                if score >= DUPLICATE_MIN_SCORE:
                    reasons.setdefault(other_id, []).append("text")
                    scores[other_id] = max(scores.get(other_id, 0.0), round(score, 2))
        ranked = sorted(reasons, key=lambda i: (-scores[i], -len(reasons[i]), -i))[:limit]
        if ranked:
            found_by_ticket[t.id] = [(i, "+".join(reasons[i]), scores[i]) for i in ranked]
    winners = {i for found in found_by_ticket.values() for i, _, _ in found}
    loaded = (
        {
            row.id: TicketRef(*row)
            for row in db.session.execute(
                select(Ticket.id, Ticket.tracking_no, Ticket.status, Ticket.title).where(Ticket.id.in_(winners))
            )
        }
        if winners
        else {}
    )
    return none | {
        (t.id, t.version): [Duplicate(loaded[i], reason, score) for i, reason, score in found_by_ticket[t.id]]
        for t in tickets
        if t.id in found_by_ticket
    }
