"""The one way a view runs a service for a submitted form: commit on success; on a refused rule
roll back and show the message next to its field; a role or organisation the rule does not
allow answers 403 (the error handler audits the denial); a form sent a second time changes
nothing and goes where the first went (app/submissions.py)."""
from __future__ import annotations

from typing import Any, Callable

from flask import abort

from .domain import DomainError, NotPermitted, attach_to_form
from .extensions import db
from . import submissions


def save_or_show(form, change: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``change()`` and commit once: ``(True, its result)``, or ``(False, None)`` with the
    form carrying the refusal and nothing saved."""
    submissions.once(form)
    try:
        result = change()
    except NotPermitted:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        attach_to_form(form, error)
        return False, None
    db.session.commit()
    return True, result
