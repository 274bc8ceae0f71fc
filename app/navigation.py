"""The main menu: features register entries with the roles that may see them."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_login import current_user

from .i18n import N_
from .permissions import role_label


#: the labels of permissions.ROLES, marked so the catalogue carries them (a test keeps them in step)
ROLE_LABEL_MESSAGES = (N_("학교 지원팀"), N_("학교 지원팀장(교감)"), N_("교육지원청 담당자"), N_("교육후견인"),
                       N_("유관기관 담당자"), N_("감사·개인정보 담당"), N_("시스템 관리자"))


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: tuple[str, ...]


NAV: list[NavItem] = []


def add_nav(endpoint: str, label, *roles: str) -> None:
    """Add a menu entry for ``roles``; pass the label as flask_babel.lazy_gettext("...")."""
    if not any(item.endpoint == endpoint for item in NAV):
        NAV.append(NavItem(endpoint, label, roles))


def nav_items() -> list[dict]:
    """The entries the current user may see, with the one for this page marked current."""
    if not current_user.is_authenticated:
        return []
    items = [{"url": url_for(item.endpoint), "label": item.label, "current": False}
             for item in NAV if current_user.role in item.roles]
    # the longest entry that is this page or a prefix of it is current (/cases/new is 지원 요청,
    # not also 지원 사례 at /cases/)
    matches = [i for i in items if request.path == i["url"] or request.path.startswith(i["url"].rstrip("/") + "/")]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["current"] = True
    return items


def translated_role_label(role: str) -> str:
    """The role's label in the page's language."""
    return str(role_label(role))


def init_app(app) -> None:
    app.jinja_env.globals.update(nav_items=nav_items, role_label=translated_role_label)
