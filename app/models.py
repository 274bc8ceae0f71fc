"""Imports every feature's models so metadata (and Alembic) sees all tables."""
from .audit.models import AuditCheckpoint, AuditEvent, AuditReview  # noqa: F401
from .auth.models import (DistrictOffice, GrantChange, Gu, LoginThrottle, Organisation,  # noqa: F401
                          RecoveryCode, User)
from .students.models import Student  # noqa: F401
from .cases.satisfaction import CaseSatisfaction  # noqa: F401
from .cases.models import (CaseEscalation, CaseEvent, CaseNeed, CaseNote, CaseSelection,  # noqa: F401
                           Consent, ConsentPurpose, PlanAction, SupportCase)
from .guardians.models import (ActivityLog, Assignment, Guardian, GuardianConcern, GuardianConflict,  # noqa: F401
                               RecordCheck)
from .notifications.models import Notification  # noqa: F401
from .notifications.mail_models import MailPreference, MailSettings, OutboxMessage  # noqa: F401
from .agencies.models import AgencyService, Referral, ServiceArea, ServiceRecord  # noqa: F401
from .conferences.models import (ActionItem, Conference, ConferenceAmendment, ConferenceCase,  # noqa: F401
                                 ConferenceParticipant)
from .key_check import KeyCheck  # noqa: F401,E402
from .records.request_models import SubjectRequest  # noqa: F401,E402
from .records.transfer_models import CaseTransfer  # noqa: F401,E402
from .records.retention_models import (LegalHold, RetentionCaseFact, RetentionTombstone,  # noqa: F401,E402
                                       StudentRetention)
from .submissions import FormSubmission  # noqa: F401,E402
