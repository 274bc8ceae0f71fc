"""How transfers show elsewhere and react to the case's lifecycle:

* the case page's transfer block (the case's school team and coordinator; the "전학 보내기"
  button for the case's school lead while the case is open and no transfer waits);
* the home block: a lead's incoming and outgoing open transfers, a coordinator's overdue ones
  (both offices: the scope covers transfers from and to the office's schools);
* a case closed or withdrawn while a transfer waits: the transfer is cancelled with it (a case
  that ended cannot be received).
"""
from __future__ import annotations

from .. import signals
from ..cases.models import OPEN_STATUSES
from ..db import today_kst
from ..lifecycle import PageSection
from ..permissions import (DISTRICT_COORDINATOR, SCHOOL_LEAD, can_send_transfer, can_view_case, has_role)
from .transfer_queries import home_transfers, open_transfer_for, transfers_for_case


@signals.case_page_sections.connect
def case_section(case, user=None, **_kwargs):
    """The transfers of the case, for whoever sees the case; the send button for its lead."""
    if not can_view_case(user, case):
        return None
    transfers = transfers_for_case(case)
    can_send = can_send_transfer(user, case) and case.status in OPEN_STATUSES and not any(
        t.status == "sent" for t in transfers)
    if not transfers and not can_send:
        return None
    return PageSection(template="records/transfer_case_section.html", order=40, context={
        "transfers": transfers, "can_send": can_send, "today": today_kst(),
        "can_open": has_role(user, SCHOOL_LEAD, DISTRICT_COORDINATOR),
        "is_lead": has_role(user, SCHOOL_LEAD)})


@signals.home_sections.connect
def home_section(user, **_kwargs):
    """Open transfers on a lead's home; overdue ones on a coordinator's."""
    if not has_role(user, SCHOOL_LEAD, DISTRICT_COORDINATOR):
        return None
    today = today_kst()
    lists = home_transfers(user, today)
    shown = sum(len(v) for v in lists.values())
    return PageSection(template="records/transfer_home.html", order=10, context={
        **lists, "lead": has_role(user, SCHOOL_LEAD), "today": today, "rows_shown": shown})


def _cancel_waiting(case, actor, cause: str) -> None:
    from .transfer_services import cancel_transfer
    transfer = open_transfer_for(case)
    if transfer is not None:
        cancel_transfer(transfer, actor, cause=cause)


@signals.case_closed.connect
def case_closed(case, actor=None, **_kwargs):
    """A closed case cannot be received: its waiting transfer is cancelled."""
    _cancel_waiting(case, actor, "case_closed")


@signals.case_withdrawn.connect
def case_withdrawn(case, actor=None, **_kwargs):
    """A withdrawn request takes its waiting transfer with it."""
    _cancel_waiting(case, actor, "case_withdrawn")
