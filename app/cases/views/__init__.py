"""Case views, split by screen: the lists (lists.py), the one-screen request (request.py), the
case page (page.py), the forms that change a case (actions.py) and needs and risk (needs.py)."""
from . import actions, lists, needs, page, request  # noqa: F401
