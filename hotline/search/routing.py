"""Smart dispatch (智能派单): category and lead unit suggested from the text of an appeal.

Learned from closed tickets (their category and lead unit are what the city settled on): TF-IDF over
jieba tokens into a logistic regression gives P(category | text); the lead unit is then
P(unit | text, district) = Σ P(category | text) · P(unit | category, district), the second factor counted
from the closed tickets of that district (the same matter goes to each district's own bureau), smoothed
towards the routing catalogue's entry. Below ``MIN_CONFIDENCE`` the catalogue entry for the ticket's own
category (``handling.suggested_unit``) is offered instead. A unit whose return (退单) of the ticket was approved
is never suggested for it again, by either. The dispatcher always confirms.
"""

from __future__ import annotations

import io
import pickle
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

from sqlalchemy import select

from hotline.core.models import table_of
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.search.models import RoutingModel
from hotline.search.segment import document_tokens
from hotline.tickets.models import Category, Ticket
from hotline.tickets.workflow import Status

MIN_CONFIDENCE = 0.5
MIN_SAMPLES = 20
_cache: dict[str, tuple[int, dict]] = {}
# (category or unit id, probability): no id when nothing was predicted.
Scored = tuple[int | None, float]


def features(title: str | None, body: str | None) -> str:
    return " ".join(document_tokens(f"{title or ''} {body or ''}"))


def _split(doc: str) -> list[str]:
    return doc.split()


def _pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(tokenizer=_split, token_pattern=None, lowercase=False, sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=10.0),
    )


def training_rows(limit: int = 200_000) -> list[tuple[str, int, int, int]]:
    """(text features, district id, category id, lead unit id) of closed tickets, newest first."""
    rows = db.session.execute(
        select(Ticket.title, Ticket.body, Ticket.district_id, Ticket.category_id, Ticket.lead_unit_id)
        .where(Ticket.status == Status.CLOSED.value, Ticket.category_id.is_not(None), Ticket.lead_unit_id.is_not(None))
        .order_by(Ticket.id.desc())
        .limit(limit)
    ).all()
    return [(features(t, b), d, c, u) for t, b, d, c, u in rows]


def fit(rows: Sequence[tuple]) -> dict:
    labels = [r[2] for r in rows]
    if len(set(labels)) < 2:  # one class only: nothing to learn, remember the answer
        category = labels[0] if labels else None
    else:
        category = _pipeline().fit([r[0] for r in rows], labels)
    units: dict[tuple, Counter] = {}
    for _, district, category_id, unit_id in rows:
        units.setdefault((category_id, district), Counter())[unit_id] += 1
    return {"category": category, "units": units}


CATALOGUE_WEIGHT = 1.0  # pseudo-count the catalogue's entry adds to the closed tickets' lead units
TOP_CATEGORIES = 3


def _routes() -> dict[tuple[int, int], int]:
    from hotline.tickets.models import CategoryRoute

    return {
        (c, d): u
        for c, d, u in db.session.execute(
            select(CategoryRoute.category_id, CategoryRoute.district_id, CategoryRoute.unit_id)
        )
    }


def _category_probabilities(model, docs: list[str]) -> list[list[tuple[int, float]]]:
    if model is None or isinstance(model, int):
        return [[(model, 1.0)] if model else [] for _ in docs]
    out = []
    for p in model.predict_proba(docs):
        order = p.argsort()[::-1][:TOP_CATEGORIES]
        out.append([(int(model.classes_[i]), float(p[i])) for i in order])
    return out


def _unit_scores(
    categories: list[tuple[int, float]], district: int | None, units: dict, routes: dict
) -> dict[int, float]:
    scores: dict[int, float] = {}
    for category_id, p in categories:
        counts: dict[int, float] = dict(units.get((category_id, district), {}))
        route = routes.get((category_id, district))
        if route:
            counts[route] = counts.get(route, 0) + CATALOGUE_WEIGHT
        total = sum(counts.values())
        for unit_id, n in counts.items():
            scores[unit_id] = scores.get(unit_id, 0) + p * n / total
    return scores


def _best(ranked: list[tuple[int, float]]) -> Scored:
    return ranked[0] if ranked else (None, 0.0)


def predict(
    models: dict, items: list[tuple[str, int | None]], exclude: Sequence[set[int]] | None = None, top: int = 1
) -> list[tuple[Scored, list[tuple[int, float]]]]:
    """((category id, p), [(unit id, p), …]) for each (features, district id): the ``top`` most likely lead
    units, best first, leaving out the units in ``exclude`` (one set per item: those that returned the ticket).
    An excluded unit's share is not handed to the others: the confidence shown stays what the text supports."""
    categories = _category_probabilities(models["category"], [doc for doc, _ in items])
    routes = _routes()
    out = []
    for i, (cats, (_, district)) in enumerate(zip(categories, items)):
        best: Scored = cats[0] if cats else (None, 0.0)
        skip = exclude[i] if exclude else set()
        scores = _unit_scores(cats, district, models["units"], routes)
        most_likely = sorted(scores.items(), key=itemgetter(1), reverse=True)  # as Counter.most_common
        ranked = [(u, p) for u, p in most_likely if u not in skip][:top]
        out.append((best, ranked))
    return out


# --- evaluation, training, storage -------------------------------------------------------------------------


