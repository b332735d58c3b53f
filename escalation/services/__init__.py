"""Writes of the escalation process, one use case per function (see the modules for each part):

- workflow: the lifecycle transitions (classify, escalate, acknowledge, workaround, resolve, ...)
- engine: running escalations (policy snapshot, levels, pages, ladders), acknowledgement links
- matrix: the communication matrix applied to an incident, and scheduled update deadlines
- clocks: the beat tick that fires due clock rows
"""

from .workflow import (
    ACTION_SERVICES,
    ACTIONS,
    allowed_actions,
    incident_acknowledge,
    incident_acknowledge_by_link,
    incident_classify,
    incident_close,
    incident_edit,
    incident_escalate,
    incident_open,
    incident_perform,
    incident_provide_workaround,
    incident_reopen,
    incident_resolve,
)

__all__ = [
    "ACTIONS",
    "ACTION_SERVICES",
    "allowed_actions",
    "incident_acknowledge",
    "incident_acknowledge_by_link",
    "incident_classify",
    "incident_close",
    "incident_edit",
    "incident_escalate",
    "incident_open",
    "incident_perform",
    "incident_provide_workaround",
    "incident_reopen",
    "incident_resolve",
]
