"""Small shared shapes for the lifecycle signals (app/signals.py) and helpers to ask them.

Kept outside every feature so cases can ask "what else must end when this case closes?" and
"what else belongs on this case page?" without importing the features that answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import signals


@dataclass(frozen=True)
class CloseItem:
    """One question the close form asks about a dependent object.

    ``key`` is the form field name and the key of ``choices`` in ``case_closed``;
    ``kind`` is "choice" (a select of ``options``) or "reason" (an optional text: filled in =
    cancel it with this reason; left empty = refuse the close until it is resolved).
    """

    key: str
    label: str
    kind: str
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    required: bool = True


@dataclass
class PageSection:
    """A block another feature adds to the case page: ``template`` rendered with ``context``."""

    template: str
    order: int
    context: dict[str, Any] = field(default_factory=dict)


def _collect(signal, sender, **kwargs) -> list:
    results = []
    for _receiver, value in signal.send(sender, **kwargs):
        if value is None:
            continue
        results.extend(value if isinstance(value, (list, tuple)) else [value])
    return results


def close_items(case) -> list[CloseItem]:
    """Every dependent object's question for closing ``case``, in a stable order."""
    return sorted(_collect(signals.case_close_items, case), key=lambda item: item.key)


def page_sections(case, user) -> list[PageSection]:
    """The other features' blocks for ``case``'s page as ``user`` sees it, in page order."""
    return sorted(_collect(signals.case_page_sections, case, user=user), key=lambda s: s.order)


def home_sections(user) -> list[PageSection]:
    """The features' blocks for ``user``'s home page, in page order."""
    return sorted(_collect(signals.home_sections, user), key=lambda s: s.order)
