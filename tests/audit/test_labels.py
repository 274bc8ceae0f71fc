"""Every event code the app records has a Korean label (issue 15): a static scan of app/ written
here independently of app/audit/labels.py, and the codes a representative run (the demo seed,
then each demo user's home page) actually records."""
from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import distinct, select

from app.audit import labels
from app.audit.models import AuditEvent

APP = Path(__file__).resolve().parents[2] / "app"
#: helpers that pass an event code on to record(): name -> position of the code argument
HELPERS = {"record": 0, "_log": 2, "_end": 1, "_audit": 0, "audit": 2}


def _dynamic_codes() -> dict[tuple[str, str], set[str]]:
    """The call sites whose code is computed, with the codes each can produce."""
    from app.agencies.referrals import ACTIONS
    from app.cases.services import TRANSITIONS
    return {
        ("cases/services.py", "f'case_{name}'"): {f"case_{name}" for name in TRANSITIONS},
        ("agencies/referrals.py", "ACTIONS[name]"): set(ACTIONS.values()),
        # these pass on a literal given by their callers (scanned through HELPERS above)
        ("guardians/assignments.py", "action"): set(),
        ("auth/session.py", "action"): set(),
        ("reports/views.py", "action"): set(),
    }


def scan() -> tuple[set[str], set[tuple[str, str]]]:
    """(literal codes, (file, expression) of every computed code) of every call that records."""
    codes, computed = set(), set()
    for path in APP.rglob("*.py"):
        if path.parent.name == "audit" and path.name == "labels.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            at = HELPERS.get(name)
            if at is None or len(node.args) <= at:
                continue
            arg = node.args[at]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if arg.value.replace("_", "").isalpha() and arg.value.islower():
                    codes.add(arg.value)
            else:
                computed.add((path.relative_to(APP).as_posix(), ast.unparse(arg)))
    return codes, computed


def test_the_scan_sees_the_app():
    codes, _ = scan()
    assert {"login", "case_viewed", "audit_searched", "assignment_accepted", "session_expired",
            "report_viewed"} <= codes
    assert len(codes) > 100


def test_every_computed_code_is_known():
    """A new record(f"...") or record(variable) must be added to _dynamic_codes, with its codes."""
    _, computed = scan()
    unknown = computed - set(_dynamic_codes())
    # demo scale's builder passes codes positionally from its own tables: those are literals above
    assert not {c for c in unknown if not c[0].startswith("demo/scale/")}, unknown


def test_every_recorded_code_has_a_label():
    codes, _ = scan()
    for produced in _dynamic_codes().values():
        codes |= produced
    codes -= {"referral"}  # the demo builder's object type, passed in the same call
    missing = sorted(c for c in codes if c not in labels.ACTION_LABELS)
    assert not missing, f"add a label in app/audit/labels.py for: {missing}"


def test_labels_are_unique_and_grouped():
    codes = [code for _group, items in labels.GROUPS for code, _label in items]
    assert len(codes) == len(set(codes))
    texts = [label for _group, items in labels.GROUPS for _code, label in items]
    assert len(texts) == len(set(texts)), "two codes read the same to an auditor"
    assert {g for g, _ in labels.GROUPS} >= {"사례", "학생", "교육후견인", "유관기관", "사례회의", "계정·권한", "접속기록", "통계"}


def test_outcomes_and_fallbacks(app):
    with app.test_request_context():
        assert labels.outcome_label("allowed") == "허용" and labels.outcome_label("denied") == "거부"
        assert labels.action_label("case_viewed") == "사례 열람"
        assert labels.action_label("case_start_support") == "지원 시작"
        assert labels.action_label("never_heard_of") == "never_heard_of"  # an unknown code stays visible


def test_a_representative_run_records_only_labelled_codes(app, db, client, login):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--password", "Demo-password-2026"])
    assert result.exit_code == 0, result.output
    for user in ("demo-school", "demo-lead", "demo-coordinator", "demo-guardian", "demo-agency",
                 "demo-auditor", "demo-admin"):
        login(user, "Demo-password-2026")
        client.get("/", follow_redirects=True)
        client.post("/logout")
    recorded = set(db.session.scalars(select(distinct(AuditEvent.action))))
    assert len(recorded) > 20
    assert not sorted(recorded - set(labels.ACTION_LABELS))
