"""Accounts per organisation: staff and a lead per school, coordinators per office, agency
coordinators, auditors and admins (guardian accounts come with the guardians).  Every account is
approved for handling and trained (the gate passes), with its grant history; TOTP is enrolled for
exactly the roles config TOTP_REQUIRED_ROLES names."""
from __future__ import annotations

import base64
import datetime as dt

from flask import current_app

from ...auth.models import GrantChange, User
from ...config import Config
from ...auth.services import hash_password, login_key
from .build import Build
from .words import person_name

#: agencies of this popularity rank or better get a second coordinator
BUSY_AGENCY_RANK = 50


def totp_secret(rng) -> str:
    """A 160-bit base32 secret, as pyotp.random_base32() makes, drawn from the build's generator."""
    return base64.b32encode(rng.getrandbits(160).to_bytes(20, "big")).decode("ascii")


class Accounts:
    """Adds users with one shared password hash (hashing is deliberately slow: one per build)."""

    def __init__(self, b: Build) -> None:
        self.b = b
        self.hash = hash_password(b.password)
        # the roles production requires TOTP for (the test config turns the requirement off, the
        # scale-logins contract does not): enrolled whatever this app's config says
        self.totp_roles = set(current_app.config.get("TOTP_REQUIRED_ROLES", ())) | set(Config.TOTP_REQUIRED_ROLES)

    def add(self, login: str, role: str, org_id: int | None, name: str | None = None) -> int:
        b = self.b
        rng = b.rng
        created = b.at(b.day_ago(rng.randrange(400, 720)))
        approver = b.admins[0] if b.admins else None
        approved = b.at(created.date() + dt.timedelta(days=1))
        trained = b.day_ago(rng.randrange(5, 300))
        secret = totp_secret(rng) if role in self.totp_roles else None
        uid = b.uid()
        user_id = b.writer[User].add(
            uid=uid, login=login, login_key=login_key(login), display_name=name or person_name(rng),
            password_hash=self.hash, role=role, organisation_id=org_id, active=True,
            last_login_at=b.at(b.day_ago(rng.randrange(0, 20))), session_version=1, password_temporary=False,
            password_changed_at=created, totp_secret=secret, totp_enabled_at=created if secret else None,
            handling_approved_at=approved, handling_approved_by_id=approver, training_on=trained,
            created_at=created, updated_at=created)
        b.users[user_id] = (login, role, org_id, uid)
        if secret:
            b.totp[user_id] = secret
        grants = b.writer[GrantChange]
        state = {"role": role, "organisation_id": org_id, "active": True, "totp": bool(secret)}
        for kind, when, actor, reason in (
                ("created", created, approver, None),
                ("approval_given", approved, approver, "보안 서약서 확인"),
                ("training_recorded", b.at(trained), approver, "개인정보 보호 교육 이수")):
            grants.add(occurred_at=when, user_id=user_id, actor_id=actor, kind=kind, before={},
                       after={**state, "approved": kind != "created", "training_on": trained.isoformat()
                              if kind == "training_recorded" else None}, reason=reason)
            b.audit(when, actor, "user_created" if kind == "created" else "grant_changed", "user_account", uid,
                    details={"kind": kind})
        return user_id


def build_users(b: Build, tick) -> Accounts:
    accounts = b.accounts = Accounts(b)
    b.admins.append(accounts.add("scale-admin", "admin", b.city_id, "관리자"))
    accounts.add("scale-admin2", "admin", b.city_id, "부관리자")
    b.auditors.append(accounts.add("scale-auditor", "auditor", b.city_id, "감사 담당"))
    for code, org_id in sorted(b.offices.items()):
        b.auditors.append(accounts.add(f"auditor-{code.lower()}", "auditor", org_id))
    offices_weight: dict[str, float] = {}
    for school in b.schools:
        offices_weight[school.office] = offices_weight.get(school.office, 0) + school.weight
    for code, org_id in sorted(b.offices.items()):
        share = offices_weight.get(code, 0) / max(1, sum(offices_weight.values()))
        many = max(2, round(share * 60 * max(b.scale, 0.05)))
        b.coordinators[code] = [accounts.add(f"coord-{code.lower()}-{k + 1}", "district_coordinator", org_id)
                                for k in range(many)]
    tick(len(b.offices) + 3)
    for n, school in enumerate(b.schools, start=1):
        staff = 2 + min(4, int(school.weight * 1.5))
        b.staff[school.id] = [accounts.add(f"s{n:04d}-staff{k + 1}", "school_staff", school.id)
                              for k in range(staff)]
        b.leads[school.id] = accounts.add(f"s{n:04d}-lead", "school_lead", school.id)
        tick(1)
    for rank, agency_id in enumerate(b.agency_ids):
        many = 2 if rank < BUSY_AGENCY_RANK else 1
        code_no = agency_id
        b.agency_users[agency_id] = [accounts.add(f"agency-{code_no:05d}-{k + 1}", "agency_coordinator", agency_id)
                                     for k in range(many)]
        tick(1)
    b.writer.flush()
    return accounts
