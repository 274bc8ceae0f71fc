"""The records screens: transfers (전학), 열람·정정 requests, retention (each in its own module)."""
from . import request_views, retention_views, transfer_views  # noqa: F401
