"""Schools by level across the 25 자치구, and the agency directory (services, areas) with a
Zipf-like popularity that later decides where referrals go."""
from __future__ import annotations

from sqlalchemy import select

from ...agencies.models import AGENCY_KINDS, AgencyService, ServiceArea
from ...auth.models import Gu, Organisation
from ..agencies import LANGUAGES, SERVICES
from .build import Build, School
from .words import DONG

#: Seoul's shares of schools by level (초 605, 중 389, 고 320, 특수 32)
LEVELS = (("elementary", "초등학교", 0.45), ("middle", "중학교", 0.29), ("high", "고등학교", 0.24),
          ("special", "학교", 0.02))
#: referral load across agencies: weight of the agency of rank r is r ** -ZIPF
ZIPF = 0.65
CAPACITY = ("available", "available", "available", "waitlist", "full")


def load_reference(b: Build) -> None:
    """The 자치구 and offices the migrations loaded."""
    conn = b.conn
    b.gus = [tuple(r) for r in conn.execute(select(Gu.id, Gu.name_ko, Gu.office_code).order_by(Gu.id))]
    for org_id, code, kind in conn.execute(select(Organisation.id, Organisation.code, Organisation.kind)):
        if kind == "district_office":
            b.offices[code] = org_id
        elif kind == "city_office":
            b.city_id = org_id


def schools(b: Build, tick) -> None:
    rng, orgs = b.rng, b.writer[Organisation]
    gu_weights = [rng.uniform(0.5, 1.6) for _ in b.gus]
    total = b.n("schools", minimum=4)
    counters: dict[tuple[int, str], int] = {}
    for i in range(total):
        gu_id, gu_name, office = rng.choices(b.gus, gu_weights)[0] if i >= len(b.gus) else b.gus[i % len(b.gus)]
        level, suffix, _share = rng.choices(LEVELS, [share for *_x, share in LEVELS])[0]
        if i < 4:  # tiny scales still get every level
            level, suffix, _share = LEVELS[i]
        key = (gu_id, level)
        counters[key] = counters.get(key, 0) + 1
        stem = gu_name.removesuffix("구")
        name = f"서울{stem}{counters[key]}{suffix}" if level != "special" else f"서울{stem}{counters[key]}특수학교"
        uid = b.uid()
        org_id = orgs.add(uid=uid, code=f"B1{i + 1:08d}", name=name, kind="school", gu_id=gu_id,
                          office_code=office, school_level=level, active=True)
        b.schools.append(School(org_id, uid, gu_id, gu_name, office, level, rng.lognormvariate(0, 0.45)))
        tick(1)
    orgs.flush()


def agencies(b: Build, tick) -> None:
    rng, w = b.rng, b.writer
    orgs, services, areas = w[Organisation], w[AgencyService], w[ServiceArea]
    total = b.n("agencies", minimum=len(AGENCY_KINDS))
    by_office: dict[str, list[int]] = {}
    for gu_id, _name, office in b.gus:
        by_office.setdefault(office, []).append(gu_id)
    names: set[str] = set()
    for i in range(total):
        gu_id, gu_name, office = b.gus[i % len(b.gus)] if i < len(b.gus) else rng.choice(b.gus)
        kind = AGENCY_KINDS[i % len(AGENCY_KINDS)] if i < len(AGENCY_KINDS) else rng.choice(AGENCY_KINDS)
        name = f"{gu_name}{kind}"
        if name in names:
            name = f"{gu_name} {rng.choice(DONG)} {kind}"
        while name in names:
            name = f"{gu_name} {rng.choice(DONG)} {kind} {rng.randrange(2, 99)}분소"
        names.add(name)
        uid = b.uid()
        org_id = orgs.add(uid=uid, code=f"AG-{i + 1:05d}", name=name, kind="agency", gu_id=gu_id,
                          office_code=office, agency_kind=kind, active=True)
        b.agencies[org_id] = (uid, kind, gu_id)
        b.agency_services[org_id] = []
        for k in range(1 if rng.random() < 0.6 else 2):
            service_kind = kind if k == 0 else rng.choice(AGENCY_KINDS)
            label, domains, low, high, schedule = SERVICES[service_kind]
            service_id = services.add(
                organisation_id=org_id, name=label if k == 0 else f"{label} (협력사업)",
                description=f"{gu_name} 거주·재학 아동·청소년 대상 {label}", domains=domains, min_age=low,
                max_age=high, languages=rng.choice(LANGUAGES), capacity_status=rng.choice(CAPACITY),
                schedule=schedule, contact_phone=f"02-{rng.randrange(200, 999)}-{rng.randrange(10000):04d}",
                contact_email=f"contact{i + 1}@example.org", address=f"서울특별시 {gu_name} 중앙로 {i % 300 + 1}",
                last_confirmed_on=b.day_ago(rng.randrange(0, 500)))
            b.agency_services[org_id].append(service_id)
            covered = {gu_id}
            if rng.random() < 0.5:  # many services also serve the office's other 자치구
                covered.update(by_office[office])
            for area in sorted(covered):
                areas.add(service_id=service_id, gu_id=area)
        tick(1)
    w.flush()
    ids = list(b.agencies)
    rng.shuffle(ids)  # rank 1 (the busiest) is any agency, not the first made
    b.agency_ids = ids
    b.agency_weights = [(rank + 1) ** -ZIPF for rank in range(len(ids))]
