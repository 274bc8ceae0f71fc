"""Accounts: role and organisation fit, password policy and hashing, the users CLI."""
import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Organisation, User
from app.auth.services import create_user, deactivate_user, set_password
from app.domain import DomainError
from app.permissions import ROLES

GOOD = "Correct-horse-42"


def org_of_kind(build, kind):
    return None if kind is None else build.organisation(kind)


FITS = [(role, kind) for role, (_label, kinds) in ROLES.items() for kind in kinds]
ALL_KINDS = ("school", "agency", "district_office", "city_office", None)
MISFITS = [(role, kind) for role, (_label, kinds) in ROLES.items() for kind in ALL_KINDS if kind not in kinds]


@pytest.mark.parametrize(("role", "kind"), FITS)
def test_each_role_accepts_its_organisation_kinds(build, role, kind):
    user = create_user(login=f"u-{role}", display_name="사용자", role=role,
                       organisation=org_of_kind(build, kind), password=GOOD)
    assert user.role == role


@pytest.mark.parametrize(("role", "kind"), MISFITS)
def test_each_role_refuses_other_organisation_kinds(build, role, kind):
    with pytest.raises(DomainError) as refused:
        create_user(login=f"u-{role}", display_name="사용자", role=role,
                    organisation=org_of_kind(build, kind), password=GOOD)
    assert refused.value.field == "organisation"


def test_unknown_role_and_duplicate_login_are_refused(build, db):
    school = build.school()
    with pytest.raises(DomainError, match="알 수 없는 역할"):
        create_user(login="x1", display_name="가", role="teacher", organisation=school, password=GOOD)
    create_user(login="taken", display_name="가", role="school_staff", organisation=school, password=GOOD)
    with pytest.raises(DomainError, match="이미 사용 중인 아이디"):
        create_user(login="taken", display_name="나", role="school_staff", organisation=school, password=GOOD)


@pytest.mark.parametrize(("login", "name", "password", "message"), [
    ("kim", "김하늘", "short-pw1", "10자 이상"),
    ("haneul.kim", "김하늘", "xxhaneul.kim99", "아이디나 이름"),
    ("teacher7", "김하늘", "HANEUL.KIM-TEACHER7!", "아이디나 이름"),
    ("teacher7", "김하늘", "나는 김 하늘 입니다 2026", "아이디나 이름"),
])
def test_password_policy(build, login, name, password, message):
    with pytest.raises(DomainError, match=message) as refused:
        create_user(login=login, display_name=name, role="school_staff", organisation=build.school(),
                    password=password)
    assert refused.value.field == "password"


def test_passwords_are_hashed_with_scrypt(build, db):
    user = build.user("guardian")
    assert user.password_hash.startswith("scrypt:") and GOOD not in user.password_hash
    set_password(user, "Another-good-pass-9")
    db.session.commit()
    assert user.password_hash.startswith("scrypt:")
    with pytest.raises(DomainError):
        set_password(user, "tiny")


def test_guardian_has_no_organisation_and_display_name_is_encrypted(build, db):
    user = build.user("guardian", display_name="정민재")
    assert user.organisation_id is None
    stored = db.session.execute(select(User.display_name_enc).filter_by(id=user.id)).scalar_one()
    assert "정민재" not in stored


def test_creating_and_deactivating_are_audited(build, db):
    user = build.user("school_staff")
    deactivate_user(user)
    db.session.commit()
    events = db.session.execute(select(AuditEvent.action).filter_by(object_id=user.uid)).scalars().all()
    # each grant change is kept in the grant history too (안전성 확보조치 기준 제5조)
    assert events == ["user_created", "grant_changed", "user_deactivated", "grant_changed"]
    with pytest.raises(DomainError, match="이미 비활성화"):
        deactivate_user(user)


# -- CLI --------------------------------------------------------------------------------------

@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_cli_create_asks_for_the_password_without_echoing_it(cli, build, db):
    school = build.school()
    db.session.commit()
    result = cli.invoke(args=["users", "create", "--role", "school_staff", "--org", school.code,
                              "--login", "new-teacher", "--name", "이선생"], input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "비밀번호" in result.output and GOOD not in result.output
    assert "계정을 만들었습니다: new-teacher (school_staff)" in result.output
    user = db.session.execute(select(User).filter_by(login="new-teacher")).scalar_one()
    assert (user.organisation_id, user.display_name) == (school.id, "이선생")


def test_cli_create_guardian_needs_no_organisation(cli, db):
    result = cli.invoke(args=["users", "create", "--role", "guardian", "--login", "guardian-1"],
                        input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("args", "password", "message"), [
    (["--role", "school_staff", "--org", "NOPE"], GOOD, "기관 코드를 찾을 수 없습니다: NOPE"),
    (["--role", "school_staff", "--org", "SEOBU"], GOOD, "역할과 소속 기관의 종류가 맞지 않습니다."),
    (["--role", "guardian"], "short", "10자 이상"),
])
def test_cli_create_refusals_change_nothing(cli, db, args, password, message):
    result = cli.invoke(args=["users", "create", *args, "--login", "refused-1"], input=f"{password}\n{password}\n")
    assert result.exit_code == 1 and message in result.output
    assert db.session.execute(select(User).filter_by(login="refused-1")).first() is None


def test_cli_create_refuses_a_mistyped_confirmation(cli, db):
    result = cli.invoke(args=["users", "create", "--role", "guardian", "--login", "g2"],
                        input=f"{GOOD}\nsomething-else\n")
    assert result.exit_code != 0
    assert db.session.execute(select(User).filter_by(login="g2")).first() is None


def test_cli_deactivate(cli, build, db, client, login):
    user = build.user("school_staff")
    result = cli.invoke(args=["users", "deactivate", user.login])
    assert result.exit_code == 0 and f"계정을 비활성화했습니다: {user.login}" in result.output
    db.session.expire_all()
    assert db.session.get(User, user.id).active is False
    assert login(user).status_code == 400
    again = cli.invoke(args=["users", "deactivate", user.login])
    assert again.exit_code == 1 and "이미 비활성화된 계정입니다." in again.output
    unknown = cli.invoke(args=["users", "deactivate", "nobody"])
    assert unknown.exit_code == 1 and "계정을 찾을 수 없습니다: nobody" in unknown.output


def test_seoul_offices_are_there_for_the_cli(db):
    """The migration loads the city office and the 11 district offices as organisations."""
    kinds = db.session.execute(select(Organisation.kind, Organisation.code)).all()
    assert ("city_office", "SEN") in kinds
    assert sum(1 for kind, _ in kinds if kind == "district_office") == 11


def test_cli_works_without_a_pushed_app_context(make_app):
    """As `flask users ...` runs: the command group pushes its own app context."""
    app = make_app()
    result = app.test_cli_runner().invoke(args=["users", "create", "--role", "auditor", "--org", "SEN",
                                                "--login", "auditor-1"], input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output


def test_default_config_hashes_with_full_scrypt_cost(make_app):
    """Tests run a cheaper scrypt; the shipped default must stay werkzeug's full cost."""
    from app.auth.services import hash_password
    from app.config import Config
    app = make_app(PASSWORD_HASH_METHOD=Config.PASSWORD_HASH_METHOD)
    with app.app_context():
        assert hash_password("Correct-horse-42").startswith("scrypt:32768:8:1$")
