"""Issue 19: a database that cannot be written (a read-only file, a lost server) answers a Korean 503
that says what happened, never a 500 (real SQLite opened read-only)."""
from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from app.errors import is_storage_error

from .conftest import PG_URL
from .factories import DEFAULT_PASSWORD


@pytest.mark.skipif(bool(PG_URL), reason="a read-only file is a SQLite situation; PostgreSQL is covered below")
def test_a_read_only_database_answers_503_with_what_to_do(database, make_app):
    writable = make_app()
    with writable.app_context():
        from .factories import Builder
        from app.extensions import db
        user = Builder().user("school_lead")
        login = user.login
        db.session.commit()
    path = make_url(writable.config["SQLALCHEMY_DATABASE_URI"]).database
    readonly = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///file:{path}?mode=ro&uri=true")
    client = readonly.test_client()
    response = client.post("/login", data={"login": login, "password": DEFAULT_PASSWORD})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "데이터베이스에 기록할 수 없습니다" in page and "Traceback" not in page


def test_storage_errors_are_told_apart_from_busy_locks():
    class Orig(Exception):
        def __init__(self, text, sqlstate=None):
            super().__init__(text)
            self.sqlstate = sqlstate

    class Wrapped(Exception):
        def __init__(self, orig):
            super().__init__(str(orig))
            self.orig = orig

    assert is_storage_error(Wrapped(Orig("attempt to write a readonly database")))
    assert is_storage_error(Wrapped(Orig("cannot execute INSERT in a read-only transaction", "25006")))
    assert is_storage_error(Wrapped(Orig("connection failed", "08006")))
    assert not is_storage_error(Wrapped(Orig("database is locked")))
    assert not is_storage_error(Wrapped(Orig("no such column: x")))
