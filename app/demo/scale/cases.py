"""Students and their support cases in every lifecycle state, over two years: the status decides
how old the request is and which steps (selection, planning, consent, support, closing) happened."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from ...cases.models import DOMAINS, RISK_LEVELS, STATUSES, CaseNeed, CaseSelection, SupportCase
from ...cases.satisfaction import CaseSatisfaction
from ...students.models import Student
from .build import Build, Case
from .casework import chronology, consents, escalate, notes, plan
from .words import FOREIGN_NAMES, HOME_LANGUAGES, NEED_TEXTS, RELATIONS, SUMMARIES, address, person_name, phone

#: status -> (share, youngest and oldest request in days)
STATUS_MIX = {"requested": (0.04, 0, 20), "screening": (0.04, 3, 40), "selected": (0.03, 10, 60),
              "not_selected": (0.05, 20, 720), "planning": (0.05, 20, 90), "in_support": (0.30, 40, 420),
              "monitoring": (0.12, 60, 540), "closed": (0.25, 90, 725), "follow_up": (0.08, 120, 725),
              "withdrawn": (0.04, 5, 720)}
#: the transitions (audit action case_<name>) each status went through, in order
PATHS = {"requested": [], "withdrawn": ["withdraw"], "screening": ["start_screening"],
         "not_selected": ["start_screening", "not_select"], "selected": ["start_screening", "select"]}
PATHS["planning"] = PATHS["selected"] + ["start_planning"]
PATHS["in_support"] = PATHS["planning"] + ["start_support"]
PATHS["monitoring"] = PATHS["in_support"] + ["start_monitoring"]
PATHS["closed"] = PATHS["monitoring"] + ["close"]
PATHS["follow_up"] = PATHS["closed"] + ["start_follow_up"]
TARGET = {"withdraw": "withdrawn", "start_screening": "screening", "not_select": "not_selected", "select": "selected",
          "start_planning": "planning", "start_support": "in_support", "start_monitoring": "monitoring",
          "close": "closed", "start_follow_up": "follow_up"}
CLOSE_REASONS = ("goals_met", "goals_met", "goals_met", "transferred", "graduated", "declined")
RISKS = (("general", 0.55), ("intensive", 0.25), ("crisis", 0.15), ("emergency", 0.05))
#: school level -> (grades, age in grade 1)
GRADES = {"elementary": (6, 7), "middle": (3, 13), "high": (3, 16), "special": (12, 7)}


def build_cases(b: Build, tick) -> None:
    rng = b.rng
    total = b.n("students", minimum=len(STATUS_MIX) * 2)
    picks = rng.choices(range(len(b.schools)), [s.weight for s in b.schools], k=total)
    picks[:len(b.schools)] = range(min(total, len(b.schools)))  # every school has a case or more
    per_school = Counter(picks)
    statuses = list(STATUS_MIX)
    shares = [STATUS_MIX[s][0] for s in statuses]
    biggest = max(per_school, key=per_school.get)
    long_cases = max(1, round(20 * b.scale))
    n = 0
    for index in sorted(per_school):
        school = b.schools[index]
        for k in range(per_school[index]):
            status = statuses[n] if n < len(statuses) else rng.choices(statuses, shares)[0]
            # a few cases (one in the biggest school) with hundreds of chronology lines
            long = n >= len(statuses) and ((index == biggest and k == per_school[index] - 1)
                                           or n % max(1, total // long_cases) == 0)
            if long:
                status = "in_support"
            one_case(b, school, status, long)
            n += 1
            tick(1)
    b.writer.flush()


def _student(b: Build, school) -> tuple[int, str, dict]:
    rng = b.rng
    grades, first_age = GRADES[school.level]
    grade = rng.randrange(1, grades + 1)
    born = dt.date(b.today.year - first_age - grade + 1 - (b.today.month < 3), 1, 1) + dt.timedelta(
        days=rng.randrange(365))
    migrant = rng.random() < 0.07
    name = rng.choice(FOREIGN_NAMES) if migrant and rng.random() < 0.5 else person_name(rng)
    uid = b.uid()
    student_id = b.writer[Student].add(
        uid=uid, school_id=school.id, grade=grade, class_no=rng.randrange(1, 9), number=rng.randrange(1, 31),
        migrant_background=migrant, home_language=rng.choice(HOME_LANGUAGES) if migrant else None,
        special_education=school.level == "special" or rng.random() < 0.03, name=name, birth_date=born,
        phone=phone(rng) if school.level != "elementary" else None, address=address(rng, school.gu_name),
        parent_name=person_name(rng), parent_relation=rng.choice(RELATIONS), parent_phone=phone(rng),
        neis_number=f"{rng.randrange(10 ** 9, 10 ** 10)}")
    return student_id, uid, {"grade": grade, "name": name}


def one_case(b: Build, school, status: str, long: bool = False) -> Case:
    rng, w = b.rng, b.writer
    _share, young, old = STATUS_MIX[status]
    requested = b.day_ago(rng.randrange(young, old + 1) if not long else rng.randrange(200, 400))
    path = PATHS[status]
    age = max(1, (b.today - requested).days)
    days = sorted(rng.randrange(age) for _ in path)
    steps = [(name, requested + dt.timedelta(days=d)) for name, d in zip(path, days)]
    student_id, student_uid, info = _student(b, school)
    staff = b.staff[school.id]
    owner, lead = rng.choice(staff), b.leads[school.id]
    risk = rng.choices([r for r, _ in RISKS], [p for _, p in RISKS])[0]
    closed_on = next((d for name, d in steps if name == "close"), None)
    escalated = risk in ("crisis", "emergency") and status in ("planning", "in_support", "monitoring") \
        and (rng.random() < 0.3 or not b.counts.get("escalated"))  # at least one, whatever the scale
    b.counts["escalated"] = b.counts.get("escalated", 0) + escalated
    answered = escalated and rng.random() < 0.5
    uid = b.uid()
    created = b.at(requested)
    case_id = w[SupportCase].add(
        uid=uid, school_id=school.id, student_id=student_id, status=status, risk_level=risk,
        urgency=RISK_LEVELS[risk][1], requested_by=rng.choice(("staff", "staff", "staff", "parent", "student")),
        requested_on=requested, created_by_id=owner, owner_id=owner, summary=rng.choice(SUMMARIES),
        escalation_open=escalated and not answered, closed_on=closed_on,
        close_reason=rng.choice(CLOSE_REASONS) if closed_on else None,
        withdraw_reason="다른 학생으로 잘못 접수하여 철회" if status == "withdrawn" else None,
        guardians_needed=1 if rng.random() < 0.85 else 2, created_at=created, updated_at=created)
    case = Case(case_id, uid, school.id, school.office, student_id, student_uid, status, requested,
                closed_on or b.today, owner, lead, risk=risk, student_name=info["name"])
    b.cases.append(case)
    b.audit(created, owner, "student_created", "student", student_uid, student_uid)
    b.audit(created, owner, "case_requested", "support_case", uid, student_uid)
    chronology(b, case, created, "request", "지원 요청 접수", owner)
    domains = rng.sample(list(DOMAINS), rng.choice((1, 1, 2, 2, 3)))
    case.need_domains = domains
    for domain in domains:
        need_id = w[CaseNeed].add(case_id=case_id, domain=domain, description=rng.choice(NEED_TEXTS[domain]),
                                  outcome=rng.choice(("resolved", "improved", "improved", "unchanged"))
                                  if closed_on else None, resolved_on=closed_on,
                                  outcome_note="목표 대부분 달성" if closed_on else None)
        case.first_need_id = case.first_need_id or need_id
    source = "requested"
    for name, day in steps:
        actor = lead if name in ("select", "not_select", "close") else owner
        when = max(b.at(day), created + dt.timedelta(minutes=1))
        if name in ("select", "not_select"):
            w[CaseSelection].add(
                case_id=case_id, selected=name == "select", meeting_on=day, decided_by_id=lead,
                basic_academic_result="3월 진단평가 수학 미도달", teacher_opinions="담임·교과 교사 모두 지원 필요 의견",
                parent_counselling="보호자 상담 완료", members="교감, 담임, 상담교사",
                reason=None if name == "select" else "담임 상담으로 어려움이 해소됨", created_at=when, updated_at=when)
        if name == "start_support" or (name == "start_planning" and rng.random() < 0.5):
            consents(b, case, day)
        if name == "start_planning":
            plan(b, case, day)
        target = TARGET[name]
        chronology(b, case, when, "status", f"{STATUSES[source]} → {STATUSES[target]}", actor)
        b.audit(when, actor, f"case_{name}", "support_case", uid, student_uid, {"from": source, "to": target})
        source = target
    notes(b, case, 300 + rng.randrange(300) if long else rng.choice((0, 1, 1, 2, 2, 3, 4, 6)))
    if escalated:
        escalate(b, case, answered)
    if closed_on:
        satisfaction(b, case, closed_on, lead)
    return case


#: scores of the satisfaction survey, mostly content (weights for 1..5)
SCORE_WEIGHTS = (2, 5, 18, 40, 35)


def satisfaction(b: Build, case: Case, closed_on: dt.date, lead: int) -> None:
    """Most closed cases are surveyed within two weeks of closing (student and, mostly, parent)."""
    rng = b.rng
    if rng.random() < 0.3:
        return
    for party in ("student", "parent"):
        if party == "parent" and rng.random() < 0.2:
            continue
        day = min(b.today, closed_on + dt.timedelta(days=rng.randrange(15)))
        when = b.at(day)
        b.writer[CaseSatisfaction].add(
            case_id=case.id, party=party, score=rng.choices(range(1, 6), SCORE_WEIGHTS)[0], surveyed_on=day,
            recorded_by_id=lead, comment=rng.choice((None, None, "도움이 많이 되었습니다.", "상담 시간이 더 있었으면 합니다.")),
            created_at=when, updated_at=when)
