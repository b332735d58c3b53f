"""The process models: classification, on-call, policies and running escalations, contact ladders,
the communication matrix, and the clock rows that drive everything that must happen later."""

from .api import IdempotencyRecord
from .classification import EscalationRule, PriorityMatrixEntry
from .clocks import Clock
from .contacts import ContactMethod, NotificationRule
from .contracts import (
    Contract,
    PenaltyClause,
    Question,
    SlaClock,
    SlaPause,
    SlaTarget,
    Target,
)
from .integrations import IncidentAlert, Integration
from .matrix import Audience, CommunicationRule
from .oncall import (
    BusinessCalendar,
    LayerMember,
    OnCallSchedule,
    ScheduleImport,
    ScheduleLayer,
    ScheduleOverride,
)
from .people import IncidentRole
from .policies import AckLink, EscalationLevel, EscalationPolicy, EscalationRun, Page
from .webhooks import EventWebhook

__all__ = [
    "AckLink",
    "Audience",
    "BusinessCalendar",
    "Clock",
    "CommunicationRule",
    "ContactMethod",
    "Contract",
    "EscalationLevel",
    "EscalationPolicy",
    "EscalationRule",
    "EscalationRun",
    "EventWebhook",
    "IdempotencyRecord",
    "IncidentAlert",
    "IncidentRole",
    "Integration",
    "LayerMember",
    "NotificationRule",
    "OnCallSchedule",
    "Page",
    "PenaltyClause",
    "PriorityMatrixEntry",
    "Question",
    "ScheduleImport",
    "ScheduleLayer",
    "ScheduleOverride",
    "SlaClock",
    "SlaPause",
    "SlaTarget",
    "Target",
]
