"""The district home's overdue panel walks the open overdue plan actions in due order
(ix_plan_action_status_due, migration 0022), whatever the statistics say: probing each of a
district's ~9,000 cases cost 4.5 ms of every district home at Seoul scale, and after ANALYZE
SQLite chose the probes again for the plain join."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from app.cases.plan import add_plan_action
from app.cases.queries import overdue_actions
from app.db import today_kst
from app.extensions import db
from tests.conftest import PG_URL


def overdue_statements(user) -> tuple[tuple[str, object], tuple[str, object], list]:
    """(the user's own, everyone's) overdue-action statements with their parameters, and the result."""
    seen = []

    def keep(_conn, _cursor, statement, parameters, *_args):
        seen.append((statement, parameters))
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        found = overdue_actions(user)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    picks = [(s, p) for s, p in seen if "plan_action.due_on <" in s]
    assert len(picks) == 2 and "owner_id" in picks[0][0] and "owner_id" not in picks[1][0]
    return picks[0], picks[1], found


def world(build, district_name: str = "마포구"):
    office = build.organisation("district_office", district_name)
    coordinator = build.user("district_coordinator", organisation=office)
    day = today_kst() - dt.timedelta(days=3)
    titles = []
    for i in range(4):
        school = build.school(name=f"망원{i}초등학교")
        lead = build.user("school_lead", organisation=school)
        case = build.case(school, status="in_support", lead=lead)
        add_plan_action(case, lead, goal=f"목표{i}", action="x", due_on=day - dt.timedelta(days=i))
        add_plan_action(case, lead, goal=f"나중{i}", action="x", due_on=today_kst() + dt.timedelta(days=5))
        titles.append(f"목표{i}")
    db.session.commit()
    return coordinator, lead, titles


#: sqlite_stat1 as ANALYZE wrote it for the Seoul-scale data (flask demo scale): the planner's view
#: of 60,000 cases and 215,185 plan actions, given to the test's few rows
SEOUL_STATISTICS = [
    ("organisation", "ix_organisation_office_code", "2912 243"), ("organisation", "ix_organisation_kind", "2912 728"),
    ("support_case", "ix_support_case_school_status", "60000 43 5 3"), ("support_case", "ix_support_case_school_id", "60000 43"),
    ("support_case", "ix_support_case_status", "60000 6000"),
    ("plan_action", "ix_plan_action_case_status_due", "215185 5 3 1"), ("plan_action", "ix_plan_action_case_id", "215185 5"),
    ("plan_action", "ix_plan_action_due_on", "215185 272"), ("plan_action", "ix_plan_action_status_due", "215185 71728 80"),
]


def give_statistics(rows) -> None:
    connection = db.session.connection()
    connection.exec_driver_sql("ANALYZE")
    connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl IN ('organisation', 'support_case', 'plan_action')")
    for row in rows:
        connection.exec_driver_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", row)
    connection.exec_driver_sql("ANALYZE sqlite_schema")  # the planner reads the statistics again
    db.session.commit()


def first_step(statement: tuple[str, object]) -> str:
    return db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement[0], statement[1]).all()[0][-1]


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's query planner")
@pytest.mark.parametrize("statistics", ["analyzed", "new index not yet analyzed"])
def test_a_district_walks_the_overdue_actions_in_due_order_whatever_the_statistics(app, build, statistics):
    coordinator, _lead, titles = world(build)
    give_statistics([row for row in SEOUL_STATISTICS if statistics == "analyzed" or row[1] != "ix_plan_action_status_due"])
    own, everyone, found = overdue_statements(coordinator)
    assert "ix_plan_action_status_due" in first_step(everyone)  # the walk in due order comes first
    # the coordinator's own few: by owner, not a walk past every overdue action of the city
    assert "ix_plan_action_owner_id" in first_step(own)
    assert [action.goal for action, _case in found] == list(reversed(titles))


def test_the_oldest_overdue_actions_come_first_for_a_district_and_a_school(app, build):
    coordinator, lead, titles = world(build)
    found = [action.goal for action, _case in overdue_actions(coordinator)]
    assert found == list(reversed(titles))  # the oldest due day first, none not yet due
    assert [action.goal for action, _case in overdue_actions(lead)] == ["목표3"]
