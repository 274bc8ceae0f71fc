"""Each role lands on its own home page, with an honest empty state, and is refused the others."""
import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.home.views import HOMES
from app.permissions import ROLES

#: role -> the heading of its home page
HEADINGS = {
    "school_staff": "학교 지원팀 홈",
    "school_lead": "지원팀장 홈",
    "district_coordinator": "교육지원청 담당자 홈",
    "guardian": "교육후견인 홈",
    "agency_coordinator": "유관기관 담당자 홈",
    "auditor": "감사 담당자 홈",
    "admin": "시스템 관리자 홈",
}
#: role -> a sentence its empty home page shows
EMPTY = {
    "school_staff": "아직 담당한 지원 사례가 없습니다.",
    "school_lead": "선정 결정을 기다리는 사례가 없습니다.",
    "district_coordinator": "교육지원청에 요청된 사례가 없습니다.",
    "guardian": "현재 배정된 학생이 없습니다.",
    "agency_coordinator": "받은 의뢰가 없습니다.",
    "admin": "키 상태는 flask keys status 명령으로 확인합니다.",
}


def test_every_role_has_a_home():
    assert set(HOMES) == set(ROLES) == set(HEADINGS)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_lands_on_its_own_home(client, login, build, role):
    user = build.user(role, display_name="홍길동")
    login(user)
    landing = client.get("/")
    assert landing.status_code == 302 and landing.headers["Location"] == f"/home/{HOMES[role]}"
    page = client.get(landing.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<h1 class="ieum-page-title">{HEADINGS[role]}</h1>' in html
    assert f"<title>{HEADINGS[role]} | 이음</title>" in html
    # the header names the user, their organisation and role, and offers a logout button
    header = html[html.index('data-testid="current-user"'):html.index("</header>")]
    assert "홍길동" in header and ROLES[role][0] in header
    if user.organisation is not None:
        assert user.organisation.name in header
    assert 'data-testid="logout"' in header and "로그아웃" in header
    if role in EMPTY:
        assert EMPTY[role] in html
    assert page.headers["Cache-Control"] == "no-store"


def test_guardian_header_shows_no_organisation(client, login, build):
    login(build.user("guardian", display_name="정민재"))
    html = client.get("/home/guardian").get_data(as_text=True)
    assert "ieum-user-org" not in html


def test_home_marks_the_current_menu_entry(client, login, build):
    login(build.user("school_staff"))
    html = client.get("/home/school").get_data(as_text=True)
    assert '<a href="/" aria-current="page">홈</a>' in html


@pytest.mark.parametrize("path", ["/", *[f"/home/{segment}" for segment in HOMES.values()]])
def test_anonymous_visitors_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


MATRIX = [(role, other) for role in sorted(ROLES) for other in sorted(ROLES) if other != role
          and HOMES[other] != HOMES[role]]


@pytest.mark.parametrize(("role", "other"), MATRIX)
def test_each_role_is_refused_the_other_homes(client, login, build, db, role, other):
    user = build.user(role)
    login(user)
    response = client.get(f"/home/{HOMES[other]}")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "접근 권한이 없습니다" in html and HEADINGS[other] not in html
    [event] = db.session.execute(select(AuditEvent).filter_by(action="permission_denied")).scalars()
    assert (event.actor_id, event.outcome, event.object_id) == (user.id, "denied", f"home.{HOMES[other]}")


def test_only_the_most_specific_menu_entry_is_current(client, login, build):
    """/cases/new marks 지원 요청 as current, not also 지원 사례 (/cases/)."""
    login(build.user("school_staff"))
    html = client.get("/cases/new").get_data(as_text=True)
    assert html.count('aria-current="page"') == 1
    current = html.split('aria-current="page"')[0].rsplit("<a", 1)[1] + html.split('aria-current="page"')[1][:200]
    assert "/cases/new" in current
