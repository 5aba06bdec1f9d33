"""Imports every model so that metadata (and Alembic) see the whole schema."""
from hotline.accounts.models import User, UserRole  # noqa: F401
from hotline.notify.models import Notification  # noqa: F401
from hotline.orgs.models import OrgUnit  # noqa: F401
from hotline.sla.models import (SlaClock, SlaPolicy, SupervisionOrder, SweepLease, Urging,  # noqa: F401
                                WorkCalendarDay)
from hotline.tickets.models import (Assignment, Attachment, CannedAnswer, Category, CategoryRoute, DailySequence,  # noqa: F401
                                    ExtensionRequest, Reply, SuspensionRequest, Ticket, TicketEvent)
from hotline.dashboard.models import (ExportRecord, HotspotAlertRow, KpiIntakeDay, KpiRollupRun,  # noqa: F401
                                      KpiUnitDay, LivelihoodProject)
from hotline.knowledge.models import KnowledgeArticle  # noqa: F401
from hotline.search.models import RoutingModel, TicketSearch  # noqa: F401
from hotline.core.audit import AuditEntry  # noqa: F401
