"""The roles, as Django groups with permissions (created by migration escalation.0003)."""

ESCALATION_MANAGER = "escalation_manager"
RESPONDER = "responder"
EXECUTIVE = "executive"
CUSTOMER_CONTACT = "customer_contact"

_TRANSITIONS = [
    "classify_incident",
    "escalate_incident",
    "acknowledge_incident",
    "workaround_incident",
    "resolve_incident",
    "close_incident",
    "reopen_incident",
]


def _crud(app: str, model: str) -> list[str]:
    return [f"{app}.{verb}_{model}" for verb in ("view", "add", "change", "delete")]


ROLE_PERMISSIONS: dict[str, list[str]] = {
    ESCALATION_MANAGER: [
        *[f"incidents.{p}" for p in _TRANSITIONS],
        "incidents.view_incident",
        "incidents.add_incident",
        "incidents.change_incident",
        *_crud("incidents", "customer"),
        *_crud("incidents", "service"),
        *_crud("incidents", "servicegroup"),
        "incidents.view_update",
        "incidents.add_update",
        "incidents.view_incidentevent",
        "incidents.view_user",
        *_crud("escalation", "prioritymatrixentry"),
        *_crud("escalation", "escalationrule"),
    ],
    RESPONDER: [
        "incidents.classify_incident",
        "incidents.acknowledge_incident",
        "incidents.workaround_incident",
        "incidents.resolve_incident",
        "incidents.view_incident",
        "incidents.add_incident",
        "incidents.change_incident",
        "incidents.view_customer",
        "incidents.view_service",
        "incidents.view_update",
        "incidents.add_update",
        "incidents.view_incidentevent",
        "escalation.view_prioritymatrixentry",
        "escalation.view_escalationrule",
    ],
    # Executives read; they never write and never hold a transition permission.
    EXECUTIVE: [
        "incidents.view_incident",
        "incidents.view_update",
        "incidents.view_customer",
        "incidents.view_service",
    ],
    # Customer contacts hold no model permission: what they see is scoped by the customer selectors.
    CUSTOMER_CONTACT: [],
}
