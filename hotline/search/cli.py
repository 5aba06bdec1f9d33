"""``flask search reindex`` and ``flask routing evaluate|train``."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from hotline.extensions import db

search_cli = AppGroup("search", help="Chinese full-text search index.")
routing_cli = AppGroup("routing", help="Smart dispatch: the routing classifier.")


@search_cli.command("reindex")
@click.option("--batch", default=2000, show_default=True)
@click.option("--workers", type=int, default=None, help="Segmenting processes (default: CPU count).")
def reindex_command(batch, workers):
    """Rebuild the index of every ticket (after a bulk load or a dictionary change)."""
    from hotline.search.bulk import rebuild

    started = time.perf_counter()
    count = rebuild(
        batch=batch,
        workers=workers,
        progress=lambda n: click.echo(f"  {n} tickets", err=True) if n % 100_000 < batch else None,
    )
    db.session.commit()
    click.echo(f"indexed {count} tickets in {time.perf_counter() - started:.1f} s")


@search_cli.command("partitions")
@click.option("--ahead", default=1, show_default=True, help="Ranges to keep past the newest ticket id.")
def partitions_command(ahead):
    """Make the index's id ranges ahead of the tickets (what the daily beat task does) and list them."""
    from hotline.search.partitions import ensure_partitions, is_partitioned, partitions

    if not is_partitioned():
        click.echo("this database has no search partitions (SQLite: one FTS5 index)")
        return
    if ahead < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--ahead")
    made = ensure_partitions(ahead=ahead)
    db.session.commit()
    for name in made:
        click.echo(f"made {name}")
    for p in partitions():
        span = "DEFAULT (ids past every range)" if p.lower is None else f"ids {p.lower:,} to {(p.upper or 0) - 1:,}"
        click.echo(f"{p.name:<28} {span:<36} ~{p.rows:,} rows")


@routing_cli.command("evaluate")
@click.option("--test-share", default=0.25, show_default=True)
@click.option("--seed", default=7, show_default=True)
def evaluate_command(test_share, seed):
    """Train on part of the closed tickets and report accuracy on the held-out rest."""
    from hotline.search.routing import evaluate

    try:
        e = evaluate(test_share=test_share, seed=seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"closed tickets: {e.samples} (train {e.train}, held out {e.test})")
    click.echo(f"category accuracy: {e.category_accuracy:.1%} (majority-class baseline {e.category_baseline:.1%})")
    click.echo(f"lead unit accuracy: {e.unit_accuracy:.1%} (majority-class baseline {e.unit_baseline:.1%})")
    click.echo(
        f"confident unit suggestions: {e.confident_share:.1%} of tickets, {e.confident_unit_accuracy:.1%} correct"
    )


@routing_cli.command("train")
def train_command():
    """Train on every closed ticket and store the model (what the nightly beat task does)."""
    from hotline.search.routing import train_routing_model

    model = train_routing_model()
    db.session.commit()
    if model is None:
        raise click.ClickException("not enough closed tickets to learn from")
    click.echo(f"routing model {model.id} trained on {model.samples} tickets ({model.library})")
