"""The main menu: features register entries with the roles that may see them."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_login import current_user

from .permissions import role_label


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: tuple[str, ...]


NAV: list[NavItem] = []


def add_nav(endpoint: str, label: str, *roles: str) -> None:
    if not any(item.endpoint == endpoint for item in NAV):
        NAV.append(NavItem(endpoint, label, roles))


def nav_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    return [{"url": url_for(i.endpoint), "label": i.label} for i in NAV if current_user.role in i.roles]


def init_app(app) -> None:
    app.jinja_env.globals.update(nav_items=nav_items, role_label=role_label)
