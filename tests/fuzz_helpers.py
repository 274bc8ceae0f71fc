"""Shared machinery of the form and list fuzz tests (issue 19).

* ``fuzz`` (fixture): the route matrix's ``mworld`` is built once per test process and kept as a
  database snapshot; every fuzz test gets a fresh copy of it under the one app of the process (a
  world costs ~1.5 s, an app ~0.3 s, a copy a fraction of that), so uids, and the select options
  discovered in one copy, hold in all.
* ``discover`` (tests/fuzz_discovery.py): every form of every GET page, per allowed role, parsed with html.parser: the POST
  forms by endpoint and, per GET endpoint, its list parameters (its GET forms' fields and every
  query argument the view reads, recorded while the page renders: that is how ``page`` is found).
* the second state (tests/fuzz_states.py): objects in the states that show the other forms
  (a case in screening, a referral waiting for an answer, a locked account, ...), added to the
  world before the snapshot; discovery opens their pages too, and ``Fuzz.target`` posts there.
* ``fingerprint``: a hash of every table (ordered by primary key) and of the audit events that
  are not a view, read or refusal: what a refused submission must leave as it was.
"""
from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db

from .conftest import PG_URL, FreshRequestClient, base_config
from .route_table import ANON
from .fuzz_discovery import Discovery, discover
from .fuzz_states import CLIENTS, add_states
from .test_route_matrix import USERS, _url
from .test_view_audit import sign_in

#: audit events a refused request may write: it read something, or it was refused and says so
READ_SUFFIXES = ("_viewed", "_searched", "_looked_up")
DENIALS = frozenset({"permission_denied", "clearance_blocked", "login_failed", "login_locked",
                     "password_change_refused", "mail_address_verify_refused"})


def harmless(action: str, exports: bool = False) -> bool:
    """A view/read/refusal event (and, for GET pages, a download: ``exports``)."""
    return action in DENIALS or action.endswith(READ_SUFFIXES + (("_exported", "_printed") if exports else ()))


#: values nobody means: NUL, direction override, zero-width, huge, past 2^63, impossible dates,
#: blank, markup, SQL quotes, emoji, numbers a float parser takes
HOSTILE = ("\x00", "a\u202eb", "\u200b", "x" * 10_000, "9" * 30, "-1", str(2**63), "0001-01-01", "9999-12-31",
           "2026-02-30", "", "   ", "<script>alert(1)</script>", "' OR '1'='1' --", "😀👨‍👩‍👧", "1e309", "NaN",
           "None", "0", "../../etc/passwd")


def refused(response) -> bool:
    """Neither a redirect (the post-redirect-get of a success) nor a download."""
    download = "attachment" in response.headers.get("Content-Disposition", "")
    return not (300 <= response.status_code < 400 or download)


_TABLES: list = []


def fingerprint(exports: bool = False, skip: frozenset = frozenset()) -> dict:
    """{table: sha256 of its rows}: every table in full by primary key; of audit_event only the
    events that are not ``harmless``.  ``skip``: tables a refusal may write by design."""
    if not _TABLES:  # reflected once: every copy has the same schema
        meta = sa.MetaData()
        meta.reflect(bind=db.session.connection())
        _TABLES.extend(sorted(meta.tables.values(), key=lambda t: t.name))
    prints = {}
    for table in _TABLES:
        if table.name in skip:
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        rows = db.session.execute(sa.select(table).order_by(*order))
        digest = hashlib.sha256()
        for row in rows:
            if table.name == "audit_event" and harmless(row.action, exports):
                continue
            digest.update(repr(tuple(row)).encode())
        prints[table.name] = digest.hexdigest()
    db.session.rollback()
    return prints


