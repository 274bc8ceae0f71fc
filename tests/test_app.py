"""The application factory, configuration errors, security headers, error pages and languages."""
import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from app import create_app
from app.config import ConfigError
from app.crypto import KeyRing
from app.navigation import ROLE_LABEL_MESSAGES
from app.permissions import ROLES
from tests.conftest import base_config
from tests.factories import Builder

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "app/translations/en/LC_MESSAGES/messages.po"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No IEUM_* or DATABASE_URL from the environment, and an empty instance folder."""
    for name in list(os.environ):
        if name.startswith("IEUM_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("IEUM_INSTANCE_PATH", str(tmp_path / "instance"))
    return tmp_path


def config(tmp_path, **overrides):
    values = base_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'never.db'}",
                         IEUM_KEYS=KeyRing.generate().to_json())
    values.update(overrides)
    return values


# -- factory and configuration --------------------------------------------------------------

def test_refuses_to_start_without_a_secret_key(clean_env):
    with pytest.raises(ConfigError) as refused:
        create_app(config(clean_env, SECRET_KEY=None))
    assert "SECRET_KEY is not set" in str(refused.value)
    assert "instance/config.py" in str(refused.value) and "IEUM_SECRET_KEY" in str(refused.value)


def test_refuses_to_start_without_a_key_ring(clean_env):
    missing = clean_env / "instance" / "keys.json"
    with pytest.raises(ConfigError) as refused:
        create_app(config(clean_env, IEUM_KEYS=None, IEUM_KEYS_FILE=str(missing)))
    message = str(refused.value)
    assert "cannot load the key ring" in message and str(missing) in message
    assert "flask keys init" in message and "IEUM_KEYS" in message


def test_refuses_a_key_ring_others_can_read(clean_env):
    ring = clean_env / "keys.json"
    KeyRing.generate(ring).save()
    ring.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        create_app(config(clean_env, IEUM_KEYS=None, IEUM_KEYS_FILE=str(ring)))
    ring.chmod(0o600)
    assert create_app(config(clean_env, IEUM_KEYS=None, IEUM_KEYS_FILE=str(ring)))


def test_refuses_a_broken_key_ring(clean_env):
    with pytest.raises(ConfigError, match="cannot load the key ring"):
        create_app(config(clean_env, IEUM_KEYS="{not json"))


def test_a_flask_command_with_a_garbled_ring_says_so_in_one_line(tmp_path):
    """Issue 19: an operator sees what is wrong, not a traceback."""
    import os
    import subprocess
    import sys
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o700)
    (folder / "keys.json").write_text("{garbled")
    (folder / "keys.json").chmod(0o600)
    env = {**os.environ, "FLASK_APP": "app", "IEUM_INSTANCE_PATH": str(folder), "IEUM_SECRET_KEY": "x",
           "IEUM_KEYS_FILE": str(folder / "keys.json"), "DATABASE_URL": f"sqlite:///{folder / 'ieum.db'}"}
    env.pop("IEUM_KEYS", None)
    done = subprocess.run([sys.executable, "-m", "flask", "audit", "verify"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "cannot load the key ring" in done.stderr


def test_refuses_the_test_secret_in_production(clean_env):
    with pytest.raises(ConfigError, match="must not be used in production"):
        create_app(config(clean_env, IEUM_ENV="production"))


def test_create_app_neither_creates_tables_nor_migrates(clean_env):
    create_app(config(clean_env))
    assert not (clean_env / "never.db").exists()


def test_secrets_and_settings_come_from_the_environment(clean_env, monkeypatch):
    monkeypatch.setenv("IEUM_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("IEUM_KEYS", KeyRing.generate().to_json())
    monkeypatch.setenv("DATABASE_URL", "postgres://ieum@db.example/ieum")
    monkeypatch.setenv("IEUM_ENV", "production")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://ieum@db.example/ieum"
    assert app.config["SESSION_COOKIE_SECURE"] is True  # Secure outside development
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_cookies_work_over_plain_http(clean_env, monkeypatch):
    monkeypatch.setenv("IEUM_SECRET_KEY", "dev-secret")
    monkeypatch.setenv("IEUM_KEYS", KeyRing.generate().to_json())
    app = create_app()
    assert app.config["IEUM_ENV"] == "development" and app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/ieum.db")


def test_instance_config_file_is_read(clean_env, monkeypatch):
    instance = clean_env / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("SECRET_KEY = 'from-the-instance-file'\n")
    monkeypatch.setenv("IEUM_KEYS", KeyRing.generate().to_json())
    assert create_app().config["SECRET_KEY"] == "from-the-instance-file"


# -- security headers -------------------------------------------------------------------------

def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert "Strict-Transport-Security" not in response.headers  # plain-http test config


def test_static_files_may_be_cached_but_keep_the_other_headers(client):
    response = client.get("/static/ieum.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_hsts_when_cookies_are_secure(make_app):
    response = make_app(SESSION_COOKIE_SECURE=True).test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_request_id_is_always_the_servers(client):
    for sent in ("abc\x1bdef", "proxy-123"):
        response = client.get("/login", headers={"X-Request-ID": sent})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


@pytest.mark.parametrize("path", ["/login", "/home/school", "/does-not-exist"])
def test_pages_have_no_inline_script_or_style(client, login, build, path):
    login(build.user("school_staff"))
    html = client.get(path).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\sstyle=", html) and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


# -- error pages -------------------------------------------------------------------------------

def test_404_is_korean(client):
    response = client.get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in html and '<html lang="ko">' in html
    assert "로그인 화면으로" in html  # an anonymous visitor is pointed to the login page


def test_405_keeps_the_allow_header(client):
    response = client.delete("/login")
    assert response.status_code == 405 and "허용되지 않은 요청입니다" in response.get_data(as_text=True)
    assert "POST" in response.headers["Allow"]


def test_400_is_korean(app, client):
    @app.route("/_test/bad")
    def bad():
        from flask import abort
        abort(400, "secret detail of the failure")
    response = client.get("/_test/bad")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "잘못된 요청입니다" in html
    assert "secret detail" not in html


def test_other_http_errors_keep_their_status(app, client):
    @app.route("/_test/gone")
    def gone():
        from flask import abort
        abort(410)
    response = client.get("/_test/gone")
    assert response.status_code == 410 and "잘못된 요청입니다" in response.get_data(as_text=True)


@pytest.fixture
def failing_app(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.route("/_test/boom")
    def boom():
        raise RuntimeError("password=hunter2 in /srv/ieum/app/secret.py line 42")
    return app


def test_500_is_korean_and_leaks_nothing(failing_app, caplog):
    response = failing_app.test_client().get("/_test/boom", headers={"X-Request-ID": "req-42"})
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "일시적인 오류가 발생했습니다" in html and "req-42" not in html
    assert response.headers["X-Request-ID"] in html  # the server's id, which the log also carries
    for leak in ("hunter2", "RuntimeError", "Traceback", "secret.py"):
        assert leak not in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "RuntimeError" in caplog.text  # the traceback goes to the log instead


def test_500_still_answers_when_the_error_page_fails(failing_app, monkeypatch):
    import app.errors as errors

    def broken(*_args, **_kwargs):
        raise RuntimeError("template broken")
    monkeypatch.setattr(errors, "render_template", broken)
    response = failing_app.test_client().get("/_test/boom")
    assert response.status_code == 500
    assert "일시적인 오류가 발생했습니다" in response.get_data(as_text=True)


# -- languages ---------------------------------------------------------------------------------

@pytest.fixture
def english(tmp_path, make_app):
    """An app reading the committed catalogue compiled here (the .mo files are not in git)."""
    with PO_FILE.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    target = tmp_path / "translations" / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    app = make_app(BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "translations"))
    cache = app.extensions["babel"].instance.domain_instance.cache
    cache.clear()  # Flask-Babel caches catalogues per process, by language only
    with app.app_context():
        yield app
    cache.clear()


def test_korean_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="ko">' in html and ">English</button>" in html


def test_switching_to_english_and_back(english):
    client = english.test_client()
    response = client.post("/lang/en", data={"back": "/login?next=/home/school"})
    assert response.headers["Location"] == "/login?next=/home/school"
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and '<h1 id="login-title" class="ieum-page-title">Log in</h1>' in html
    assert '<label for="login">Login</label>' in html and ">한국어</button>" in html
    user = Builder().user("school_staff", display_name="김하늘")  # the english fixture's context
    client.post("/login", data={"login": user.login, "password": "Correct-horse-42"})
    home = client.get("/home/school").get_data(as_text=True)
    assert "School support team home" in home and ">Log out</button>" in home
    assert "School support team</span>" in home  # the role label in the header
    client.post("/lang/ko", data={"back": "/home/school"})
    assert "학교 지원팀 홈" in client.get("/home/school").get_data(as_text=True)


def test_english_error_messages(english):
    client = english.test_client()
    client.post("/lang/en", data={"back": "/"})
    assert "Page not found" in client.get("/nowhere").get_data(as_text=True)
    refused = client.post("/login", data={"login": "x", "password": "wrong-password-1"})
    assert "The login or password is not correct." in refused.get_data(as_text=True)


def test_error_pages_and_the_layout_have_no_korean_in_english(english):
    """The 404 page with the header, skip link and footer: every word English but the switch
    back to 한국어 (a language is named in itself)."""
    client = english.test_client()
    client.post("/lang/en", data={"back": "/"})
    html = client.get("/nowhere").get_data(as_text=True)
    assert "Skip to main content" in html and "Page not found" in html and "Error 404" in html
    visible = re.sub(r"<[^>]+>", " ", html.replace(">한국어</button>", "></button>"))
    assert not re.findall(r"[\uac00-\ud7a3]+", visible)


def test_the_last_resort_error_page_follows_the_language(english, monkeypatch):
    import app.errors as errors

    @english.route("/_test/boom")
    def boom():
        raise RuntimeError("boom")
    english.config["PROPAGATE_EXCEPTIONS"] = False
    def broken(*_args, **_kwargs):
        raise RuntimeError("template broken")
    monkeypatch.setattr(errors, "render_template", broken)
    client = english.test_client()
    client.post("/lang/en", data={"back": "/"})
    html = client.get("/_test/boom").get_data(as_text=True)
    assert '<html lang="en">' in html and "Something went wrong" in html and "Please wait a moment" in html
    client.post("/lang/ko", data={"back": "/"})
    assert "일시적인 오류가 발생했습니다" in client.get("/_test/boom").get_data(as_text=True)


@pytest.mark.parametrize("code", ["fr", "xx"])
def test_unknown_languages_are_ignored(client, code):
    client.post(f"/lang/{code}", data={"back": "/login"})
    assert '<html lang="ko">' in client.get("/login").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client):
    assert client.post("/lang/en", data={"back": "//evil.example/"}).headers["Location"] == "/"


def test_role_labels_are_in_the_catalogue():
    assert set(ROLE_LABEL_MESSAGES) == {label for label, _kinds in ROLES.values()}


#: the files of the interface chrome (header, menu, login, errors); feature pages add their own
CHROME = ["app/templates/base.html", "app/templates/_nav.html", "app/templates/_macros.html",
          "app/templates/auth/login.html", "app/templates/errors/error.html", "app/errors.py",
          "app/navigation.py", "app/auth/forms.py", "app/auth/services.py", "app/auth/session.py",
          "app/auth/views.py"]
HOME_HEADINGS = ["학교 지원팀 홈", "지원팀장 홈", "교육지원청 담당자 홈", "교육후견인 홈", "유관기관 담당자 홈",
                 "감사 담당자 홈", "시스템 관리자 홈"]


def test_the_interface_chrome_is_translated_to_english():
    """Every message in the header, login, home pages and errors has an English translation."""
    with PO_FILE.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None}
    wanted = [("home", msgid) for msgid in HOME_HEADINGS]
    for path in CHROME:
        method = babel_extract if path.endswith(".html") else "python"
        wanted += [(path, msgid) for _line, msgid, _comments, _context
                   in extract_from_file(method, str(ROOT / path), keywords=keywords)]
    missing = [f"{path}: {msgid}" for path, msgid in wanted
               if catalog.get(msgid) is None or not catalog.get(msgid).string or catalog.get(msgid).fuzzy]
    assert len(wanted) > 50 and missing == []


def test_database_errors_do_not_carry_values(app, db):
    """An error raised by the database shows no bound parameter, so no value reaches a log."""
    import pytest
    import sqlalchemy as sa
    with pytest.raises(sa.exc.IntegrityError) as error:
        db.session.execute(sa.text("INSERT INTO district_office (code, name_ko, name_en) VALUES (:c, :k, :e)"),
                           {"c": "SEOBU", "k": "비밀값-홍길동", "e": "x"})
    db.session.rollback()
    assert "비밀값-홍길동" not in str(error.value) and "hidden" in str(error.value)


def test_the_wsgi_entry_point_freezes_what_start_up_made(tmp_path):
    """Issue 13: gunicorn's workers keep the start-up objects out of every full collection, and
    hand the GIL over every millisecond."""
    import subprocess
    import sys
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o700)
    KeyRing.generate(folder / "keys.json").save()
    (folder / "keys.json").chmod(0o600)
    env = {**os.environ, "IEUM_INSTANCE_PATH": str(folder), "IEUM_SECRET_KEY": "x",
           "IEUM_KEYS_FILE": str(folder / "keys.json"), "DATABASE_URL": f"sqlite:///{folder / 'ieum.db'}"}
    env.pop("IEUM_KEYS", None)
    probe = "import gc, sys, wsgi; print(gc.get_freeze_count(), wsgi.app.name, sys.getswitchinterval())"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    frozen, name, interval = done.stdout.split()
    assert int(frozen) > 50_000 and name == "app"
    assert float(interval) == 0.001  # a thread back from SQL gets the GIL within 1 ms, not 5


@pytest.mark.skipif(bool(os.environ.get("IEUM_TEST_DATABASE_URL")), reason="a SQLite connection setting")
def test_every_sqlite_connection_gets_the_configured_page_cache(make_app):
    # 2 MB (SQLite's default) made a 2,000-row import spill pages under the write lock
    from app.extensions import db
    for kib, app in ((16_384, make_app()), (4_096, make_app(SQLITE_CACHE_KIB=4_096))):
        with app.app_context():
            db.engine.dispose()  # new connections, made with this app's settings
            with db.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -kib
