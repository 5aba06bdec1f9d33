"""The beat schedule. Run exactly one beat per deployment."""
from datetime import timedelta

BEAT_SCHEDULE = {
    "notify-redrive": {"task": "hotline.notify.redrive", "schedule": timedelta(minutes=1)},
}
