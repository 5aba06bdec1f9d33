"""Celery entry point, beat schedule and tasks. Depends on ``hotline``, never the other way round."""
