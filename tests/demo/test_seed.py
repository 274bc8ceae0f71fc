"""flask demo seed: one demo user per role, passwords chosen or random, never in production."""
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
    assert login("demo-school", PASSWORD).status_code == 302


def test_seed_without_password_prints_a_random_one_per_user(app, db, client, login):
    result = seed(app)
    assert result.exit_code == 0, result.output
    printed = dict(line.split(" ", 1) for line in result.output.splitlines() if line.startswith("demo-"))
    assert EXPECTED.keys() <= printed.keys()
    assert len(set(printed.values())) == len(printed)  # every account its own password
    assert login("demo-guardian", printed["demo-guardian"]).status_code == 302


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


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_demo_user_reaches_their_home(app, client, login, name):
    seed(app, "--password", PASSWORD)
    login(name, PASSWORD)
    assert client.get("/", follow_redirects=True).status_code == 200
