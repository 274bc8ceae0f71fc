"""flask demo seed: one demo user per role, passwords chosen or random, never in production."""
import html
import re

import pytest
from sqlalchemy import select

from app.auth.models import Organisation, User
from app.demo import organisations

PASSWORD = "Demo-password-2026"
#: the demo users the issue promises, with their roles and organisations
EXPECTED = {
    "demo-school": ("school_staff", "B100000465"),
    "demo-lead": ("school_lead", "B100000465"),
    "demo-coordinator": ("district_coordinator", "SEOBU"),
    "demo-guardian": ("guardian", None),
    "demo-agency": ("agency_coordinator", "AG-MAPO-YOUTH"),
    "demo-auditor": ("auditor", "SEN"),
    "demo-admin": ("admin", "SEN"),
}
#: role -> (its home page, the heading only that page has)
HOMES = {
    "school_staff": ("/home/school", "학교 지원팀 홈"),
    "school_lead": ("/home/lead", "지원팀장 홈"),
    "district_coordinator": ("/home/district", "교육지원청 담당자 홈"),
    "guardian": ("/home/guardian", "교육후견인 홈"),
    "agency_coordinator": ("/home/agency", "유관기관 담당자 홈"),
    "auditor": ("/home/auditor", "감사 담당자 홈"),
    "admin": ("/home/admin", "시스템 관리자 홈"),
}


def demo_users(db) -> dict:
    rows = db.session.execute(
        select(User.login, User.role, Organisation.code).outerjoin(Organisation, User.organisation)
        .where(User.login.like("demo-%"))).all()
    return {login: (role, code) for login, role, code in rows}


def seed(app, *args):
    return app.test_cli_runner().invoke(args=["demo", "seed", *args])


def test_seed_creates_one_demo_user_per_role(app, db, client, login):
    result = seed(app, "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    users = demo_users(db)
    assert EXPECTED.items() <= users.items()
    assert {role for role, _code in users.values()} == {role for role, _code in EXPECTED.values()}
    for name in EXPECTED:
        assert f"{name} {PASSWORD}" in result.output
    assert login("demo-school", PASSWORD, follow=True).request.path == "/home/school"


def test_seed_without_password_prints_a_random_one_per_user(app, db, client, login):
    result = seed(app)
    assert result.exit_code == 0, result.output
    printed = dict(line.split(" ", 1) for line in result.output.splitlines() if line.startswith("demo-"))
    assert EXPECTED.keys() <= printed.keys()
    assert len(set(printed.values())) == len(printed)  # every account its own password
    assert login("demo-guardian", printed["demo-guardian"], follow=True).request.path == "/home/guardian"


def test_seed_runs_once(app, db):
    seed(app, "--password", PASSWORD)
    again = seed(app, "--password", PASSWORD)
    assert again.exit_code == 0 and "데모 데이터가 이미 있습니다" in again.output
    assert len(db.session.execute(select(User).filter_by(login="demo-school")).scalars().all()) == 1


def test_seed_refuses_in_production(make_app):
    app = make_app(IEUM_ENV="production", SECRET_KEY="a-real-production-secret")
    result = seed(app, "--password", PASSWORD)
    assert result.exit_code == 1
    assert "IEUM_ENV=production 에서는 데모 데이터를 만들 수 없습니다." in result.output
    with app.app_context():
        from app.extensions import db
        assert db.session.execute(select(User)).first() is None


def test_a_password_the_policy_refuses_leaves_nothing_behind(app, db):
    result = seed(app, "--password", "short")
    assert result.exit_code == 1 and "10자 이상" in result.output
    assert demo_users(db) == {}
    assert db.session.execute(select(Organisation).filter_by(code="B100000465")).first() is None


def test_seeder_module_can_be_used_directly(app, db):
    """Browser tests call organisations.seed() with chosen passwords, then commit."""
    organisations.seed({name: PASSWORD for name, *_ in organisations.DEMO_USERS})
    db.session.commit()
    assert EXPECTED.items() <= demo_users(db).items()


def sign_in_through_the_form(client, name: str, password: str):
    """GET the sign-in page, fill its form's own fields, submit, follow every redirect."""
    page = client.get("/login").get_data(as_text=True)
    form = re.search(r'<form method="post" action="(/login)".*?</form>', page, re.S)
    assert form, "no sign-in form on /login"
    fields = set(re.findall(r'<input[^>]*\bname="([^"]+)"', form.group(0)))
    assert {"login", "password"} <= fields, fields
    return client.post(form.group(1), data={"login": name, "password": password}, follow_redirects=True)


@pytest.mark.parametrize("name,role", [(name, role) for name, _display, role, _org in organisations.DEMO_USERS])
def test_each_demo_user_signs_in_and_sees_their_own_home(app, db, client, name, role):
    """The whole way a person goes: the demo's login and password in the real form, the redirects
    followed to the page the role lands on, and that page is the role's home itself (its own
    heading and the signed-in user's name), not the sign-in page answering 200 again."""
    seed(app, "--password", PASSWORD)
    response = sign_in_through_the_form(client, name, PASSWORD)
    path, heading = HOMES[role]
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and response.history, (response.status_code, response.request.path)
    assert response.request.path == path
    assert f'<h1 class="ieum-page-title">{heading}</h1>' in page
    assert [h for other, (_p, h) in HOMES.items() if other != role and f">{h}</h1>" in page] == []
    user = db.session.execute(select(User).filter_by(login=name)).scalar_one()
    identity = re.search(r'data-testid="home-identity">(.*?)</p>', page, re.S).group(1)
    assert user.display_name in identity
    assert 'id="login-title"' not in page and 'name="password"' not in page
    # and the home is the signed-in session's: the same client opens it again without the form
    again = client.get("/", follow_redirects=True)
    assert again.request.path == path and f">{heading}</h1>" in again.get_data(as_text=True)


def test_a_wrong_password_lands_back_on_the_sign_in_form(app, client):
    """The check above can fail: the same steps with a wrong password end on /login, no home."""
    seed(app, "--password", PASSWORD)
    response = sign_in_through_the_form(client, "demo-school", "Wrong-password-2026")
    page = response.get_data(as_text=True)
    assert response.request.path == "/login" and 'id="login-title"' in page
    assert not any(f">{heading}</h1>" in page for _path, heading in HOMES.values())
