"""The beat schedule. Run exactly one beat per deployment."""

from datetime import timedelta

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "notify-redrive": {"task": "hotline.notify.redrive", "schedule": timedelta(minutes=1)},
    # Deadlines are data: one sweep a minute over the due tickets only (hotline.sla.ladder).
    "sla-sweep": {"task": "hotline.sla.sweep", "schedule": timedelta(minutes=1), "options": {"expires": 55}},
    # KPI rollups (hotline.dashboard): today's running figures, and the ended days once after midnight.
    "kpi-rollup-today": {
        "task": "hotline.dashboard.rollup_today",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 280},
    },
    "kpi-rollup-closed-days": {
        "task": "hotline.dashboard.rollup_closed_days",
        "schedule": crontab(hour=0, minute=20),
    },  # Asia/Shanghai (the app's CELERY timezone)
    # Smart dispatch learns from the tickets closed so far (hotline.search.routing).
    "routing-retrain": {"task": "hotline.search.retrain_routing", "schedule": crontab(hour=2, minute=30)},
    # The search index's next id range exists before the ids reach it (hotline.search.partitions).
    "search-partitions": {"task": "hotline.search.extend_partitions", "schedule": crontab(hour=2, minute=50)},
    # Idempotency-Key answers are kept 24 h (hotline.api.idempotency).
    "idempotency-purge": {
        "task": "hotline.api.purge_idempotency_keys",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3500},
    },
}
