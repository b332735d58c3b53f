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
        *_crud("escalation", "businesscalendar"),
        *_crud("escalation", "oncallschedule"),
        *_crud("escalation", "schedulelayer"),
        *_crud("escalation", "layermember"),
        *_crud("escalation", "scheduleoverride"),
        *_crud("escalation", "escalationpolicy"),
        *_crud("escalation", "escalationlevel"),
        *_crud("escalation", "communicationrule"),
        *_crud("escalation", "contactmethod"),
        *_crud("escalation", "notificationrule"),
        *_crud("escalation", "integration"),
        *_crud("escalation", "eventwebhook"),
        *_crud("escalation", "contract"),
        *_crud("escalation", "slatarget"),
        *_crud("escalation", "penaltyclause"),
        "escalation.view_slaclock",
        "escalation.view_slapause",
        "escalation.view_question",
        "escalation.change_question",
        "escalation.view_idempotencyrecord",
        "incidents.view_apitoken",
        "incidents.change_apitoken",
        "escalation.view_escalationrun",
        "escalation.view_page",
        "escalation.view_incidentrole",
        "escalation.view_scheduleimport",
        "escalation.view_clock",
        "notifications.view_notification",
        *_crud("notifications", "subscription"),
        *_crud("regulatory", "regime"),
        *_crud("regulatory", "reporttype"),
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
        "escalation.view_oncallschedule",
        "escalation.view_escalationpolicy",
        "escalation.view_communicationrule",
        "escalation.view_escalationrun",
        "escalation.view_page",
        "escalation.view_incidentrole",
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


def sync_role_permissions(apps, schema_editor) -> None:
    """Give each role group the permissions listed above that exist at this point of migrating.

    Run by every migration that adds models (or changes a role), so the groups always end up with
    the full list; permissions of models a later migration creates are skipped until then.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = {tuple(p.split(".")) for p in perms}
        found = [
            p
            for p in Permission.objects.select_related("content_type")
            if (p.content_type.app_label, p.codename) in wanted
        ]
        group.permissions.set(found)
