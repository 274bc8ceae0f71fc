"""Every form of the app, fuzzed (issue 19): each POST route of tests/route_table.py gets, as a user
allowed on it, submissions built from the fields its pages really show (tests/fuzz_helpers.py):
each field plausible (one of its options, a real date, a number), hostile (NUL, direction
overrides, 10,000 characters, numbers past 2^63, impossible dates, markup, SQL quotes, emoji),
missing, or sent twice, plus unknown fields.  A form shown only on an object in another state (a
case in screening, a referral waiting for an answer, a locked account, a second factor pending, ...)
is fuzzed on such an object of tests/fuzz_states.py, as who sees it there.

Whatever is sent: never a 500 (a 503 only with Retry-After); and a submission that was refused
(neither a redirect nor a download) changed nothing: every table and every audit event but
views and refusals are as they were.  On SQLite and PostgreSQL alike."""
from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.db import today_kst

from .agencies.conftest import agency_with_service  # noqa: F401  (fixture)
from .conferences.conftest import conference_world, make_conference  # noqa: F401  (fixtures)
from .fuzz_helpers import HOSTILE, changed, fingerprint, fuzz, fuzz_store, refused  # noqa: F401  (fixtures)
from .fuzz_states import PAGES
from .guardians.conftest import coordinator, eligible_guardian  # noqa: F401  (fixtures)
from .route_table import ANON, ROUTES
from .test_route_matrix import USERS, mworld  # noqa: F401  (fixture)
from .test_view_audit import world  # noqa: F401  (fixture)

#: POST routes not fuzzed at all, and why
EXCLUDED: dict[str, str] = {}

#: POST routes whose form no page of the world shows (neither the table's pages nor those of the
#: objects in other states, tests/fuzz_states.py): fuzzed with unknown and hostile fields only; a
#: route that starts showing its form fails test_every_post_route_is_fuzzed, so it moves to the full fuzz
NOT_SHOWN: dict[str, str] = {}
#: routes whose success is a page, not a redirect (shown once, never in a URL): how to tell it
SUCCESS_PAGES = {
    "POST admin.reset_password": 'data-testid="password-once"',
    "POST admin.new_user": 'data-testid="password-once"',
}
#: tables a refused submission writes by design: failed sign-ins (passwords and codes) are counted
REFUSAL_WRITES = {"POST auth.login": frozenset({"login_throttle"}),
                  "POST auth.login_code": frozenset({"login_throttle"})}

POSTS = sorted(k for k in ROUTES if k.startswith("POST ") and k not in EXCLUDED)
#: drawn submissions per route (IEUM_FUZZ_EXAMPLES=200 for a deep local run), after EXTREMES
EXAMPLES = int(os.environ.get("IEUM_FUZZ_EXAMPLES", "5"))
EXTREMES = ("9999-12-31", "0001-01-01", "9" * 30)
UNKNOWN = ("role", "id", "uid", "organisation_id", "active", "status", "zz_extra", "__proto__")
TEXTS = ("상담 내용", "테스트 메모", "홍길동", "N00000099", "010-1234-5678", "fuzz@example.com", "Fuzz-pass-2026!x")
CSV = ("이름,생년월일,학년,반,번호\n김퍼즈,2014-03-02,5,1,3\n".encode(), b"\xff\xfe\x00garbage",
       ("=cmd|' /C calc'!A0," + "가" * 5000 + "\n").encode())


def plausible(spec):
    today = today_kst()
    if spec.kind == "file":
        return st.sampled_from(CSV)
    options = [o for o in spec.options if o] or spec.options
    if options and spec.kind in ("select", "radio", "checkbox", "submit", "hidden"):
        if spec.multiple:
            return st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True)
        return st.sampled_from(options)
    if spec.kind == "date":
        return st.integers(-400, 400).map(lambda d: (today + dt.timedelta(days=d)).isoformat())
    if spec.kind == "number":
        return st.integers(0, 40).map(str)
    if spec.kind == "time":
        return st.sampled_from(["09:00", "15:30"])
    return st.sampled_from(options + list(TEXTS) if options else TEXTS)


