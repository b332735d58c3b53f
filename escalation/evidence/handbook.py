"""The process handbook, drawn from the configuration: as it is now (the live tables) or as it was
at any date (the configuration history, history.rows_as_of). Each section says where in the
product it is configured; nested apps add theirs (escalation.hooks.handbook_sections).

A section is a dict: key, title, where (a list of (label, URL)), and either `template` and `data`
(the core's sections, rendered by templates/evidence/handbook/) or `html` (a nested app's).
"""

from datetime import date, datetime

from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from escalation import hooks, roles
from escalation.models import (
    CommunicationRule,
    Contract,
    EscalationLevel,
    EscalationPolicy,
    EscalationRule,
    LayerMember,
    OnCallSchedule,
    PenaltyClause,
    PriorityMatrixEntry,
    ScheduleLayer,
    SlaTarget,
)
from incidents.models import ACTION_LABELS, Impact, Incident, State, Urgency

from .history import linked, rows_as_of

ROLE_LABELS = {
    roles.ESCALATION_MANAGER: gettext_lazy("Escalation manager"),
    roles.RESPONDER: gettext_lazy("Responder"),
    roles.EXECUTIVE: gettext_lazy("Executive"),
    roles.CUSTOMER_CONTACT: gettext_lazy("Customer contact"),
}
# Lifecycle actions without a button of their own (ACTION_LABELS names the buttons).
MORE_ACTIONS = {"reclassify": gettext_lazy("Reclassify")}
# What a role may change in the configuration: the models whose change permission it holds.
CONFIGURATION = [
    PriorityMatrixEntry,
    EscalationRule,
    EscalationPolicy,
    OnCallSchedule,
    CommunicationRule,
    Contract,
]


