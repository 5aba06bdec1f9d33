"""WSGI entry point: ``gunicorn wsgi:app``."""

import gc

from hotline import create_app

app = create_app()
# What the app built at start (templates, mappers, config) lives as long as the process: keep the garbage
# collector from scanning it again on every full collection (a tenth of a busy page's time, bench/pages.py).
gc.collect()
gc.freeze()