def changed(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


# -- one world per process, a fresh copy per test ----------------------------------------------

_STORE: dict = {}


@pytest.fixture(scope="session")
def fuzz_store(database):
    """Where the world snapshot lives; dropped (PostgreSQL) at the end of the session."""
    yield _STORE
    if "app" in _STORE:
        with _STORE.pop("app").app_context():
            db.engine.dispose()
    if PG_URL and "snapshot" in _STORE:
        for name in (_STORE["snapshot"], f"ieum_fz_{database.tag}"):
            database._pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _copy(database, source_url: str, name: str) -> str:
    """A copy of the database at ``source_url`` named ``name``; returns its URL."""
    if PG_URL:
        database._pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        database._pg(f"CREATE DATABASE {name} TEMPLATE {make_url(source_url).database}")
        return database._pg_url(name)
    target = database.workdir / f"{name}.db"
    for stale in (target, target.with_name(f"{name}.db-wal"), target.with_name(f"{name}.db-shm")):
        stale.unlink(missing_ok=True)  # a journal left beside a new file would be replayed into it
    src, dst = sqlite3.connect(make_url(source_url).database), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{target}"


def _light(world) -> SimpleNamespace:
    """What the fuzz needs of each world object (uids for URLs, logins to sign in), detached."""
    keep = {}
    for name, obj in vars(world).items():
        if hasattr(obj, "__tablename__"):
            keep[name] = SimpleNamespace(uid=getattr(obj, "uid", None), login=getattr(obj, "login", None),
                                         role=getattr(obj, "role", None), id=getattr(obj, "id", None))
    return SimpleNamespace(**keep)


@dataclass
class Fuzz:
    app: object
    world: SimpleNamespace
    found: Discovery
    clients: dict = field(default_factory=dict)

    def client(self, role: str):
        """A client signed in as the world's user of ``role`` (ANON: signed out; or a browser of
        tests/fuzz_states.CLIENTS, e.g. half-way through a second-factor sign-in), kept."""
        if role not in self.clients:
            self.clients[role] = (self.app.test_client() if role == ANON
                                  else sign_in(self.app, getattr(self.world, USERS[role])) if role in USERS
                                  else CLIENTS[role](self.app, self.world))
            db.session.rollback()
        return self.clients[role]

    def url(self, key: str) -> str:
        return _url(self.app, self.world, key)

    def target(self, key: str, role: str) -> tuple[str, str, str | None]:
        """(role, URL, page to open first) of POST route ``key``: its table URL as ``role``, or,
        for a route of tests/fuzz_states.PAGES, the URL its form there posts to (its object in the
        state that shows the form), as who opened that page."""
        endpoint = key[5:]
        if endpoint in self.found.targets:
            return self.found.targets[endpoint]
        page = self.found.shown_on.get(endpoint)
        return role, self.url(key), page and self.url(page)


@pytest.fixture
def fuzz(request, fuzz_store, database, keys_json):
    """A ``Fuzz`` (app, world, discovery) on a fresh copy of the one world of this process."""
    if "found" not in _STORE:
        source = request.getfixturevalue("app")
        full = request.getfixturevalue("mworld")
        add_states(full, request.getfixturevalue("build"), source)  # the second state (fuzz_states)
        world = _light(full)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # PostgreSQL copies a database nobody is connected to
        url = _copy(database, source.config["SQLALCHEMY_DATABASE_URI"], f"ieum_fzs_{database.tag}")
        _STORE.update(snapshot=make_url(url).database, snapshot_url=url, world=world)
        _STORE["found"] = discover(Fuzz(source, world, Discovery()))
        db.session.rollback()
    if "app" in _STORE:  # one app for the process (building one costs more than a copy)
        with _STORE["app"].app_context():
            db.engine.dispose()  # nobody is connected while its database is replaced
    url = _copy(database, _STORE["snapshot_url"], f"ieum_fz_{database.tag}")
    if "app" not in _STORE:
        _STORE["app"] = create_app(base_config(SQLALCHEMY_DATABASE_URI=url, IEUM_KEYS=keys_json))
        _STORE["app"].test_client_class = FreshRequestClient
    app = _STORE["app"]
    with app.app_context():
        yield Fuzz(app, _STORE["world"], _STORE["found"])
        db.session.remove()
        db.engine.dispose()
