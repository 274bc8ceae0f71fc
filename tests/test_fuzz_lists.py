"""Every list and filter of the app, fuzzed (issue 19): each GET route whose page reads query
arguments (the fields of its filter forms, ``page``, and every other argument the view asks for,
found by tests/fuzz_helpers.discover) gets hostile values: page 0, -1, 2^63, 10^30, words, dates
out of range, long strings, markup, repeated arguments, unknown ones.

Whatever is asked: never a 500 (a 503 only with Retry-After), and nothing is written but the
list's own view (or download) events.  On SQLite and PostgreSQL alike."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.extensions import db

from .agencies.conftest import agency_with_service  # noqa: F401  (fixture)
from .conferences.conftest import conference_world, make_conference  # noqa: F401  (fixtures)
from .fuzz_helpers import _STORE, HOSTILE, changed, fingerprint, fuzz, fuzz_store  # noqa: F401  (fixtures)
from .guardians.conftest import coordinator, eligible_guardian  # noqa: F401  (fixtures)
from .route_table import ROUTES
from .test_route_matrix import USERS, mworld  # noqa: F401  (fixture)
from .test_view_audit import world  # noqa: F401  (fixture)

#: drawn queries per list (IEUM_FUZZ_EXAMPLES=200 for a deep local run), after EXTREMES
EXAMPLES = int(os.environ.get("IEUM_FUZZ_EXAMPLES", "6"))
EXTREMES = ("9" * 30, "9999-12-31", "-1")
#: what a page number or a filter is sent instead of a real one
QUERY_HOSTILE = HOSTILE + (str(10**30), "abc", "1.5", "0x10", "+1", " 1", "１", "٣", "-0", "2026-13-01",
                           "1899-12-31", "2200-01-01", "2026-W01", "2026-00", "%", "_", "*")
UNKNOWN = ("sort", "order", "limit", "per_page", "format", "zz_extra")
MISSING = object()
#: pages whose first visit writes by design; they are opened once before the fuzz
FIRST_VISIT_WRITES = {"auth.totp_enrol": "the pending second-factor key is created on the first visit"}
#: the lists every build of the app must have (so a broken discovery cannot pass with nothing)
KNOWN_LISTS = {"cases.index", "students.index", "agencies.directory", "notifications.index", "admin.users",
               "admin.organisations", "audit.search", "audit.grants", "guardians.roster", "reports.page"}


def _keys() -> list[str]:
    """Every GET route: the list routes are known only once the world is walked (see the test)."""
    return sorted(k for k in ROUTES if k.startswith("GET "))


def query_value(options: list):
    real = st.sampled_from([o for o in options if o] or ["1"])
    bad = st.sampled_from(QUERY_HOSTILE)
    return st.integers(0, 9).flatmap(lambda n: real if n < 3 else bad if n < 7 else st.just(MISSING) if n == 7
                                     else st.tuples(real, bad).map(list))


def queries(params: dict):
    known = st.fixed_dictionaries({name: query_value(spec.options) for name, spec in sorted(params.items())})
    extra = st.dictionaries(st.sampled_from(UNKNOWN), st.sampled_from(QUERY_HOSTILE), max_size=2)
    return st.tuples(known, extra).map(lambda pair: {k: v for k, v in {**pair[1], **pair[0]}.items()
                                                     if v is not MISSING})


def test_the_lists_are_found(fuzz):
    lists = set(fuzz.found.lists)
    assert KNOWN_LISTS <= lists, f"lists not discovered: {sorted(KNOWN_LISTS - lists)}"
    assert all("page" in fuzz.found.lists[e] for e in KNOWN_LISTS - {"audit.search", "reports.page"})
    assert lists <= {k[4:] for k in _keys()}


@pytest.mark.parametrize("key", _keys())
def test_no_500_and_nothing_written_by_a_list(request, key):
    """A page that reads no query argument is still sent unknown ones (a few draws): a link
    with a stale or forged query must not break it either."""
    fuzz = request.getfixturevalue("fuzz")
    params = fuzz.found.lists.get(key[4:]) or {}
    route = ROUTES[key]
    role = fuzz.found.pages.get(key[4:]) or next(r for r in USERS if r in route.roles)
    url = fuzz.url(key)
    state = {"print": None}

    @settings(derandomize=True, database=None, deadline=None, max_examples=EXAMPLES if params else 2,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(queries(params))
    def ask(query):
        client = fuzz.client(role)
        before = state["print"] or fingerprint(exports=True)
        try:
            response = client.get(url, query_string=query)
        except Exception:
            db.session.rollback()
            raise
        db.session.rollback()
        response.close()  # a download's file
        status = response.status_code
        assert status < 500 or (status == 503 and "Retry-After" in response.headers), \
            f"{key}: {status} for {query!r:.600}"
        after = state["print"] = fingerprint(exports=True)
        assert not changed(before, after), f"{key}: {status}, but wrote {changed(before, after)} for {query!r:.600}"

    if key[4:] in FIRST_VISIT_WRITES:
        fuzz.client(role).get(url).close()
        db.session.rollback()
    for extreme in EXTREMES:  # every argument at once at an edge, whatever the draw
        ask = example({name: extreme for name in params or UNKNOWN[-1:]})(ask)
    ask()
