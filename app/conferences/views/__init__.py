"""Conference views, split by screen: the list, scheduling, the conference page and its print
layout (pages.py), recording and amending a meeting (record.py), cancelling and earlier
versions (changes.py), my action items and reviews (work.py)."""
from . import changes, pages, record, work  # noqa: F401
