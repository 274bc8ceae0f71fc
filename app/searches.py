"""Searches by name or student number never travel in a URL: the search box posts its text, the
text is kept in the user's session under an opaque token, and the list (and its page links)
carries only ``?s=<token>``.  Access logs, browser history and proxies then see the token only."""
from __future__ import annotations

import secrets

from flask import session

SESSION_KEY = "searches"
#: the most recent searches a session keeps (older tokens then show the unfiltered list)
KEEP = 8
#: the query-string key that carries the token
ARG = "s"


def remember(scope: str, text: str) -> str:
    """Keep ``text`` for the list ``scope`` and return the token that names it."""
    token = secrets.token_urlsafe(9)
    kept = dict(session.get(SESSION_KEY) or {})
    kept[token] = [scope, text]
    # dicts keep insertion order: drop the oldest beyond KEEP
    session[SESSION_KEY] = dict(list(kept.items())[-KEEP:])
    return token


def recall(scope: str, token: str | None) -> str:
    """The text kept under ``token`` for ``scope``; empty for an unknown, foreign or missing token."""
    if not token:
        return ""
    entry = (session.get(SESSION_KEY) or {}).get(str(token)[:32])
    return entry[1] if entry and entry[0] == scope else ""
