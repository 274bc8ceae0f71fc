"""Guardian matching: explained scores, ranked suggestions for one case, and the exact batch.

Hard rules (eligibility in SQL, same office, capacity, conflicts with the student's school,
a guardian already on the case, one who declined this student or was closed as not rematchable)
exclude a guardian outright; the rest are scored with explained parts.  The student's 동 is not
recorded anywhere, so the same-동 part scores only when both 동 are known (today: never).
Everything for a set of cases is loaded with a fixed number of queries (no per-row queries).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..cases.models import DOMAINS, CaseNeed, SupportCase
from ..db import today_kst
from ..domain import DomainError
from ..extensions import db
from .assignments import COUNTED, MAX_GUARDIANS_PER_CASE, propose_assignment
from .eligibility import eligible_condition
from .match_queries import consenting_case_ids, guardian_rows, guardians_by_id, waiting_case_ids
from .models import Assignment, Guardian, GuardianConflict
from .solver import solve

#: points of each score part; same 동 outranks same 자치구 (they do not add up)
POINTS = {"same_dong": 30, "same_gu": 20, "language": 25, "experience": 10, "availability": 1, "load": 5,
          "gender": 15}
#: availability is only a small bonus: the case records no schedule to overlap with
AVAILABILITY_MAX = 5
#: load points = POINTS["load"] × (LOAD_FREE - current load), never below 0
LOAD_FREE = 3

__all__ = ["ScorePart", "Suggestion", "BatchPair", "BatchResult", "suggestions", "explain", "batch_proposal",
           "confirm_batch", "solve", "score_parts", "score_matrix", "ranked_suggestions", "consenting_case_ids"]


@dataclass(frozen=True)
class ScorePart:
    code: str
    label: str
    points: int


@dataclass
class Suggestion:
    guardian: Guardian
    score: int
    parts: list[ScorePart]
    load: int = 0


@dataclass
class CaseFacts:
    """What matching needs of one case, loaded in bulk."""
    case: SupportCase
    gu_id: int | None
    language: str | None
    domains: tuple[str, ...]
    gender: str | None
    dong: str | None = None  # the student's 동 is not recorded
    current: set[int] = field(default_factory=set)
    barred: set[int] = field(default_factory=set)

    @property
    def places(self) -> int:
        return max(0, min(self.case.guardians_needed, MAX_GUARDIANS_PER_CASE) - len(self.current))


def score_parts(guardian: Guardian, facts: CaseFacts, load: int) -> list[ScorePart]:
    """The explained score of one pair: the parts that earn points."""
    parts = []
    if facts.dong and guardian.dong and facts.dong == guardian.dong:
        parts.append(ScorePart("same_dong", _("같은 동 (%(dong)s)", dong=guardian.dong), POINTS["same_dong"]))
    elif facts.gu_id is not None and guardian.gu_id == facts.gu_id:
        parts.append(ScorePart("same_gu", _("같은 자치구"), POINTS["same_gu"]))
    if facts.language and facts.language in (guardian.languages or []):
        parts.append(ScorePart("language", _("가정 언어 소통 가능 (%(language)s)", language=facts.language),
                               POINTS["language"]))
    for domain in facts.domains:
        if domain in (guardian.experience or []):
            parts.append(ScorePart(f"experience_{domain}", _("%(domain)s 영역 경험", domain=DOMAINS.get(domain, domain)),
                                   POINTS["experience"]))
    slots = min(len(guardian.availability or []), AVAILABILITY_MAX)
    if slots:
        parts.append(ScorePart("availability", _("활동 가능 시간 %(n)d개", n=len(guardian.availability)),
                               slots * POINTS["availability"]))
    if load < LOAD_FREE:
        parts.append(ScorePart("load", _("현재 담당 %(n)d명", n=load), POINTS["load"] * (LOAD_FREE - load)))
    if facts.gender and guardian.gender == facts.gender:
        parts.append(ScorePart("gender", _("선호 성별 일치"), POINTS["gender"]))
    return parts


def score_matrix(facts: list[CaseFacts], guardians: list[Guardian], loads: list[int]) -> np.ndarray:
    """The same score as ``score_parts`` for every case × guardian, computed on arrays."""
    def ids(values, table):
        return np.array([table.setdefault(v, len(table)) if v else -1 for v in values])
    gu, dong, lang = {}, {}, {}
    c_gu, g_gu = ids([f.gu_id for f in facts], gu), ids([g.gu_id for g in guardians], gu)
    c_dong, g_dong = ids([f.dong for f in facts], dong), ids([g.dong for g in guardians], dong)
    same_dong = (c_dong[:, None] == g_dong[None, :]) & (c_dong[:, None] >= 0)
    same_gu = (c_gu[:, None] == g_gu[None, :]) & (c_gu[:, None] >= 0)
    score = np.where(same_dong, POINTS["same_dong"], np.where(same_gu, POINTS["same_gu"], 0))
    c_lang = ids([f.language for f in facts], lang)
    g_lang = np.zeros((len(guardians), len(lang) + 1), dtype=bool)
    for j, g in enumerate(guardians):
        for language in g.languages or []:
            if language in lang:
                g_lang[j, lang[language]] = True
    score += POINTS["language"] * (g_lang[:, c_lang].T & (c_lang[:, None] >= 0))
    domain_index = {d: k for k, d in enumerate(DOMAINS)}
    c_dom = np.zeros((len(facts), len(DOMAINS)), dtype=np.int64)
    g_dom = np.zeros((len(guardians), len(DOMAINS)), dtype=np.int64)
    for i, f in enumerate(facts):
        c_dom[i, [domain_index[d] for d in f.domains if d in domain_index]] = 1
    for j, g in enumerate(guardians):
        g_dom[j, [domain_index[d] for d in g.experience or [] if d in domain_index]] = 1
    score += POINTS["experience"] * (c_dom @ g_dom.T)
    avail = np.array([min(len(g.availability or []), AVAILABILITY_MAX) for g in guardians], dtype=np.int64)
    load = POINTS["load"] * np.maximum(0, LOAD_FREE - np.asarray(loads, dtype=np.int64))
    score += (avail * POINTS["availability"] + load)[None, :]
    c_sex = np.array([{"female": 1, "male": 2}.get(f.gender, -1) for f in facts])
    g_sex = np.array([{"female": 1, "male": 2}.get(g.gender, -2) for g in guardians])
    score += POINTS["gender"] * (c_sex[:, None] == g_sex[None, :])
    return score.astype(np.int64)


def case_facts(cases: list[SupportCase], ids=None) -> list[CaseFacts]:
    """Facts for every case with three queries (needs, conflicts, history), whatever their number;
    ``ids`` may be the select the cases came from (no long IN lists for a whole office)."""
    if not cases:
        return []
    ids = [c.id for c in cases] if ids is None else ids
    students = (select(SupportCase.student_id).where(SupportCase.id.in_(ids))
                if not isinstance(ids, list) else list({c.student_id for c in cases}))
    domains = defaultdict(list)
    for case_id, domain in db.session.execute(select(CaseNeed.case_id, CaseNeed.domain)
                                              .where(CaseNeed.case_id.in_(ids)).order_by(CaseNeed.id)):
        domains[case_id].append(domain)
    conflicts = defaultdict(set)
    for school_id, guardian_id in db.session.execute(select(GuardianConflict.school_id, GuardianConflict.guardian_id)
                                                     .where(GuardianConflict.school_id.in_({c.school_id for c in cases}))):
        conflicts[school_id].add(guardian_id)
    history = db.session.execute(
        select(Assignment.case_id, Assignment.guardian_id, Assignment.status, SupportCase.student_id)
        .join(SupportCase, SupportCase.id == Assignment.case_id)
        .where(SupportCase.student_id.in_(students),
               or_(Assignment.status.in_(COUNTED + ("declined",)),
                   (Assignment.status == "closed") & Assignment.rematchable.is_(False)))).all()
    current, barred_student = defaultdict(set), defaultdict(set)
    for case_id, guardian_id, status, student_id in history:
        if status in COUNTED:
            current[case_id].add(guardian_id)
        else:
            barred_student[student_id].add(guardian_id)
    facts = []
    for case in cases:
        student = case.student
        facts.append(CaseFacts(
            case=case, gu_id=case.school.gu_id, gender=case.guardian_gender_preference,
            language=student.home_language if student.migrant_background else None,
            domains=tuple(domains[case.id]), current=current[case.id],
            barred=conflicts[case.school_id] | barred_student[case.student_id] | current[case.id]))
    return facts


def candidates(office_code: str, day: dt.date) -> tuple[list[Guardian], dict[int, int]]:
    """Eligible guardians of the office (rule in SQL) and their current loads, in two queries."""
    guardians = list(db.session.execute(select(Guardian).where(Guardian.office_code == office_code,
                                                               eligible_condition(day)).order_by(Guardian.id)).scalars())
    loads = dict(db.session.execute(
        select(Assignment.guardian_id, func.count(Assignment.id))
        .join(Guardian, Guardian.id == Assignment.guardian_id)
        .where(Guardian.office_code == office_code, Assignment.status.in_(COUNTED))
        .group_by(Assignment.guardian_id)).all())
    return guardians, loads


def ranked_suggestions(case: SupportCase, limit: int | None = None,
                       day: dt.date | None = None) -> tuple[list[Suggestion], int]:
    """The best ``limit`` (all when None) guardians allowed for the case, each with its explained
    score, and how many are allowed in all.  Scores are computed on plain rows for every
    guardian of the office; only the guardians returned are loaded as objects (fixed queries)."""
    day = day or today_kst()
    if not consenting_case_ids([case.id], day):
        raise DomainError(_("학생과 보호자가 교육후견인 연계에 동의하지 않아 추천할 수 없습니다."))
    facts = case_facts([case])[0]
    rows = [r for r in guardian_rows(case.school.office_code, day) if r.id not in facts.barred]
    if not rows:
        return [], 0
    scores = score_matrix([facts], rows, [r.load for r in rows])[0]
    # best score first, then the lighter load, then the older guardian (np.lexsort: last key first)
    order = np.lexsort((np.array([r.id for r in rows]), np.array([r.load for r in rows]), -scores)).tolist()
    chosen = order if limit is None else order[:limit]
    objects = guardians_by_id(rows[j].id for j in chosen)
    found = [Suggestion(objects[rows[j].id], int(scores[j]), score_parts(rows[j], facts, rows[j].load), rows[j].load)
             for j in chosen]
    return found, len(rows)


def suggestions(case: SupportCase, day: dt.date | None = None) -> list[Suggestion]:
    """Guardians allowed for the case, best first, each with its explained score."""
    return ranked_suggestions(case, None, day)[0]


def explain(case: SupportCase, guardian: Guardian) -> tuple[int, list[ScorePart]]:
    """The score of one pair now (for a proposal made from the suggestions page)."""
    load = db.session.execute(select(func.count(Assignment.id)).where(
        Assignment.guardian_id == guardian.id, Assignment.status.in_(COUNTED))).scalar_one()
    parts = score_parts(guardian, case_facts([case])[0], load)
    return sum(p.points for p in parts), parts


@dataclass
class BatchPair:
    case: SupportCase
    guardian: Guardian
    score: int
    parts: list[ScorePart]


@dataclass
class BatchResult:
    office_code: str
    day: dt.date
    pairs: list[BatchPair]
    waiting: list[SupportCase]
    guardians: int

    @property
    def total(self) -> int:
        return sum(p.score for p in self.pairs)

    @property
    def unmatched(self) -> list[SupportCase]:
        matched = {p.case.id for p in self.pairs}
        return [c for c in self.waiting if c.id not in matched]


def waiting_cases(office_code: str, day: dt.date) -> list[CaseFacts]:
    """The office's open cases with matching consent that still lack guardians, most urgent first
    (consent and free places decided in SQL; then three queries for their facts)."""
    ids = waiting_case_ids(office_code, day)
    cases = list(db.session.execute(
        select(SupportCase).where(SupportCase.id.in_(ids))
        .options(joinedload(SupportCase.student), joinedload(SupportCase.school))
        .order_by(SupportCase.urgency, SupportCase.requested_on, SupportCase.id)).scalars())
    return [f for f in case_facts(cases, ids) if f.places > 0]


def batch_proposal(office_code: str, day: dt.date | None = None) -> BatchResult:
    """An exactly optimal set of proposals for all waiting cases of the office (nothing saved)."""
    day = day or today_kst()
    facts = waiting_cases(office_code, day)
    rows = guardian_rows(office_code, day)
    pairs: list[BatchPair] = []
    if facts and rows:
        load = [r.load for r in rows]
        scores = score_matrix(facts, rows, load)
        column = {r.id: j for j, r in enumerate(rows)}
        allowed = np.ones(scores.shape, dtype=bool)
        for i, f in enumerate(facts):
            allowed[i, [column[g] for g in f.barred if g in column]] = False
        need = np.array([f.places for f in facts])
        capacity = np.array([r.capacity - r.load for r in rows])
        chosen = solve(scores, allowed, need, capacity)
        objects = guardians_by_id({rows[j].id for _i, j in chosen})
        for i, j in chosen:
            parts = score_parts(rows[j], facts[i], load[j])
            pairs.append(BatchPair(facts[i].case, objects[rows[j].id], int(scores[i, j]), parts))
    return BatchResult(office_code, day, pairs, [f.case for f in facts], len(rows))


def confirm_batch(result: BatchResult, actor, selected_case_ids=None) -> list[Assignment]:
    """Propose the batch's pairs (all, or those of the selected cases) through propose_assignment;
    any refusal raises and the caller rolls the whole confirmation back."""
    chosen = None if selected_case_ids is None else set(selected_case_ids)
    return [propose_assignment(p.case, p.guardian, actor, p.score, p.parts)
            for p in result.pairs if chosen is None or p.case.id in chosen]
