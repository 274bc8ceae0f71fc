"""WSGI entry point: gunicorn 'wsgi:app'."""
import gc

from app import create_app

app = create_app()
# What start-up made lives as long as the worker: put it out of the collector's reach, so a full
# collection walks only what requests made.  At Seoul scale a full pass over the ~200,000 start-up
# objects stopped every thread of the worker for 100-200 ms, several times per 300 pages; frozen,
# the same passes take 1-6 ms (issue 13).  Only here: tests build many apps in one process.
gc.collect()
gc.freeze()
