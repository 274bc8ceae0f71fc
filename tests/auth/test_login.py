"""Login and logout through the real form: success, refusals that say nothing, redirects, audit."""
import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User

GENERIC = "아이디 또는 비밀번호가 올바르지 않습니다."


def actions(db, action=None):
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.filter_by(action=action)
    return list(db.session.execute(query).scalars())


def test_login_page_is_korean_and_accessible(client):
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="ko">' in html
    assert '<h1 id="login-title" class="ieum-page-title">로그인</h1>' in html
    assert 'href="#main">본문 바로가기</a>' in html
    assert '<label for="login">아이디</label>' in html and '<label for="password">비밀번호</label>' in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert 'id="krds-header"' in html and 'id="krds-footer"' in html
    assert "vendor/pretendard/pretendard-gov.css" in html and "vendor/krds/css/component/component.css" in html


def test_login_lands_on_home_and_is_audited(client, login, build, db):
    user = build.user("school_staff")
    response = login(user)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/home/school"
    assert db.session.get(User, user.id).last_login_at is not None
    [event] = actions(db, "login")
    assert (event.actor_id, event.outcome, event.object_id) == (user.id, "allowed", user.uid)


def test_wrong_password_and_unknown_login_get_the_same_answer(client, login, build, db):
    user = build.user("school_staff")
    wrong = login(user, "not-the-password-1")
    unknown = login("nobody-here", "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 400
    for response in (wrong, unknown):
        html = response.get_data(as_text=True)
        assert GENERIC in html and 'data-testid="error-summary"' in html
        assert "current-user" not in html
    assert [e.outcome for e in actions(db, "login_failed")] == ["denied", "denied"]
    # the audit trail never stores the password that was tried
    assert all("not-the-password" not in (e.details or "") for e in actions(db))


def test_empty_form_shows_errors_next_to_fields_and_in_summary(client):
    response = client.post("/login", data={"login": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#login">아이디: 아이디를 입력해 주세요.</a>' in html
    assert 'id="login-error">아이디를 입력해 주세요.</p>' in html
    assert 'aria-describedby="login-error"' in html and 'aria-invalid="true"' in html
    assert 'id="password-error">비밀번호를 입력해 주세요.</p>' in html


def test_deactivated_user_gets_the_generic_refusal(client, login, build, db):
    user = build.user("school_staff")
    user.active = False
    db.session.commit()
    response = login(user)
    assert response.status_code == 400 and GENERIC in response.get_data(as_text=True)
    [event] = actions(db, "login_failed")
    assert '"inactive":true' in event.details


def test_login_follows_a_local_next_page(client, login, build):
    user = build.user("school_lead")
    page = client.get("/home/lead")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    response = client.post("/login?next=/home/lead", data={"login": user.login, "password": "Correct-horse-42",
                                                          "next": "/home/lead"})
    assert response.headers["Location"] == "/home/lead"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "home"])
def test_login_never_redirects_off_site(client, build, target):
    user = build.user("school_staff")
    response = client.post("/login", data={"login": user.login, "password": "Correct-horse-42", "next": target})
    assert response.headers["Location"] == "/"


def test_logged_in_user_visiting_login_goes_home(client, login, build):
    login(build.user("guardian"))
    assert client.get("/login").headers["Location"] == "/"


def test_a_login_starts_a_fresh_session_but_keeps_the_language(client, login, build):
    user = build.user("school_staff")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["lang"] = "en"
    login(user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["_user_id"] == user.uid and "last_seen" in session


def test_logout_ends_the_session_and_is_audited(client, login, build, db):
    user = build.user("agency_coordinator")
    login(user)
    with client.session_transaction() as session:
        session["lang"] = "ko"
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login")
    assert "로그아웃되었습니다." in page.get_data(as_text=True)
    assert client.get("/home/agency").status_code == 302  # back to the login page
    with client.session_transaction() as session:
        assert "_user_id" not in session and session["lang"] == "ko"
    [event] = actions(db, "logout")
    assert event.actor_id == user.id


def test_logout_is_post_only(client, login, build):
    login(build.user("school_staff"))
    assert client.get("/logout").status_code == 405
    assert client.get("/home/school").status_code == 200


def test_logout_when_not_logged_in_just_goes_to_login(client, db):
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert actions(db, "logout") == []
