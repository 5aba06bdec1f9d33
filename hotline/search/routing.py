"""Smart dispatch (智能派单): category and lead unit suggested from the text of an appeal.

Learned from closed tickets (their category and lead unit are what the city settled on): TF-IDF over
jieba tokens into a logistic regression, one for the category and one for the lead unit (whose input
also carries the district, since the same matter goes to each district's own bureau). Below
``MIN_CONFIDENCE`` the routing catalogue (``handling.suggested_unit``) decides. The dispatcher confirms.
"""
from __future__ import annotations

import io
import pickle
import random
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import select

from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.search.models import RoutingModel
from hotline.search.segment import document_tokens
from hotline.tickets.models import Category, Ticket
from hotline.tickets.workflow import Status

MIN_CONFIDENCE = 0.5
MIN_SAMPLES = 20
_cache: dict[str, tuple[int, dict]] = {}


def features(title: str | None, body: str | None, district_id: int | None = None) -> str:
    tokens = list(document_tokens(f"{title or ''} {body or ''}"))
    if district_id:
        tokens.append(f"__district_{district_id}")
    return " ".join(tokens)


def _split(doc: str) -> list[str]:
    return doc.split()


def _pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    return make_pipeline(TfidfVectorizer(tokenizer=_split, token_pattern=None, lowercase=False, sublinear_tf=True),
                         LogisticRegression(max_iter=2000, C=10.0))


def training_rows(limit: int = 200_000) -> list[tuple[str, str, int, int]]:
    """(category features, unit features, category id, lead unit id) of closed tickets, newest first."""
    rows = db.session.execute(
        select(Ticket.title, Ticket.body, Ticket.district_id, Ticket.category_id, Ticket.lead_unit_id)
        .where(Ticket.status == Status.CLOSED.value, Ticket.category_id.is_not(None),
               Ticket.lead_unit_id.is_not(None)).order_by(Ticket.id.desc()).limit(limit)).all()
    return [(features(t, b), features(t, b, d), c, u) for t, b, d, c, u in rows]


def fit(rows: Sequence[tuple]) -> dict:
    models = {}
    for key, x, y in (("category", 0, 2), ("unit", 1, 3)):
        labels = [r[y] for r in rows]
        if len(set(labels)) < 2:  # one class only: nothing to learn, remember the answer
            models[key] = labels[0] if labels else None
            continue
        models[key] = _pipeline().fit([r[x] for r in rows], labels)
    return models


def _predict(model, docs: list[str]) -> list[tuple[int | None, float]]:
    if model is None or isinstance(model, int):
        return [(model, 1.0 if model else 0.0)] * len(docs)
    probabilities = model.predict_proba(docs)
    return [(int(model.classes_[p.argmax()]), float(p.max())) for p in probabilities]


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
    cats = _predict(models["category"], [r[0] for r in test])
    units = _predict(models["unit"], [r[1] for r in test])
    majority_cat = Counter(r[2] for r in train).most_common(1)[0][0]
    majority_unit = Counter(r[3] for r in train).most_common(1)[0][0]
    confident = [(u, r) for u, r in zip(units, test) if u[1] >= MIN_CONFIDENCE]
    n = len(test)
    return Evaluation(
        samples=len(rows), train=len(train), test=n,
        category_accuracy=sum(p[0] == r[2] for p, r in zip(cats, test)) / n,
        unit_accuracy=sum(p[0] == r[3] for p, r in zip(units, test)) / n,
        category_baseline=sum(r[2] == majority_cat for r in test) / n,
        unit_baseline=sum(r[3] == majority_unit for r in test) / n,
        confident_share=len(confident) / n,
        confident_unit_accuracy=(sum(u[0] == r[3] for u, r in confident) / len(confident)) if confident else 0.0)


def train_routing_model() -> RoutingModel | None:
    """Train on every closed ticket and store the model (the beat task calls this nightly)."""
    import sklearn
    rows = training_rows()
    if len(rows) < MIN_SAMPLES:
        return None
    scores = evaluate() if len(rows) >= 2 * MIN_SAMPLES else None
    buffer = io.BytesIO()
    pickle.dump(fit(rows), buffer, protocol=pickle.HIGHEST_PROTOCOL)
    model = RoutingModel(samples=len(rows), blob=buffer.getvalue(), library=f"scikit-learn {sklearn.__version__}",
                         category_accuracy=scores.category_accuracy if scores else None,
                         unit_accuracy=scores.unit_accuracy if scores else None)
    db.session.add(model)
    db.session.flush()
    # Keep the three newest models; older ones only take space.
    old = db.session.execute(select(RoutingModel.id).order_by(RoutingModel.id.desc()).offset(3)).scalars().all()
    if old:
        db.session.execute(RoutingModel.__table__.delete().where(RoutingModel.id.in_(old)))
    return model


def current_models() -> dict | None:
    latest = db.session.execute(select(RoutingModel.id).order_by(RoutingModel.id.desc()).limit(1)).scalar()
    if latest is None:
        return None
    key = str(db.session.get_bind().url)
    cached = _cache.get(key)
    if cached is None or cached[0] != latest:
        blob = db.session.get(RoutingModel, latest).blob
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
    from hotline.tickets.handling import suggested_unit
    if not tickets:
        return {}
    models = current_models()
    if models:
        cats = _predict(models["category"], [features(t.title, t.body) for t in tickets])
        units = _predict(models["unit"], [features(t.title, t.body, t.district_id) for t in tickets])
    else:
        cats = units = [(None, 0.0)] * len(tickets)
    ids = {i for i, _ in cats if i} | {i for i, _ in units if i}
    categories = {c.id: c for c in db.session.execute(select(Category).where(Category.id.in_(ids))).scalars()}
    org_units = {u.id: u for u in db.session.execute(select(OrgUnit).where(OrgUnit.id.in_(ids))).scalars()}
    out = {}
    for ticket, (cat_id, cat_p), (unit_id, unit_p) in zip(tickets, cats, units):
        unit, source = org_units.get(unit_id), "model"
        if unit is None or unit_p < MIN_CONFIDENCE or not unit.active:
            unit, unit_p, source = suggested_unit(ticket), 0.0, "catalogue"
        out[ticket.id] = RoutingSuggestion(category=categories.get(cat_id), category_confidence=round(cat_p, 2),
                                           unit=unit, unit_confidence=round(unit_p, 2), source=source)
    return out


def suggest_route(ticket: Ticket) -> RoutingSuggestion:
    return suggest_routes([ticket])[ticket.id]
