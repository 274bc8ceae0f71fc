"""Case views, split by screen: the lists (lists.py), the one-screen request (request.py), the
case page (page.py) and the forms that change a case (actions.py)."""
from . import actions, lists, page, request  # noqa: F401
