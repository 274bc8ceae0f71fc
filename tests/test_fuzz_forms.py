"""Every form of the app, fuzzed (issue 19): each POST route of tests/route_table.py gets, as a user
allowed on it, submissions built from the fields its pages really show (tests/fuzz_helpers.py):
each field plausible (one of its options, a real date, a number), hostile (NUL, direction
overrides, 10,000 characters, numbers past 2^63, impossible dates, markup, SQL quotes, emoji),
missing, or sent twice, plus unknown fields.

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
from .guardians.conftest import coordinator, eligible_guardian  # noqa: F401  (fixtures)
from .route_table import ANON, ROUTES
from .test_route_matrix import USERS, mworld  # noqa: F401  (fixture)
from .test_view_audit import world  # noqa: F401  (fixture)

#: POST routes not fuzzed at all, and why
EXCLUDED: dict[str, str] = {}

#: POST routes whose form no page of the world shows (the world lacks the state that shows it):
#: fuzzed with unknown and hostile fields only; a route that starts showing its form fails
#: test_every_post_route_is_fuzzed, so it moves to the full fuzz
NOT_SHOWN: dict[str, str] = {
    "POST auth.login_code": "only while a second factor is pending",
    "POST auth.totp_recovery_codes": "only with a second factor enrolled",
    "POST auth.totp_disable": "only with a second factor enrolled",
    "POST auth.handling_approve": "the spare user is already approved",
    "POST admin.approve": "the spare user is already approved",
    "POST guardians.handling_approve": "the guardian's login is already approved",
    "POST notifications.remove_mail_address": "only with a verified address",
    "POST records.correct_subject_request": "only on a correction request (the world's is an access request)",
    "POST cases.find_student": "a button of the new-case form posting by script",
    "POST cases.select": "only on a case in screening",
    "POST cases.not_select": "only on a case in screening",
    "POST cases.reopen": "only on a closed case",
    "POST cases.withdraw_request": "only on a requested case",
    "POST cases.escalate": "only while no escalation is open (the world's case has one)",
    "POST cases.record_satisfaction_view": "only on a closed case",
    "POST agencies.send_referral": "only on a draft the staff may send (the world's draft lacks consent)",
    "POST records.accept_transfer": "only on an incoming transfer page, which the table does not open",
    "POST records.return_transfer": "only on an incoming transfer page, which the table does not open",
    "POST agencies.inbox_accept": "only on a referral waiting for an answer",
    "POST agencies.inbox_decline": "only on a referral waiting for an answer",
    "POST agencies.inbox_outcome": "only on a referral in service",
    "POST conferences.action_status": "only on the item conference's page, which the table does not open",
    "POST guardians.check_result": "only on a pending record check",
    "POST guardians.create_login": "the guardian already has a login",
    "POST guardians.vet_activate": "only on a guardian in training",
    "POST guardians.reactivate": "only on a suspended assignment",
    "POST guardians.accept": "only on a proposed assignment",
    "POST guardians.decline": "only on a proposed assignment",
    "POST admin.reactivate": "only on a deactivated user",
    "POST admin.unlock": "only on a locked user",
    "POST admin.reset_totp": "only on a user with a second factor",
    "POST admin.reactivate_organisation": "only on a deactivated organisation",
}
#: routes whose success is a page, not a redirect (shown once, never in a URL): how to tell it
SUCCESS_PAGES = {
    "POST admin.reset_password": 'data-testid="password-once"',
    "POST admin.new_user": 'data-testid="password-once"',
}
#: tables a refused submission writes by design: failed sign-ins are counted
REFUSAL_WRITES = {"POST auth.login": frozenset({"login_throttle"})}

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


@pytest.mark.parametrize("key", POSTS)
def test_no_500_and_a_refusal_changes_nothing(fuzz, key):
    fields = fuzz.found.posts.get(key[5:], {})
    role, url, skip = role_for(key), fuzz.url(key), REFUSAL_WRITES.get(key, frozenset())
    state = {"print": None}
    seen = []
    if key[5:] in fuzz.found.shown_on:
        fuzz.client(role).get(fuzz.url(fuzz.found.shown_on[key[5:]]))
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
