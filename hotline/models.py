"""Imports every model so that metadata (and Alembic) see the whole schema."""

from hotline.accountability.models import AccountabilityCase  # noqa: F401
from hotline.accounts.models import User, UserRole  # noqa: F401
from hotline.archive.models import ArchivedTicket  # noqa: F401
from hotline.assessment.models import AssessmentObjection, AssessmentPeriod, AssessmentScore  # noqa: F401
from hotline.core.audit import AuditEntry  # noqa: F401
from hotline.cti.models import Call  # noqa: F401
from hotline.dashboard.models import (  # noqa: F401
    ExportRecord,
    HotspotAlertRow,
    KpiIntakeDay,
    KpiRollupRun,
    KpiUnitDay,
    LivelihoodProject,
)
from hotline.evaluation.models import Answer, EvaluationResponse, Question, Questionnaire  # noqa: F401
from hotline.interviews.models import InterviewQuestion, InterviewSession  # noqa: F401
from hotline.knowledge.models import KnowledgeArticle  # noqa: F401
from hotline.notify.models import Notification  # noqa: F401
from hotline.opinion.models import OpinionCase, OpinionCaseTicket, OpinionNote  # noqa: F401
from hotline.orgs.models import OrgUnit  # noqa: F401
from hotline.search.models import RoutingModel, TicketSearch  # noqa: F401
from hotline.sla.models import SlaClock, SlaPolicy, SupervisionOrder, SweepLease, Urging, WorkCalendarDay  # noqa: F401
from hotline.sms.models import InboundSms, SmsOptOut  # noqa: F401
from hotline.tickets.models import (  # noqa: F401
    Assignment,
    Attachment,
    CannedAnswer,
    Category,
    CategoryRoute,
    DailySequence,
    ExtensionRequest,
    Reply,
    SuspensionRequest,
    Ticket,
    TicketEvent,
)
