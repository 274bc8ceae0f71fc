"""Per-IP rate limit on the login form (Flask-Limiter)."""
import pytest


@pytest.fixture
def limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        yield app


def attempt(client, ip="203.0.113.7"):
    return client.post("/login", data={"login": "someone", "password": "wrong-password-1"},
                       environ_base={"REMOTE_ADDR": ip})


def test_login_posts_beyond_the_limit_get_a_korean_429(limited):
    client = limited.test_client()
    assert [attempt(client).status_code for _ in range(3)] == [400, 400, 400]
    refused = attempt(client)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "요청이 너무 많습니다" in html and "잠시 후 다시 시도해 주세요." in html
    assert "per minute" not in html  # nothing of the limiter's own text


def test_the_limit_is_per_ip_and_only_on_posts(limited):
    client = limited.test_client()
    for _ in range(4):
        attempt(client)
    assert attempt(client, ip="198.51.100.2").status_code == 400
    assert client.get("/login", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 200


def test_rate_limited_attempts_do_not_count_towards_the_lock(limited):
    """A refused request never reaches authenticate(), so it cannot lock anyone out either."""
    from app.auth.models import LoginThrottle
    from app.extensions import db
    client = limited.test_client()
    for _ in range(6):
        attempt(client)
    assert db.session.get(LoginThrottle, "someone").failures == 3
