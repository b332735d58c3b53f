"""The configuration history: every change of the process configuration (classification matrix
and escalation rules, escalation policies, on-call schedules and service hours, the communication
matrix, contracts with SLA targets and penalty clauses, roles and their permissions, monitoring
integrations with their grouping rules) is kept with who, when, and the row before and after,
whether it came through the console, the admin or the API (django-simple-history: a historical
table per model, filled on every save and delete; the person comes from the request,
simple_history.middleware.HistoryRequestMiddleware).

The historical tables live in this app (app="evidence"), so the core apps carry no migration for
them. Bulk updates (QuerySet.update) bypass history: configuration is never written that way.

The handbook reads the configuration as of any date from these tables (handbook.py).
"""

from django.contrib.auth.models import Group
from simple_history import register

from escalation.models import (
    BusinessCalendar,
    CommunicationRule,
    Contract,
    EscalationLevel,
    EscalationPolicy,
    EscalationRule,
    Integration,
    LayerMember,
    OnCallSchedule,
    PenaltyClause,
    PriorityMatrixEntry,
    ScheduleLayer,
    ScheduleOverride,
    SlaTarget,
)

# model -> its many-to-many fields, recorded with each version
TRACKED = {
    PriorityMatrixEntry: [],
    EscalationRule: ["services", "customers"],
    BusinessCalendar: [],
    OnCallSchedule: [],
    ScheduleLayer: [],
    LayerMember: [],
    ScheduleOverride: [],
    EscalationPolicy: ["services"],
    EscalationLevel: ["users"],
    CommunicationRule: ["users"],
    Contract: ["services"],
    SlaTarget: [],
    PenaltyClause: [],
    Group: ["permissions"],
    Integration: ["routable_services"],
}
# Secrets are not history: a schedule's iCal token and an integration's key (the sender's
# credential) stay out of the tables; nor is what moves with every incident or alert, not with the
# configuration (a round-robin level's turn counter, an integration's last event).
EXCLUDED = {
    OnCallSchedule: ["ical_token"],
    EscalationLevel: ["round_robin_count"],
    Integration: ["key", "last_event_at"],
}

for _model, _m2m in TRACKED.items():
    register(
        _model,
        app="escalation.evidence",  # the module path: the tables belong to this app
        m2m_fields=_m2m,
        excluded_fields=EXCLUDED.get(_model, []),
        user_related_name="+",
    )
