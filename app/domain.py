"""The one error type services raise for a broken business rule, and its mapping onto forms."""
from __future__ import annotations


class DomainError(Exception):
    """A rule refused the change.  ``field`` names the form field it belongs to (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def attach_to_form(form, error: DomainError) -> None:
    """Show the error next to its field, or in the form-level summary."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


class NotPermitted(DomainError):
    """The actor's role or organisation may not do this; views answer 403 (or 404 where the
    object's existence itself must stay hidden)."""
