"""The match page says each candidate's real state: the case's assignments with theirs
(제안됨 · 수락 대기, 활동 중, 거절 …), and a suggested guardian who cannot be proposed because the
case is full says "선택 안 됨" — never "배정 완료" for a guardian nobody chose."""
from __future__ import annotations

import html as htmllib
import re

import pytest
from sqlalchemy import select

import app.guardians.match_views  # noqa: F401  (routes registered before the first app)
from app.extensions import db
from app.guardians.assignments import accept_assignment, decline_assignment, propose_assignment
from app.guardians.match_states import CANDIDATE_STATES, candidate_state
from app.guardians.models import Assignment

from .conftest import make_eligible_guardian


@pytest.mark.parametrize("status, load, capacity, places, expected", [
    ("proposed", 0, 2, 1, "proposed"), ("active", 2, 2, 0, "active"), ("declined", 0, 2, 1, "declined"),
    ("suspended", 1, 2, 0, "suspended"), ("closed", 0, 2, 1, "closed"),
    (None, 2, 2, 1, "full"), (None, 3, 2, 0, "full"), (None, 0, 2, 0, "not_chosen"), (None, 1, 2, 1, "available")])
def test_candidate_state(status, load, capacity, places, expected):
    assert candidate_state(status, load, capacity, places) == expected
    assert CANDIDATE_STATES[expected]


def test_unknown_status_is_refused():
    with pytest.raises(ValueError):
        candidate_state("accepted", 0, 1, 1)


def _page(client, case) -> str:
    response = client.get(f"/guardians/match/{case.uid}")
    assert response.status_code == 200
    return htmllib.unescape(response.get_data(as_text=True))


def _state(page: str, guardian, table: str) -> str:
    """The state a table row of ``guardian`` shows (``table``: case-candidates or suggestions)."""
    body = page[page.index(f'data-testid="{table}"'):]
    body = body[:body.index("</table>")]
    row = re.search(rf'<tr data-guardian="{guardian.uid}"(.*?)</tr>', body, re.S)
    assert row, (guardian.name, table)
    found = re.search(r'data-state="([a-z_]+)"', row.group(0))
    return found.group(1)


def test_states_follow_the_assignments(build, client, login, coordinator):
    case = build.case(build.school(), status="in_support")  # needs one guardian
    first, first_user = make_eligible_guardian(build, coordinator, login="g-first")
    second, second_user = make_eligible_guardian(build, coordinator, login="g-second")
    login(coordinator)
    page = _page(client, case)
    assert _state(page, first, "suggestions") == _state(page, second, "suggestions") == "available"
    assert 'data-testid="case-candidates"' not in page

    assignment = propose_assignment(case, first, coordinator)
    db.session.commit()
    page = _page(client, case)
    assert "배정 완료" not in page
    assert _state(page, first, "case-candidates") == "proposed" and "제안됨 · 수락 대기" in page
    assert _state(page, second, "suggestions") == "not_chosen" and "선택 안 됨" in page
    row = page[page.index(f'data-guardian="{second.uid}"'):]
    assert "연계 제안" not in row[:row.index("</tr>")]  # no propose button for a full case
    assert client.post(f"/guardians/match/{case.uid}/propose", data={"guardian": second.uid}).status_code == 400

    decline_assignment(assignment, first_user, "일정이 맞지 않음")
    db.session.commit()
    page = _page(client, case)
    assert _state(page, first, "case-candidates") == "declined" and "거절" in page
    assert f'<tr data-guardian="{first.uid}"' not in page[page.index('data-testid="suggestions"'):]
    assert _state(page, second, "suggestions") == "available"

    assert client.post(f"/guardians/match/{case.uid}/propose", data={"guardian": second.uid}).status_code == 302
    proposed = db.session.execute(select(Assignment).filter_by(guardian_id=second.id)).scalar_one()
    accept_assignment(proposed, second_user)
    db.session.commit()
    page = _page(client, case)
    assert _state(page, second, "case-candidates") == "active" and "활동 중" in page
    assert _state(page, first, "case-candidates") == "declined"
