"""Imports every feature's models so metadata (and Alembic) sees all tables."""
from .audit.models import AuditCheckpoint, AuditEvent, AuditReview  # noqa: F401
from .auth.models import DistrictOffice, Gu, LoginThrottle, Organisation, User  # noqa: F401
