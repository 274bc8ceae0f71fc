"""WSGI entry point: gunicorn 'wsgi:app'."""
import gc
import sys

from app import create_app

app = create_app()
# What start-up made lives as long as the worker: put it out of the collector's reach, so a full
# collection walks only what requests made.  At Seoul scale a full pass over the ~200,000 start-up
# objects stopped every thread of the worker for 100-200 ms, several times per 300 pages; frozen,
# the same passes take 1-6 ms (issue 13).  Only here: tests build many apps in one process.
gc.collect()
gc.freeze()
# A thread that lets go of the GIL (every SQL statement does) waits, to get it back, for the
# switch interval of the thread running Python meanwhile: 5 ms by default.  A request holding
# SQLite's write lock then held it 5-15x longer beside pages rendering in the same worker, and
# everyone else waited for it (issue 13: a 2,000-row import's save beside three busy threads,
# 0.9-2.7 s of lock at 5 ms, 0.55-0.9 s at 1 ms).  Also only here, for the same reason.
sys.setswitchinterval(app.config["THREAD_SWITCH_INTERVAL_MS"] / 1000)