class _Missing:
    def __repr__(self):
        return "MISSING"


MISSING = _Missing()  # the field is not sent at all


def value(spec):
    """Mostly plausible (so the hostile ones get past the other fields), else hostile, missing or
    twice; shrinks towards plausible."""
    good, bad = plausible(spec), st.sampled_from(HOSTILE)
    return st.integers(0, 9).flatmap(lambda n: good if n < 6 else bad if n < 8 else st.just(MISSING) if n == 8
                                     else st.tuples(good, bad).map(list))


def submissions(fields: dict):
    known = st.fixed_dictionaries({name: value(spec) for name, spec in sorted(fields.items())})
    extra = st.dictionaries(st.sampled_from(UNKNOWN), st.sampled_from(HOSTILE), max_size=2)
    return st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})


def encode(data: dict, fields: dict) -> dict:
    out = {}
    for name, v in data.items():
        if v is MISSING:
            continue
        if fields.get(name) and fields[name].kind == "file":
            v = (io.BytesIO(v if isinstance(v, bytes) else str(v).encode()), "fuzz.csv")
        out[name] = v
    return out


def role_for(key: str) -> str:
    roles = ROUTES[key].roles
    if key in ("POST auth.login", "POST auth.login_code"):
        return ANON
    return next(role for role in USERS if role in roles)


def test_every_post_route_is_fuzzed(fuzz):
    """A POST route is fuzzed with the fields its page shows, unless declared here with a reason."""
    found = {f"POST {endpoint}" for endpoint in fuzz.found.posts}
    missing = [k for k in POSTS if k not in found and k not in NOT_SHOWN]
    assert not missing, f"POST routes whose form no page shows; declare them in NOT_SHOWN or EXCLUDED: {missing}"
    stale = [k for k in NOT_SHOWN if k in found]
    assert not stale, f"NOT_SHOWN routes whose form a page now shows (remove them from NOT_SHOWN): {stale}"
    assert set(EXCLUDED) | set(NOT_SHOWN) <= set(ROUTES)
    # the routes fuzzed on an object in another state: each found on its page (discovery checks it)
    moved = {f"POST {endpoint}" for *_, endpoints in PAGES for endpoint in endpoints}
    assert moved <= set(POSTS) and moved == {f"POST {endpoint}" for endpoint in fuzz.found.targets}


@pytest.mark.parametrize("key", POSTS)
def test_no_500_and_a_refusal_changes_nothing(fuzz, key):
    fields = fuzz.found.posts.get(key[5:], {})
    role, url, page = fuzz.target(key, role_for(key))
    skip = REFUSAL_WRITES.get(key, frozenset())
    state = {"print": None}
    seen = []
    if page:
        fuzz.client(role).get(page)
        db.session.rollback()

    @settings(derandomize=True, database=None, deadline=None, max_examples=EXAMPLES,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(submissions(fields))
    def submit(data):
        if role not in fuzz.clients:
            state["print"] = None  # signing in writes its own event
        client = fuzz.client(role)
        before = state["print"] or fingerprint(skip=skip)
        state["print"] = None
        try:
            response = client.post(url, data=encode(data, fields))
        except Exception:
            db.session.rollback()
            raise
        db.session.rollback()
        seen.append(response.status_code)
        status = response.status_code
        assert status < 500 or (status == 503 and "Retry-After" in response.headers), \
            f"{key}: {status} for {data!r:.600}"
        if role != ANON and "/login" in response.headers.get("Location", ""):
            fuzz.clients.pop(role)  # the submission ended the session: sign in again
        success_page = key in SUCCESS_PAGES and SUCCESS_PAGES[key] in response.get_data(as_text=True)
        response.close()  # a download's file
        if refused(response) and not success_page:
            after = fingerprint(skip=skip)
            assert not changed(before, after), \
                f"{key}: refused with {status}, but wrote {changed(before, after)} for {data!r:.600}"
            state["print"] = after

    for extreme in EXTREMES if fields else ():  # every field at once at an edge, whatever the draw
        submit = example({name: extreme for name in fields})(submit)
    submit()
    assert seen, key
