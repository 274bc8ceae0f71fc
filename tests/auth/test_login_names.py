"""Login names are unique after NFKC and case folding; look-alikes can neither be created nor
reset the real account's lock; control characters are refused; the password policy refuses
guessable passwords."""
import pytest
from sqlalchemy import select

from app.auth.models import LoginThrottle, User
from app.auth.services import LoginRefused, authenticate, check_password_policy, create_user, login_key
from app.domain import DomainError


@pytest.mark.parametrize("twin", ["DEMO-LEAD", "ｄｅｍｏ-ｌｅａｄ", " demo-lead ", "Demo-Lead"])
def test_a_look_alike_login_cannot_be_created(build, db, twin):
    build.user("school_lead", login="demo-lead")
    with pytest.raises(DomainError) as refused:
        create_user(login=twin, display_name="쌍둥이", role="admin", organisation=build.organisation("city_office"),
                    password="Another-river-stone-77")
    assert refused.value.field == "login" and "이미 사용 중인 아이디" in refused.value.message
    assert db.session.scalar(select(db.func.count(User.id))) == 1


@pytest.mark.parametrize("bad", ["demo\x00lead", "demo\u200blead", "demo\nlead", "\u202edemo"])
def test_control_and_format_characters_are_refused(build, db, bad):
    with pytest.raises(DomainError) as refused:
        create_user(login=bad, display_name="사람", role="school_staff", organisation=build.school(),
                    password="Another-river-stone-77")
    assert "보이지 않는 문자" in refused.value.message


def test_every_spelling_counts_on_the_same_lock(app, build, db):
    app.config["LOGIN_MAX_FAILURES"] = 5
    user = build.user("school_lead", login="demo-lead")
    with app.test_request_context():
        for spelling in ["DEMO-LEAD", "ｄｅｍｏ-ｌｅａｄ", "Demo-Lead", "demo-lead ", "demo-lead"]:
            with pytest.raises(LoginRefused):
                authenticate(spelling, "wrong-password-1")
            db.session.commit()
        assert db.session.get(LoginThrottle, "demo-lead").failures == 5
        with pytest.raises(LoginRefused) as locked:  # the right password no longer helps: locked
            authenticate("demo-lead", "Correct-horse-42")
    assert "잠겼습니다" in locked.value.message
    assert user.last_login_at is None


def test_signing_in_with_another_spelling_is_the_same_account(app, build, db):
    user = build.user("school_staff", login="kim.teacher")
    with app.test_request_context():
        assert authenticate("KIM.TEACHER", "Correct-horse-42") is user
    assert login_key("ＫＩＭ.teacher ") == "kim.teacher"


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1234567890", "password12", "qwertyuiop", "abcdefghij",
                                      "iloveyou123", "0000000000"])
def test_guessable_passwords_are_refused(password):
    with pytest.raises(DomainError) as refused:
        check_password_policy(password, "kim.teacher", "김선생")
    assert refused.value.field == "password"


@pytest.mark.parametrize("password", ["Correct-horse-42", "새학기-지원-2026", "Another-river-stone-77"])
def test_strong_passwords_pass(password):
    check_password_policy(password, "kim.teacher", "김선생")


def test_login_and_name_still_refused_and_length_kept():
    with pytest.raises(DomainError, match="아이디나 이름"):
        check_password_policy("kim.teacher-Zebra-91", "kim.teacher", "김선생")
    with pytest.raises(DomainError, match="10자 이상"):
        check_password_policy("Zq8#vL2!", "kim.teacher", "김선생")
