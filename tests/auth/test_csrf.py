"""CSRF: every form carries a token and a POST without one is refused."""
import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def app(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app


def token(html: str) -> str:
    return TOKEN.search(html).group(1)


def log_in(client, user) -> None:
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"login": user.login, "password": "Correct-horse-42",
                                           "csrf_token": token(page)})
    assert response.status_code == 302


def test_every_form_on_the_page_carries_a_token(client, build):
    login_page = client.get("/login").get_data(as_text=True)
    assert login_page.count("<form") == len(TOKEN.findall(login_page)) == 2  # login, language
    log_in(client, build.user("school_staff"))
    home = client.get("/home/school").get_data(as_text=True)
    assert home.count("<form") == len(TOKEN.findall(home)) == 2  # logout, language


def test_login_without_a_token_is_refused(client, build, db):
    user = build.user("school_staff")
    response = client.post("/login", data={"login": user.login, "password": "Correct-horse-42"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "보안 토큰이 만료되었습니다" in page
    assert client.get("/home/school").status_code == 302  # not logged in
    assert db.session.execute(select(AuditEvent).filter_by(action="login")).first() is None


def test_logout_without_a_token_is_refused_with_a_korean_400(client, build):
    log_in(client, build.user("school_staff"))
    response = client.post("/logout")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "보안 토큰이 만료되었거나 올바르지 않습니다." in html
    assert client.get("/home/school").status_code == 200  # still logged in


def test_a_forged_token_is_refused(client, build):
    log_in(client, build.user("school_staff"))
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.post("/lang/en", data={"csrf_token": "forged", "back": "/"}).status_code == 400


def test_logout_with_the_token_works(client, build):
    log_in(client, build.user("school_staff"))
    home = client.get("/home/school").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": token(home)})
    assert response.headers["Location"] == "/login"
    assert client.get("/home/school").status_code == 302
