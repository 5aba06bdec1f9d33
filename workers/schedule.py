"""The beat schedule. Run exactly one beat per deployment."""
from datetime import timedelta

BEAT_SCHEDULE = {
    "notify-redrive": {"task": "hotline.notify.redrive", "schedule": timedelta(minutes=1)},
    # Deadlines are data: one sweep a minute over the due tickets only (hotline.sla.ladder).
    "sla-sweep": {"task": "hotline.sla.sweep", "schedule": timedelta(minutes=1),
                  "options": {"expires": 55}},
}
