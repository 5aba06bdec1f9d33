"""``celery -A workers.app worker`` / ``celery -A workers.app beat``."""

from hotline import create_app
from workers.schedule import BEAT_SCHEDULE

flask_app = create_app()
app = flask_app.extensions["celery"]
app.conf.beat_schedule = BEAT_SCHEDULE
app.conf.include = ["workers.tasks"]
