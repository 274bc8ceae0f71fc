"""Fixtures shared by every test: a migrated database per test, the app, a client, logins.

Each test gets a fresh database cloned from one migrated template per test process: a file
copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL (set IEUM_TEST_DATABASE_URL).
The audit trail's triggers forbid deleting events, so cloning is also the only clean reset.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import freezegun
import jinja2
import pytest
import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from werkzeug.routing import Rule

from app import create_app
from app.config import TestConfig
from app.crypto import KeyRing
from app.extensions import db as _db

from . import factories

PG_URL = os.environ.get("IEUM_TEST_DATABASE_URL") or None
# psycopg times its connection attempts with time.monotonic: under a frozen or moved clock a
# connection opened meanwhile (the clone threads below, while a test travels in time) timed out
freezegun.configure(extend_ignore_list=["psycopg"])
#: PostgreSQL clones waiting to be dropped before a test waits for them (each holds ~11 MB)
MAX_PENDING_DROPS = 4
DEMO_PASSWORD = factories.DEFAULT_PASSWORD


def base_config(**overrides) -> dict:
    """TestConfig as a dict, so a test can change any setting for its own app."""
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(overrides)
    return config


class Database:
    """A migrated template database and per-test clones of it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
        if PG_URL:
            self.admin = sa.create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
            self.template = f"ieum_tpl_{self.tag}"
            self._pg(f"DROP DATABASE IF EXISTS {self.template}")
            self._pg(f"CREATE DATABASE {self.template}")
            self.template_url = self._pg_url(self.template)
            # CREATE and DROP DATABASE wait on the server (~0.1 s each, more on a loaded machine):
            # one thread makes the next clone and another drops used ones while a test runs
            self._ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-create")
            self._behind = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-drop")
            self._ready: Future | None = None
            self._drops: deque[Future] = deque()
            self._unreleased: set[str] = set()
        else:
            self.template_url = f"sqlite:///{workdir / 'template.db'}"
        self.clones = 0

    def _pg(self, statement: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(statement)

    def _pg_url(self, name: str) -> str:
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def migrate_template(self, keys_json: str) -> None:
        from flask_migrate import upgrade
        app = create_app(base_config(SQLALCHEMY_DATABASE_URI=self.template_url, IEUM_KEYS=keys_json))
        with app.app_context():
            upgrade()
            _db.engine.dispose()

    def clone(self) -> str:
        """A fresh copy of the migrated template; returns its URL."""
        self.clones += 1
        if PG_URL:
            while self._drops and (self._drops[0].done() or len(self._drops) > MAX_PENDING_DROPS):
                self._drops.popleft().result()  # a slow server: wait rather than pile up clones
            ready = self._ready or self._ahead.submit(self._create, self.clones)
            name = ready.result()
            self._unreleased.add(name)
            self._ready = self._ahead.submit(self._create, self.clones + 1)
            return self._pg_url(name)
        target = self.workdir / f"test_{self.clones}.db"
        shutil.copyfile(self.workdir / "template.db", target)
        return f"sqlite:///{target}"

    def _create(self, number: int) -> str:
        name = f"ieum_t_{self.tag}_{number}"
        self._pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._pg(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return name

    def release(self, url: str) -> None:
        """A clone its test has finished with (engine disposed): dropped behind the next test."""
        name = make_url(url).database
        if PG_URL and name in self._unreleased:
            self._unreleased.discard(name)
            self._drops.append(self._behind.submit(self._pg, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def drop_all(self) -> None:
        if PG_URL:
            self._ahead.shutdown(wait=True)  # the clone made ahead
            self._behind.shutdown(wait=True)  # the last drops
            if self._ready is not None and self._ready.exception() is None:
                self._unreleased.add(self._ready.result())
            for name in self._unreleased:
                self._pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self._pg(f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)")
            self.admin.dispose()


class SharedTemplates(jinja2.BytecodeCache):
    """Compiled templates shared by every app of the test process.

    Each test builds its own app, whose Jinja environment would otherwise parse and compile
    again every template it renders (30 ms for the sign-in page, more for a case page: a large
    part of a short test).  The bucket key is the template's name and source checksum, so an
    edited template compiles afresh."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


SHARED_TEMPLATES = SharedTemplates()


def _share_url_builders() -> None:
    """Compile each URL rule's builders once per test process.

    Werkzeug turns every rule into two builder functions through ``ast`` and ``compile()``:
    ~35 of the ~42 ms a test spends building its app.  A builder takes the rule as its first
    argument and closes over nothing, so it is a function of the rule's text and parts; rules
    whose defaults fill a part of the URL are left to Werkzeug."""
    original = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, "shared", False):
        return
    builders: dict = {}

    def compile_builder(self, append_unknown: bool = True):
        defaults = self.defaults or {}
        if any(dynamic and part in defaults for dynamic, part in self._trace):
            return original(self, append_unknown)
        key = (self.rule, self.subdomain, self.host, tuple(self._trace), repr(sorted(defaults.items())),
               append_unknown)
        if key not in builders:
            builders[key] = original(self, append_unknown)
        return builders[key]

    compile_builder.shared = True
    Rule._compile_builder = compile_builder


_share_url_builders()


class FreshRequestClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as in production.

    The ``app`` fixture keeps one app context open so tests can use ``db.session``; requests
    reuse that context, and without this the logged-in user, CSRF token and locale cached in
    ``g`` by one request would leak into the next.
    """

    def open(self, *args, **kwargs):
        for name in list(vars(g._get_current_object())) if _has_app_context() else []:
            delattr(g, name)
        return super().open(*args, **kwargs)


def _has_app_context() -> bool:
    from flask import has_app_context
    return has_app_context()


@pytest.fixture(scope="session")
def keys_json() -> str:
    """One real key ring for the session, passed as IEUM_KEYS."""
    return KeyRing.generate().to_json()


@pytest.fixture(scope="session")
def database(tmp_path_factory, keys_json):
    database = Database(tmp_path_factory.mktemp("db"))
    database.migrate_template(keys_json)
    yield database
    database.drop_all()


@pytest.fixture
def make_app(database, keys_json):
    """Build an app on a fresh database; tests call it with config overrides."""
    apps = []

    def _make(**overrides):
        config = base_config(SQLALCHEMY_DATABASE_URI=database.clone(), IEUM_KEYS=keys_json)
        config.update(overrides)
        app = create_app(config)
        app.test_client_class = FreshRequestClient
        app.jinja_env.bytecode_cache = SHARED_TEMPLATES
        apps.append(app)
        return app

    yield _make
    for app in apps:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        database.release(app.config["SQLALCHEMY_DATABASE_URI"])


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """Log a user in through the real form; returns the response."""
    def _login(user_or_login, password: str = DEMO_PASSWORD, follow: bool = False):
        name = getattr(user_or_login, "login", user_or_login)
        return client.post("/login", data={"login": name, "password": password}, follow_redirects=follow)
    return _login


@pytest.fixture
def build(app):
    """Builders with sensible defaults: build.school(), build.user(role), build.agency()."""
    return factories.Builder()
