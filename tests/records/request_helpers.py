"""Builders for the 열람·정정 request tests (tests/records/test_request*.py)."""
from __future__ import annotations

import datetime as dt

from flask import g

from app.db import today_kst
from app.extensions import db
from app.records import request_services as svc

from ..factories import DEFAULT_PASSWORD


def make_request(lead, student, kind: str = "access", requested_on: dt.date | None = None, **kw):
    """A request recorded through the service by ``lead`` and committed."""
    values = dict(kind=kind, requested_by="parent", requested_on=requested_on or today_kst(),
                  identity_method="parent_record")
    if kind == "correction":
        values["correction_asked"] = "주소가 바뀌었습니다"
    values.update(kw)
    request = svc.record_request(lead, student, **values)
    db.session.commit()
    return request


def sign_in(app, user):
    """A new client signed in as ``user``."""
    g.pop("_login_user", None)
    client = app.test_client()
    response = client.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def get(client, url):
    g.pop("_login_user", None)
    response = client.get(url)
    db.session.rollback()
    return response


def post(client, url, data):
    g.pop("_login_user", None)
    response = client.post(url, data=data)
    db.session.rollback()
    return response
