"""How often smart dispatch (智能派单) names the right lead unit for appeals it has never seen.

    .venv/bin/python bench/routing.py [--tickets 360] [--seed 12345] [--cases bench/data/routing_labelled.csv]
                                      [--limit N] [--misses 10]

The model is trained exactly as a fresh demo city trains it: ``seed_demo(--tickets)`` in a scratch SQLite
database loads the demo's history and calls ``train_routing_model()`` on its closed tickets (what the nightly
task does in production). It is then asked about the labelled appeals in ``--cases``: a few hundred
citizen-style appeals (title, body, district) written apart from the routing catalogue and the demo's appeal
texts (other wording, colloquial speech, homophone typos such as 电提 or 底保, several matters in one call),
each labelled with the unit of the demo city's org tree that is responsible for it. They are never trained on.

Printed: top-1 accuracy (the unit the model ranks first), top-3 accuracy (the right unit among its three
best, what a dispatcher sees when the first guess is wrong), how many suggestions clear the confidence the
desk shows them at (``routing.MIN_CONFIDENCE``) and how many of those are right, and the baseline of always
naming the district's most common lead unit in the training history. ``--misses`` lists a few wrong answers.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = ROOT / "bench" / "data" / "routing_labelled.csv"


def load_cases(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row for row in csv.DictReader(fh)]


def run(tickets: int = 360, seed: int = 12345, cases_path: Path = CASES, limit: int | None = None) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from hotline import create_app
    from hotline.demo.seed import seed_demo
    from hotline.extensions import db
    from hotline.orgs.models import OrgUnit, UnitKind
    from hotline.search import routing
    from hotline.search.models import RoutingModel
    from hotline.tickets.models import Ticket

    cases = load_cases(cases_path)[:limit]
    if not cases:
        raise SystemExit(f"no labelled appeals in {cases_path}")
    with tempfile.TemporaryDirectory(prefix="hotline-routing-") as tmp:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/routing.db")
        with app.app_context():
            upgrade()
            seed_demo(ticket_count=tickets, seed=seed)
            db.session.commit()
            model = db.session.execute(select(RoutingModel).order_by(RoutingModel.id.desc())).scalars().first()
            if model is None:
                raise SystemExit(f"the demo with {tickets} tickets has too few closed ones to train on")
            units = {u.code: u for u in db.session.execute(select(OrgUnit)).scalars()}
            districts = {u.name: u for u in units.values() if u.kind == UnitKind.DISTRICT.value}
            unknown = sorted({c["unit"] for c in cases} - set(units)) + sorted(
                {c["district"] for c in cases} - set(districts)
            )
            if unknown:
                raise SystemExit(f"labels not in the demo city's org tree: {', '.join(unknown)}")
            by_id = {u.id: u for u in units.values()}
            # Transient tickets, never saved: the desk's own batch call answers for them as for a queue.
            appeals = [
                Ticket(
                    id=-(i + 1),
                    title=c["title"],
                    body=c["body"],
                    district_id=districts[c["district"]].id,
                    category_id=None,
                )
                for i, c in enumerate(cases)
            ]
            shown = routing.suggest_routes(appeals)
            ranked = routing.predict(
                routing.current_models(), [(routing.features(t.title, t.body), t.district_id) for t in appeals], top=3
            )
            history = routing.training_rows()
            majority = {
                d: Counter(u for _, dist, _, u in history if dist == d).most_common(1)
                for d in {t.district_id for t in appeals}
            }
            top1 = top3 = confident = confident_right = baseline = 0
            misses = []
            for case, ticket, (_, best) in zip(cases, appeals, ranked):
                right = units[case["unit"]].id
                codes = [by_id[u].code for u, _ in best]
                top1 += bool(best) and best[0][0] == right
                top3 += right in [u for u, _ in best]
                suggestion = shown[ticket.id]
                if suggestion.source == "model" and suggestion.unit is not None:
                    confident += 1
                    confident_right += suggestion.unit.id == right
                common = majority[ticket.district_id]
                baseline += bool(common) and common[0][0] == right
                if not best or best[0][0] != right:
                    misses.append((case, codes[:3], best[0][1] if best else 0.0))
            n = len(cases)
            return {
                "cases": n,
                "path": cases_path,
                "trained_on": model.samples,
                "demo_tickets": tickets,
                "library": model.library,
                "top1": top1 / n,
                "top3": top3 / n,
                "confident": confident,
                "confident_right": confident_right,
                "baseline": baseline / n,
                "misses": misses,
                "threshold": routing.MIN_CONFIDENCE,
            }


def report(result: dict, misses: int) -> str:
    n = result["cases"]
    conf = result["confident"]
    lines = [
        f"labelled appeals: {n} ({result['path']}); model trained on "
        f"{result['trained_on']} closed tickets of a {result['demo_tickets']}-ticket demo city "
        f"({result['library']})",
        f"top-1 accuracy: {result['top1']:.1%} ({round(result['top1'] * n)}/{n})",
        f"top-3 accuracy: {result['top3']:.1%} ({round(result['top3'] * n)}/{n})",
        f"suggested at >= {result['threshold']:.0%} confidence: {conf}/{n} ({conf / n:.1%}), "
        f"right: {result['confident_right']}/{conf}" + (f" ({result['confident_right'] / conf:.1%})" if conf else ""),
        f"baseline (the district's most common lead unit): {result['baseline']:.1%}",
    ]
    for case, codes, p in result["misses"][:misses]:
        lines.append(
            f"  miss: {case['title']} [{case['district']}] want {case['unit']}, got "
            f"{' / '.join(codes) or 'nothing'} ({p:.0%})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=360, help="demo tickets to train from (seed_demo's default)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--cases", type=Path, default=CASES.relative_to(ROOT))
    parser.add_argument("--limit", type=int, default=None, help="only the first N labelled appeals")
    parser.add_argument("--misses", type=int, default=10, help="wrong answers to list")
    args = parser.parse_args(argv)
    print(report(run(args.tickets, args.seed, args.cases, args.limit), args.misses))


if __name__ == "__main__":
    main()
