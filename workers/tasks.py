"""Celery tasks. Each has a stable name, takes ids, calls one service and commits."""

from __future__ import annotations

from celery import shared_task

from hotline.extensions import db
from hotline.notify import services as notify


@shared_task(name=notify.DELIVER_TASK, bind=True, max_retries=notify.MAX_ATTEMPTS)
def deliver_notification(self, notification_id: int) -> bool:
    """One attempt; a failed one is retried with exponential backoff (and re-driven if the retry is lost)."""
    outcome = notify.deliver(notification_id)
    db.session.commit()
    if outcome == "retry" and self.request.retries < notify.MAX_ATTEMPTS:
        attempts = self.request.retries + 1
        raise self.retry(countdown=notify.backoff(attempts).total_seconds())
    return outcome == "sent"


@shared_task(name="hotline.sla.sweep")
def sweep_deadlines(batch_size: int = 500) -> dict:
    """Apply the escalation ladder to every due ticket (commits per batch; a second sweep at the
    same time does nothing)."""
    from hotline.sla.ladder import run_sweep

    counts = run_sweep(batch_size=batch_size, commit=db.session.commit)
    return dict(counts)


@shared_task(name="hotline.notify.redrive")
def redrive_notifications() -> int:
    """Re-send what an after-commit enqueue missed (broker down, worker lost)."""
    ids = notify.pending_ids()
    for notification_id in ids:
        deliver_notification.delay(notification_id)
    return len(ids)


@shared_task(name="hotline.dashboard.rollup_today")
def rollup_today() -> dict:
    """Today's KPI figures, the hotspot alerts and the pages' snapshots, every few minutes."""
    from hotline.dashboard.services import rollup_today as run

    result = run()
    db.session.commit()
    return result


@shared_task(name="hotline.dashboard.rollup_closed_days")
def rollup_closed_days() -> int:
    """Finalise the days that ended (nightly; catches up days a stopped worker missed)."""
    from hotline.dashboard.services import refresh_snapshots
    from hotline.dashboard.services import rollup_closed_days as run

    results = run(commit=db.session.commit)
    if results:  # each recounted day dropped the snapshots: the pages' figures come back at once
        refresh_snapshots()
        db.session.commit()
    return len(results)


@shared_task(name="hotline.search.retrain_routing")
def retrain_routing() -> int | None:
    """Retrain the routing classifier on the closed tickets (nightly)."""
    from hotline.search.routing import train_routing_model

    model = train_routing_model()
    db.session.commit()
    return model.id if model else None


@shared_task(name="hotline.search.extend_partitions")
def extend_partitions() -> list[str]:
    """Make the search index's next id range ahead of the ids, and move strays out of the DEFAULT one (daily)."""
    from hotline.search.partitions import ensure_partitions

    made = ensure_partitions()
    db.session.commit()
    return made


@shared_task(name="hotline.api.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key answers older than 24 hours (hourly)."""
    from hotline.api.idempotency import purge_expired_keys

    deleted = purge_expired_keys()
    db.session.commit()
    return deleted


@shared_task(name="hotline.ping")
def ping(value: str) -> str:
    """A health check that proves a worker runs tasks from the configured broker."""
    return f"pong:{value}"
