"""The key pages of every role (issue 13), as endpoints of the app: URLs come from ``url_for``
on the real app, so a renamed route fails here rather than measuring a 404.

kind: ``page`` (list, case, home, inbox, portal, search, suggestions: p95 ≤ 50 ms on the server),
``batch`` (≤ 3 s), ``review`` (≤ 1 s), ``export`` (first byte < 1 s), ``dashboard`` (the statistics
pages of issue 14: ≤ 200 ms), ``hello`` (the floor).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

STAFF, LEAD, COORD = "school_staff", "school_lead", "district_coordinator"
GUARDIAN, AGENCY, AUDITOR, ADMIN = "guardian", "agency_coordinator", "auditor", "admin"
ROLES = (STAFF, LEAD, COORD, GUARDIAN, AGENCY, AUDITOR, ADMIN)
#: the lead of a school no page measures, whose school takes the concurrent run's class-list import
#: (scale-logins.json from before it had one: the measured lead, and each run grows that school)
IMPORTER = "importer"

#: server p95 (ms) a page of each kind must stay under; exports: client time to the first byte
TARGETS_MS = {"page": 50.0, "batch": 3000.0, "review": 1000.0, "export": 1000.0, "dashboard": 200.0}
#: p95 of ordinary pages during the concurrent run
CONCURRENT_TARGET_MS = 150.0


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    role: str
    endpoint: str
    #: url_for values: a str starting with "@" names a target of scale-logins.json
    values: dict = field(default_factory=dict)
    kind: str = "page"
    method: str = "GET"
    #: POST form fields (the CSRF token is added from ``form_page``)
    form: dict = field(default_factory=dict)
    #: endpoint whose GET page carries the form's CSRF token
    form_page: str | None = None

    @property
    def target_ms(self) -> float | None:
        return TARGETS_MS.get(self.kind)

    @property
    def ordinary(self) -> bool:
        return self.kind == "page"


PAGES: tuple[Page, ...] = (
    Page("app_hello", "app hello (signed in, / redirect)", STAFF, "home.index", kind="hello"),
    Page("staff_home", "school staff home", STAFF, "home.school"),
    Page("lead_home", "school lead home", LEAD, "home.lead"),
    Page("school_cases", "school case list", LEAD, "cases.index"),
    Page("case_long", "case page, long chronology", LEAD, "cases.view", {"uid": "@case_long_chronology"}),
    Page("agency_suggest", "agency suggestions for a case", LEAD, "agencies.suggest", {"uid": "@case_long_chronology"}),
    Page("lead_transfers", "transfers (전학 이관), lead", LEAD, "records.transfers"),
    Page("lead_retention", "students due for deletion, lead", LEAD, "records.retention_due"),
    Page("lead_requests", "열람·정정 requests, lead", LEAD, "records.subject_requests"),
    Page("district_home", "district coordinator home", COORD, "home.district"),
    Page("district_transfers", "transfers (전학 이관), coordinator", COORD, "records.transfers"),
    Page("district_cases", "district case list, page 1", COORD, "cases.index"),
    Page("district_cases_p50", "district case list, page 50", COORD, "cases.index", {"page": 50}),
    Page("district_overdue", "district case list, overdue", COORD, "cases.index", {"overdue": "y"}),
    Page("district_consent", "district case list, consent missing", COORD, "cases.index", {"consent_missing": "y"}),
    Page("district_case", "case page (coordinator)", COORD, "cases.view", {"uid": "@case_district"}),
    Page("batch_matching", "batch matching, whole district", COORD, "guardians.batch", kind="batch"),
    Page("directory", "agency directory", COORD, "agencies.directory"),
    Page("directory_csv", "agency directory export CSV, all", COORD, "agencies.export_csv", {"scope": "all"},
         kind="export"),
    Page("notifications", "notifications list", COORD, "notifications.index"),
    Page("guardian_home", "guardian home", GUARDIAN, "home.guardian"),
    Page("guardian_portal", "guardian portal", GUARDIAN, "guardians.portal"),
    Page("agency_home", "agency coordinator home", AGENCY, "home.agency"),
    Page("agency_inbox", "agency inbox", AGENCY, "agencies.inbox"),
    Page("agency_referral", "agency referral page", AGENCY, "agencies.inbox_referral", {"uid": "@referral_busiest"}),
    Page("auditor_home", "auditor home", AUDITOR, "home.auditor"),
    Page("audit_action", "audit search, action=case_viewed", AUDITOR, "audit.search", {"action": "case_viewed"}),
    Page("audit_subject", "audit search by subject", AUDITOR, "audit.search", {"subject": "@student_subject"}),
    Page("audit_actor", "audit search by actor", AUDITOR, "audit.search", {"actor": "@actor_login"}),
    Page("audit_overrides", "consent override list", AUDITOR, "audit.overrides"),
    Page("access_review", "monthly access review", AUDITOR, "audit.review", {"month": "@review_month"},
         kind="review"),
    Page("audit_csv", "audit export CSV, one day", AUDITOR, "audit.export", kind="export", method="POST",
         form={"start": "@audit_day", "end": "@audit_day", "fmt": "csv", "reason": "성능 측정(scripts/bench)"},
         form_page="audit.export"),
    Page("audit_xlsx", "audit export XLSX, one day", AUDITOR, "audit.export", kind="export", method="POST",
         form={"start": "@audit_day", "end": "@audit_day", "fmt": "xlsx", "reason": "성능 측정(scripts/bench)"},
         form_page="audit.export"),
    Page("report_school", "statistics, school (this school year)", LEAD, "reports.page", {"level": "school"},
         kind="dashboard"),
    Page("report_district", "statistics, district (this school year)", COORD, "reports.page", {"level": "district"},
         kind="dashboard"),
    Page("report_district_filtered", "statistics, district, 1st semester, middle schools", COORD, "reports.page",
         {"level": "district", "period": "semester", "semester": "1", "school_level": "middle"}, kind="dashboard"),
    Page("report_city", "statistics, city by district office", AUDITOR, "reports.page", {"level": "city"},
         kind="dashboard"),
    Page("report_city_gu", "statistics, city by 자치구", AUDITOR, "reports.page", {"level": "city", "group": "gu"},
         kind="dashboard"),
    Page("report_print", "성과보고서 (district, printable)", COORD, "reports.district_report", kind="dashboard"),
    Page("admin_home", "admin home", ADMIN, "home.admin"),
)

BY_KEY = {page.key: page for page in PAGES}


def resolve(values: dict, targets: dict) -> dict:
    """Replace "@name" by the target of that name from scale-logins.json."""
    out = {}
    for key, value in values.items():
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:]
            if targets.get(name) in (None, ""):
                raise KeyError(f"scale-logins.json has no target {name!r}")
            value = targets[name]
        out[key] = value
    return out


def build_urls(app, pages, targets: dict, missing: dict | None = None) -> dict[str, str]:
    """The path (and query) of every page, from the app's own url_map; a page whose target
    scale-logins.json lacks goes into ``missing`` (key -> why) when given, else raises KeyError."""
    from flask import url_for
    urls = {}
    with app.test_request_context():
        for page in pages:
            try:
                resolve(page.form, targets)
                urls[page.key] = url_for(page.endpoint, **resolve(page.values, targets))
            except KeyError as error:
                if missing is None:
                    raise
                missing[page.key] = str(error)
    return urls


def select_pages(keys: str | None) -> list[Page]:
    if not keys:
        return list(PAGES)
    wanted = [k.strip() for k in keys.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in BY_KEY]
    if unknown:
        raise SystemExit(f"unknown pages: {', '.join(unknown)} (known: {', '.join(BY_KEY)})")
    return [BY_KEY[k] for k in wanted]


def class_list_csv(rows: int = 2000, seed: int = 0) -> bytes:
    """A valid class list for the students import (Korean headers of the template, UTF-8 with a
    BOM): names unique per run so no row is a duplicate of an earlier import."""
    import random
    rng = random.Random(seed or None)
    family, given = "김이박최정강조윤장임한오서신권황안송류홍", "민서준하도윤지우현수예은시아주원채린건호"
    run = dt.datetime.now().strftime("%H%M%S")
    lines = ["이름,생년월일,학년,반,번호,보호자명,보호자연락처"]
    for i in range(rows):
        name = rng.choice(family) + rng.choice(given) + rng.choice(given) + f"{run}{i:04d}"
        born = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(0, 2000))
        lines.append(f"{name},{born:%Y-%m-%d},{1 + i % 3},{1 + i % 9},{1 + i % 30},{rng.choice(family)}보호자,"
                     f"010-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}")
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")