def _admin(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _by(rows, attname: str) -> dict:
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(getattr(row, attname), []).append(row)
    return grouped


def _lifecycle_and_roles(at: datetime | None) -> dict:
    transitions: dict[str, dict] = {}
    for t in Incident._meta.get_field("state").get_all_transitions(Incident):
        entry = transitions.setdefault(
            t.name,
            {
                "action": ACTION_LABELS.get(t.name) or MORE_ACTIONS.get(t.name, t.name),
                "sources": [],
                "target": State(t.target).label if t.target else _("(unchanged)"),
                "permission": t.permission.split(".")[-1],
            },
        )
        entry["sources"].append(State(t.source).label)
    groups = []
    for group in rows_as_of(Group, at):
        codenames = {p.codename for p in linked(group, Group, "permissions")}
        groups.append(
            {
                "name": ROLE_LABELS.get(group.name, group.name),
                "actions": [
                    t["action"] for t in transitions.values() if t["permission"] in codenames
                ],
                "configures": [
                    m._meta.verbose_name_plural
                    for m in CONFIGURATION
                    if f"change_{m._meta.model_name}" in codenames
                ],
                "reads_configuration": [
                    m._meta.verbose_name_plural
                    for m in CONFIGURATION
                    if f"view_{m._meta.model_name}" in codenames
                    and f"change_{m._meta.model_name}" not in codenames
                ],
            }
        )
    return {
        "key": "lifecycle",
        "title": _("Lifecycle and who may do what"),
        "where": [(_("Roles (groups and their permissions)"), _admin(Group))],
        "template": "evidence/handbook/_lifecycle.html",
        "data": {"transitions": list(transitions.values()), "groups": groups},
    }


def _classification(at: datetime | None) -> dict:
    cells = {(c.impact, c.urgency): c.priority for c in rows_as_of(PriorityMatrixEntry, at)}
    matrix = [
        {
            "impact": impact.label,
            "cells": [cells.get((impact.value, urgency.value)) for urgency in Urgency],
        }
        for impact in Impact
    ]
    rules = [
        {
            "rule": rule,
            "services": linked(rule, EscalationRule, "services"),
            "customers": linked(rule, EscalationRule, "customers"),
        }
        for rule in rows_as_of(EscalationRule, at)
    ]
    return {
        "key": "classification",
        "title": _("Classification matrix and escalation rules"),
        "where": [
            (_("Priority matrix"), _admin(PriorityMatrixEntry)),
            (_("Escalation rules"), _admin(EscalationRule)),
        ],
        "template": "evidence/handbook/_classification.html",
        "data": {"urgencies": [u.label for u in Urgency], "matrix": matrix, "rules": rules},
    }


def _policies_and_oncall(at: datetime | None) -> dict:
    levels = _by(rows_as_of(EscalationLevel, at), "policy_id")
    policies = [
        {
            "policy": policy,
            "services": linked(policy, EscalationPolicy, "services"),
            "levels": [
                {"level": level, "users": linked(level, EscalationLevel, "users")}
                for level in sorted(levels.get(policy.pk, []), key=lambda lv: lv.position)
            ],
        }
        for policy in rows_as_of(EscalationPolicy, at)
    ]
    layers = _by(rows_as_of(ScheduleLayer, at), "schedule_id")
    members = _by(rows_as_of(LayerMember, at), "layer_id")
    schedules = [
        {
            "schedule": schedule,
            "layers": [
                {
                    "layer": layer,
                    "members": [
                        m.user for m in sorted(members.get(layer.pk, []), key=lambda m: m.position)
                    ],
                }
                for layer in sorted(layers.get(schedule.pk, []), key=lambda lay: lay.position)
            ],
        }
        for schedule in rows_as_of(OnCallSchedule, at)
    ]
    return {
        "key": "policies",
        "title": _("Escalation policies and on-call"),
        "where": [
            (_("Escalation policies"), _admin(EscalationPolicy)),
            (_("On-call schedules"), _admin(OnCallSchedule)),
            (_("Who is on call now"), reverse("console:oncall")),
        ],
        "template": "evidence/handbook/_policies.html",
        "data": {"policies": policies, "schedules": schedules},
    }


def _communication(at: datetime | None) -> dict:
    rules = [
        {"rule": rule, "users": linked(rule, CommunicationRule, "users")}
        for rule in rows_as_of(CommunicationRule, at)
    ]
    return {
        "key": "communication",
        "title": _("Communication matrix: who informs whom, by which channel, how often"),
        "where": [(_("Communication matrix"), reverse("console:matrix"))],
        "template": "evidence/handbook/_communication.html",
        "data": {"rules": rules},
    }


def _in_force(contract, day: date) -> bool:
    return (
        contract.is_active
        and contract.valid_from <= day
        and (contract.valid_until is None or contract.valid_until >= day)
    )


def _contracts(at: datetime | None) -> dict:
    day = timezone.localdate(at or timezone.now())
    targets = _by(rows_as_of(SlaTarget, at), "contract_id")
    clauses = _by(rows_as_of(PenaltyClause, at), "contract_id")
    contracts = [
        {
            "contract": contract,
            "targets": sorted(targets.get(contract.pk, []), key=lambda t: t.priority),
            "clauses": sorted(clauses.get(contract.pk, []), key=lambda c: c.position),
        }
        for contract in rows_as_of(Contract, at)
        if _in_force(contract, day)
    ]
    return {
        "key": "contracts",
        "title": _("SLA targets and penalty clauses in force"),
        "where": [(_("Contracts"), _admin(Contract))],
        "template": "evidence/handbook/_contracts.html",
        "data": {"contracts": contracts},
    }


def handbook(at: datetime | None) -> list[dict]:
    """The handbook's sections: as configured now (`at` None) or as configured at `at`."""
    sections = [
        _lifecycle_and_roles(at),
        _classification(at),
        _policies_and_oncall(at),
        _communication(at),
        _contracts(at),
    ]
    for section in hooks.handbook_sections:
        nested = section(at or timezone.now())
        if nested:
            where = nested.get("where") or ""
            sections.append({**nested, "where": [(where, where)] if where else []})
    return sections