@dataclass
class Evaluation:
    samples: int
    train: int
    test: int
    category_accuracy: float
    unit_accuracy: float
    category_baseline: float
    unit_baseline: float
    confident_share: float
    confident_unit_accuracy: float


def evaluate(test_share: float = 0.25, seed: int = 7) -> Evaluation:
    """Hold out ``test_share`` of the closed tickets, train on the rest, score the held-out part
    against the majority-class baseline."""
    rows = training_rows()
    if len(rows) < MIN_SAMPLES:
        raise ValueError(f"only {len(rows)} closed tickets with a category and a lead unit")
    rows = rows[:]
    random.Random(seed).shuffle(rows)
    cut = max(1, int(len(rows) * test_share))
    test, train = rows[:cut], rows[cut:]
    models = fit(train)
    predicted = predict(models, [(r[0], r[1]) for r in test])
    cats, units = [p[0] for p in predicted], [_best(p[1]) for p in predicted]
    majority_cat = Counter(r[2] for r in train).most_common(1)[0][0]
    majority_unit = Counter(r[3] for r in train).most_common(1)[0][0]
    confident = [(u, r) for u, r in zip(units, test) if u[1] >= MIN_CONFIDENCE]
    n = len(test)
    return Evaluation(
        samples=len(rows),
        train=len(train),
        test=n,
        category_accuracy=sum(p[0] == r[2] for p, r in zip(cats, test)) / n,
        unit_accuracy=sum(p[0] == r[3] for p, r in zip(units, test)) / n,
        category_baseline=sum(r[2] == majority_cat for r in test) / n,
        unit_baseline=sum(r[3] == majority_unit for r in test) / n,
        confident_share=len(confident) / n,
        confident_unit_accuracy=(sum(u[0] == r[3] for u, r in confident) / len(confident)) if confident else 0.0,
    )


def train_routing_model() -> RoutingModel | None:
    """Train on every closed ticket and store the model (the beat task calls this nightly)."""
    import sklearn

    rows = training_rows()
    if len(rows) < MIN_SAMPLES:
        return None
    scores = evaluate() if len(rows) >= 2 * MIN_SAMPLES else None
    buffer = io.BytesIO()
    pickle.dump(fit(rows), buffer, protocol=pickle.HIGHEST_PROTOCOL)
    model = RoutingModel(
        samples=len(rows),
        blob=buffer.getvalue(),
        library=f"scikit-learn {sklearn.__version__}",
        category_accuracy=scores.category_accuracy if scores else None,
        unit_accuracy=scores.unit_accuracy if scores else None,
    )
    db.session.add(model)
    db.session.flush()
    # Keep the three newest models; older ones only take space.
    old = db.session.execute(select(RoutingModel.id).order_by(RoutingModel.id.desc()).offset(3)).scalars().all()
    if old:
        db.session.execute(table_of(RoutingModel).delete().where(RoutingModel.id.in_(old)))
    return model


def current_models() -> dict | None:
    latest = db.session.execute(select(RoutingModel.id).order_by(RoutingModel.id.desc()).limit(1)).scalar()
    if latest is None:
        return None
    key = str(db.session.get_bind().engine.url)
    cached = _cache.get(key)
    if cached is None or cached[0] != latest:
        blob = db.session.get_one(RoutingModel, latest).blob
        _cache[key] = cached = (latest, pickle.loads(blob))  # our own blob, written by train_routing_model
    return cached[1]


# --- suggestions ---------------------------------------------------------------------------------------------


@dataclass
class RoutingSuggestion:
    category: Category | None
    category_confidence: float
    unit: OrgUnit | None
    unit_confidence: float
    source: str  # "model" or "catalogue"


def suggest_routes(tickets: Sequence[Ticket]) -> dict[int, RoutingSuggestion]:
    """One suggestion per ticket, for a whole queue at once (one model load, two batch predictions)."""
    from hotline.tickets.handling import returned_units, suggested_units

    if not tickets:
        return {}
    models = current_models()
    if models:
        returned = returned_units(tickets)
        predicted = predict(
            models,
            [(features(t.title, t.body), t.district_id) for t in tickets],
            exclude=[returned.get(t.id, set()) for t in tickets],
        )
        cats, units = [p[0] for p in predicted], [_best(p[1]) for p in predicted]
    else:
        nothing: list[Scored] = [(None, 0.0)] * len(tickets)
        cats = units = nothing
    ids = {i for i, _ in cats if i} | {i for i, _ in units if i}
    categories = {c.id: c for c in db.session.execute(select(Category).where(Category.id.in_(ids))).scalars()}
    org_units = {u.id: u for u in db.session.execute(select(OrgUnit).where(OrgUnit.id.in_(ids))).scalars()}
    catalogue = suggested_units(tickets)
    out = {}
    for ticket, (cat_id, cat_p), (unit_id, unit_p) in zip(tickets, cats, units):
        unit, source = (org_units.get(unit_id) if unit_id is not None else None), "model"
        if unit is None or unit_p < MIN_CONFIDENCE or not unit.active:
            unit, unit_p, source = catalogue.get(ticket.id), 0.0, "catalogue"
        out[ticket.id] = RoutingSuggestion(
            category=categories.get(cat_id) if cat_id is not None else None,
            category_confidence=round(cat_p, 2),
            unit=unit,
            unit_confidence=round(unit_p, 2),
            source=source,
        )
    return out


def suggest_route(ticket: Ticket) -> RoutingSuggestion:
    return suggest_routes([ticket])[ticket.id]
