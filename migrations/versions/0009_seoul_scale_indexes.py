"""Indexes for Seoul scale (issue 13): every key page walks an index in the order it shows.

Measured at Seoul scale (60,000 cases, 150,000 referrals, 40,000 conferences, 5,000,000 audit
events) with EXPLAIN QUERY PLAN on SQLite and EXPLAIN on PostgreSQL:

- support_case (school_id, urgency, requested_on DESC, id DESC): the case lists' order, an index
  walk per school instead of sorting a district's 9,000 cases on every page
- consent (case_id, party, given_on, withdrawn_on, expires_on) and consent_purpose (consent_id,
  purpose): "is a consent in force for this purpose" from the indexes alone (lists, matching,
  the agency inbox's consent check for a whole page)
- plan_action (case_id, status, due_on): the overdue filter and flags
- case_need (case_id, domain): the domain filter
- referral (agency_id, status, sent_at) replaces (agency_id, status): the agency home's counts
  are covered; (agency_id, sent_at): the inbox walks its order and stops at the page;
  (agency_id, case_id): an agency's referrals of a few cases
- conference_action_item (owner_agency_id, status): there was no index on the agency owner
- conference_case (case_id, next_review_on): a case's current review without the table
- conference (office_code, kind): a district office's conferences by kind
- audit_event (actor_id, action, occurred_at): an actor's events of one action, newest first;
  (occurred_at, id, actor_id, subject_ref, action, outcome): the monthly access review answered
  from the index alone, and the search by dates walks it in (occurred_at, id) order — it
  replaces the single-column occurred_at index;
  (id) WHERE key_id IS NULL: verify's check that unkeyed (legacy SHA-256) events form a prefix

Index creation only; the data is not touched.  The migration environment runs ANALYZE afterwards.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

#: (table, name, columns) created by this revision; columns may carry " DESC"
INDEXES = (
    ("support_case", "ix_support_case_list_order", ("school_id", "urgency", "requested_on DESC", "id DESC")),
    ("consent", "ix_consent_case_party", ("case_id", "party", "given_on", "withdrawn_on", "expires_on")),
    ("consent_purpose", "ix_consent_purpose_consent_purpose", ("consent_id", "purpose")),
    ("plan_action", "ix_plan_action_case_status_due", ("case_id", "status", "due_on")),
    ("case_need", "ix_case_need_case_domain", ("case_id", "domain")),
    ("referral", "ix_referral_agency_status_sent", ("agency_id", "status", "sent_at")),
    ("referral", "ix_referral_agency_sent", ("agency_id", "sent_at")),
    ("referral", "ix_referral_agency_case", ("agency_id", "case_id")),
    ("conference_action_item", "ix_conference_action_item_owner_agency", ("owner_agency_id", "status")),
    ("conference_case", "ix_conference_case_case_review", ("case_id", "next_review_on")),
    ("conference", "ix_conference_office_kind", ("office_code", "kind")),
    ("audit_event", "ix_audit_event_actor_action_time", ("actor_id", "action", "occurred_at")),
    ("audit_event", "ix_audit_event_review", ("occurred_at", "id", "actor_id", "subject_ref", "action", "outcome")),
)
#: replaced: a prefix of a new one (name, table, columns)
REPLACED = (
    ("ix_referral_agency_status", "referral", ["agency_id", "status"]),
    ("ix_audit_event_occurred_at", "audit_event", ["occurred_at"]),
)
KEY_ID_IS_NULL = "key_id IS NULL"


def _columns(columns):
    return [sa.desc(sa.column(c[:-5])) if c.endswith(" DESC") else c for c in columns]


def upgrade():
    for table, name, columns in INDEXES:
        op.create_index(name, table, _columns(columns), unique=False)
    op.create_index("ix_audit_event_unkeyed", "audit_event", ["id"], unique=False,
                    sqlite_where=sa.text(KEY_ID_IS_NULL), postgresql_where=sa.text(KEY_ID_IS_NULL))
    for name, table, _columns_ in REPLACED:
        op.drop_index(name, table_name=table)


def downgrade():
    for name, table, columns in REPLACED:
        op.create_index(name, table, columns, unique=False)
    op.drop_index("ix_audit_event_unkeyed", table_name="audit_event")
    for table, name, _columns_ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
