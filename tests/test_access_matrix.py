"""The access matrix: every URL of the project x six audiences, allowed or refused.

The rule (DESIGN.md, "Who uses it, where", and the access issue): anonymous users see only the
public page; a customer contact never sees another organisation's incident, service or update
through any URL, feed, JSON or API; executives read but are refused on every write; escalation
managers may do everything, responders work on the incidents they are pulled into.

How this file keeps up with new URLs
- The URL patterns are read from Django's resolver at collection time (includes followed, names
  with their namespaces). Each route needs an entry in EXPECTED: a route without one is a failing
  test case of its own (decide who may use it), and so is an entry whose route is gone.
- The Django admin's own URLs are not in the table (they are Django's, one per registered model
  and view); the admin is checked explicitly below: its index and some change lists and change
  pages, which customers and executives never get into.

What each case does (one case per route x object variant x audience)
- read: GET and HEAD, and the status class in EXPECTED; no 500; a customer asking for another
  organisation's object gets the same answer as for an object that does not exist (a 404 where
  the surface is open to customers); the body never carries what the audience may not read
  (marker strings of the other organisation's incident, service, customer, contract and
  subscriptions, internal and executive updates, executives' questions).
  Surfaces closed to customers altogether (the console, the dashboard) refuse them with the same
  403 for every id (their own organisation's, another's, one that does not exist): a refusal
  before any lookup reveals nothing.
- write: POST (and PUT/PATCH/DELETE on the API, by session and by bearer token) with a minimal
  body that would succeed if authorisation were missing, and with an empty one; an audience that
  may not write there never gets a 2xx and nothing in the database changes.

Known violations of the rule are single cases marked xfail(strict=True) in VIOLATIONS, so the
suite shows them and turns red once they are fixed (then delete the line).

The test client does not enforce CSRF, so that a refusal seen here comes from authorisation.
"""

import functools
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from escalation import roles
from escalation.continuity.models import (
    BusinessProcess,
    Concession,
    IncidentLevel,
    RunbookVersion,
    Workaround,
)
from escalation.continuity.services import process_create, runbook_create
from escalation.maintenance.models import Maintenance
from escalation.models import (
    AckLink,
    Clock,
    CommunicationRule,
    Contract,
    Integration,
    OnCallSchedule,
    Question,
    ScheduleOverride,
    SlaPause,
)
from escalation.problems.models import Problem, ProblemEvent, ProblemLink
from escalation.problems.services import problem_create
from escalation.regulatory.models import Regime, Report
from escalation.regulatory.services import assessment_decide, report_submit
from escalation.reviews.services import action_create, review_draft
from escalation.services import engine
from escalation.services.integrations import integration_create
from escalation.services.matrix import update_publish
from escalation.services.public import public_incident_publish
from incidents.heartbeats import heartbeat_record
from incidents.models import (
    ApiToken,
    Customer,
    Incident,
    IncidentEvent,
    Service,
    State,
    Update,
    User,
)
from incidents.services import api_token_create, update_post
from notifications.models import Notification, Subscription
from notifications.services import subscription_token

from .factories import CustomerFactory, IncidentFactory, ServiceFactory, UserFactory, drive

AUDIENCES = ("anonymous", "customer_a", "customer_b", "responder", "executive", "manager")
CUSTOMERS = ("customer_a", "customer_b")
LOGIN_URL = "/accounts/login/"
MISSING_PK = 987654

# --- Outcome classes -----------------------------------------------------------------------------

OK = "ok"  # 200
LOGIN = "login"  # HTML: 302 to the login page; API: 401 (or 403) without credentials
FORBIDDEN = "forbidden"  # 403 (a refusal whatever the object: it reveals nothing)
NOT_FOUND = "not_found"  # 404: for another organisation's object, existence is not revealed
METHOD = "method"  # 405: the URL takes another method (e.g. POST-only actions)
REDIRECT = "redirect"  # 302 somewhere other than the login page
INVALID = "invalid"  # a capability URL with an invalid token or key: 400, 403 or 404

STATUSES = {
    OK: {200},
    FORBIDDEN: {403},
    NOT_FOUND: {404},
    METHOD: {405},
    INVALID: {400, 403, 404},
}

ALL = frozenset({"anonymous", "customer", "responder", "executive", "manager"})
STAFF = frozenset({"responder", "manager"})
MANAGER = frozenset({"manager"})
NOBODY = frozenset()


@dataclass(frozen=True)
class Entry:
    """What one route answers each audience.

    get: audience class -> outcome, where the audience classes are anonymous, customer (either
      organisation's contact asking about their own organisation's object), responder, executive
      and manager; an outcome may be a dict variant -> outcome. A customer asking about the other
      organisation's object gets NOT_FOUND where the surface is open to customers (OK for their
      own), else the same uniform refusal as for their own.
    writers: the audience classes whose writes may succeed here (2xx, data changed), or
      "class:variant" for one object only; everybody else is refused (no 2xx) and changes
      nothing. A customer only ever writes to their own organisation's objects.
    params: how the URL's parameters are filled, and with which objects (VARIANTS, url_kwargs).
    payload: a minimal body per write method that succeeds for an audience allowed to write
      (a callable of (world, audience) for bodies that depend on who sends them).
    session_only: the writes here touch the session or the user's own account only (Django's
      sign-in, password and language views): a 2xx is fine, but no incident data may change.
    """

    get: dict
    writers: frozenset = NOBODY
    params: str = ""
    payload: dict = field(default_factory=dict)
    session_only: bool = False


def everyone(outcome):
    return dict.fromkeys(ALL, outcome)


def console(outcome=OK, *, responder=None):
    """The triage console: escalation managers and responders only."""
    return {
        "anonymous": LOGIN,
        "customer": FORBIDDEN,
        "executive": FORBIDDEN,
        "responder": outcome if responder is None else responder,
        "manager": outcome,
    }


def post_only_console():
    """A console action (POST only): anonymous users log in first, everybody else gets a 405 to
    a GET (the method check runs before the role check; nothing is revealed by it)."""
    return {"anonymous": LOGIN, **dict.fromkeys(ALL - {"anonymous"}, METHOD)}


def api(*, customer=OK, responder=OK, executive=OK, manager=OK):
    return {
        "anonymous": LOGIN,
        "customer": customer,
        "responder": responder,
        "executive": executive,
        "manager": manager,
    }


def api_post_only():
    """A POST-only API action: a GET by anyone signed in is a 405 (after the permission check,
    which lets every role read); anonymous users are 401."""
    return api(customer=METHOD, responder=METHOD, executive=METHOD, manager=METHOD)


def portal(outcome=OK):
    """The customer portal: customer contacts only; staff and executives get a 403 page."""
    return {
        "anonymous": LOGIN,
        "customer": outcome,
        "responder": FORBIDDEN,
        "executive": FORBIDDEN,
        "manager": FORBIDDEN,
    }


def dashboard(outcome=OK):
    """The executive dashboard: executives and escalation managers; responders are shielded."""
    return {
        "anonymous": LOGIN,
        "customer": FORBIDDEN,
        "responder": FORBIDDEN,
        "executive": outcome,
        "manager": outcome,
    }


def reports():
    """SLA reports: managers and executives every customer's, a customer contact their own
    organisation's, responders a 403."""
    return {
        "anonymous": LOGIN,
        "customer": OK,
        "responder": FORBIDDEN,
        "executive": OK,
        "manager": OK,
    }


# A responder works on the incidents they are pulled into: incident A (they command it), not B.
ASSIGNED_ONLY = {"A": OK, "B": NOT_FOUND}
ASSIGNED_WRITERS = frozenset({"manager", "responder:A"})
ACTIONS_API = {
    "classify": {"impact": "low", "urgency": "low"},
    "escalate": {"reason": "ZQWRITE"},
    "acknowledge": {},
    "workaround": {"workaround": "ZQWRITE"},
    "resolve": {"resolution": "ZQWRITE"},
    "close": {"review": "ZQWRITE"},
    "reopen": {"reason": "ZQWRITE"},
}


def _portal_subscription(world, audience):
    own = world.customers["B" if audience == "customer_b" else "A"]
    return {
        "channel": "email",
        "address": "zqwrite@example.org",
        "scope": f"customer:{own.slug}",
        "language": "en",
    }


def _override_form(world, audience):
    start = timezone.localtime() + timedelta(days=3)
    return {
        "user": (world.users.get(audience) or world.users["manager"]).pk,
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
    }


def _calendar_upload(world, audience):
    from django.core.files.uploadedfile import SimpleUploadedFile

    start = (timezone.now() + timedelta(days=2)).strftime("%Y%m%dT%H%M%SZ")
    end = (timezone.now() + timedelta(days=2, hours=3)).strftime("%Y%m%dT%H%M%SZ")
    calendar = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ZQ//EN\r\nBEGIN:VEVENT\r\nUID:zq@test\r\n"
        f"SUMMARY:mara.manager\r\nDTSTART:{start}\r\nDTEND:{end}\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    return {"file": SimpleUploadedFile("zq.ics", calendar.encode(), "text/calendar")}


def _maintenance_body(world, audience):
    start = timezone.now() + timedelta(days=3)
    return {
        "title": "ZQWRITE",
        "services": ["public-web"],
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
    }


def _maintenance_form(world, audience):
    start = timezone.localtime() + timedelta(days=3)
    return {
        "title": "ZQWRITE",
        "services": [Service.objects.get(slug="public-web").pk],
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "silence": "on",
    }


def _problem_link(world, audience):
    return {"incident": world.incidents["A"].pk}


def _regulatory_assess_form(world, audience):
    prefix = f"r{Regime.objects.get(code='gdpr').pk}"
    return {f"{prefix}-decision": "reportable", f"{prefix}-reason": "ZQWRITE"}


def _regulatory_aware(world, audience, *, api=False):
    at = timezone.localtime() - timedelta(hours=1)
    return {
        "aware_at": at.isoformat() if api else at.strftime("%Y-%m-%dT%H:%M"),
        "reason": "ZQWRITE",
    }


# Regulatory reporting is the team's: customers see none of it, executives read through the API.
REGULATORY_ENTRIES = {
    "regulatory:list": Entry(get=console()),
    "regulatory:incident": Entry(get=console(responder=ASSIGNED_ONLY), params="incident"),
    "regulatory:aware": Entry(
        get=post_only_console(),
        writers=MANAGER,
        params="incident",
        payload={"POST": _regulatory_aware},
    ),
    "regulatory:assess": Entry(
        get=post_only_console(),
        writers=MANAGER,
        params="regulatory_assess",
        payload={"POST": _regulatory_assess_form},
    ),
    "regulatory:report": Entry(
        get=console(responder=ASSIGNED_ONLY),
        writers=MANAGER,
        params="regulatory_report",
        payload={"POST": {"text": "ZQWRITE", "text_en": "ZQWRITE"}},
    ),
    "regulatory:pdf": Entry(get=console(responder=ASSIGNED_ONLY), params="regulatory_report"),
    "regulatory:redraft": Entry(
        get=post_only_console(), writers=MANAGER, params="regulatory_report", payload={"POST": {}}
    ),
    "regulatory:submit": Entry(
        get=post_only_console(), writers=MANAGER, params="regulatory_report", payload={"POST": {}}
    ),
    "regulatory:reference": Entry(
        get=post_only_console(),
        writers=MANAGER,
        params="regulatory_submitted",
        payload={"POST": {"reference": "ZQWRITE"}},
    ),
    "api_incident_reporting": Entry(
        get=api(customer=FORBIDDEN, responder=ASSIGNED_ONLY), params="incident"
    ),
    "api_reporting_assess": Entry(
        get=api_post_only(),
        writers=MANAGER,
        params="incident",
        payload={"POST": {"regime": "gdpr", "decision": "reportable", "reason": "ZQWRITE"}},
    ),
    "api_reporting_aware": Entry(
        get=api_post_only(),
        writers=MANAGER,
        params="incident",
        payload={"POST": functools.partial(_regulatory_aware, api=True)},
    ),
    "api_reporting_draft": Entry(
        get=api_post_only(),
        writers=MANAGER,
        params="api_regulatory_report",
        payload={"POST": {"text": "ZQWRITE", "text_en": "ZQWRITE"}},
    ),
    "api_reporting_submit": Entry(
        get=api_post_only(), writers=MANAGER, params="api_regulatory_report", payload={"POST": {}}
    ),
    "api_reporting_reference": Entry(
        get=api_post_only(),
        writers=MANAGER,
        params="api_regulatory_submitted",
        payload={"POST": {"reference": "ZQWRITE"}},
    ),
}


def _process_form(world, audience):
    return {
        "name": "ZQWRITE",
        "slug": "zqwrite",
        "services": [Service.objects.get(slug="public-web").pk],
        "rto_minutes": 10,
        "mtpd_minutes": 20,
        "is_active": "on",
    }


def _runbook_form(world, audience):
    return {
        "title": "ZQWRITE",
        "process": world.processes["A"].pk,
        "steps": "ZQWRITE step",
        "performer": "x",
        "customer_text_de": "x",
        "customer_text_en": "x",
        "expected_status": "degraded_performance",
        "is_active": "on",
    }


def _runbook_body(world, audience):
    return {
        "title": "ZQWRITE",
        "service": "public-web",
        "steps": [{"text": "ZQWRITE"}],
        "performer": "x",
        "customer_text_de": "x",
        "customer_text_en": "x",
    }


EXPECTED: dict[str, Entry] = {
    # --- Site root and Django's session views -----------------------------------------------------
    "": Entry(get=everyone(REDIRECT)),  # RedirectView to /console/, for every method
    # Signing in and out, one's own password and language: these write the session or the
    # user's own account, never the incident record; every audience may use them (a form
    # shown again with its errors is a 200).
    "login": Entry(
        get=everyone(OK), writers=ALL, session_only=True, payload={"POST": {"username": "x"}}
    ),
    "logout": Entry(get=everyone(METHOD), writers=ALL, session_only=True),
    "password_change": Entry(
        get={**everyone(OK), "anonymous": LOGIN}, writers=ALL, session_only=True
    ),
    "password_change_done": Entry(get={**everyone(OK), "anonymous": LOGIN}),
    "password_reset": Entry(get=everyone(OK), writers=ALL, session_only=True),
    "profile": Entry(
        get={**everyone(OK), "anonymous": LOGIN},
        writers=ALL - {"anonymous"},
        session_only=True,
        payload={"POST": {"language": "en", "time_zone": "Europe/Vienna"}},
    ),
    "password_reset_done": Entry(get=everyone(OK)),
    # Django's view answers an invalid link with a 200 page that says so (no form); see
    # test_password_reset_with_an_invalid_link_offers_no_form.
    "password_reset_confirm": Entry(
        get=everyone(OK), params="token", writers=ALL, session_only=True
    ),
    "password_reset_complete": Entry(get=everyone(OK)),
    "set_language": Entry(get=everyone(REDIRECT), payload={"POST": {"language": "en"}}),
    # A probe for load balancers: GET only. (The rule holds anonymous users, customers and
    # executives to "no 2xx on a write"; staff are not bound by it here.)
    "healthz": Entry(get=everyone(OK), writers=STAFF),
    # the test client comes from 127.0.0.1, in METRICS_ALLOW_NETWORKS (tests/test_metrics.py
    # covers the rest)
    "metrics": Entry(get=everyone(OK)),
    # --- Triage console ---------------------------------------------------------------------------
    "console:board": Entry(get=console(), writers=STAFF),
    "console:incident_new": Entry(
        get=console(),
        writers=STAFF,
        payload={"POST": {"title": "ZQWRITE", "description": "x"}},
    ),
    "console:incident": Entry(
        get=console(responder=ASSIGNED_ONLY), writers=ASSIGNED_WRITERS, params="incident"
    ),
    "console:incident_action": Entry(
        get=post_only_console(),
        writers=ASSIGNED_WRITERS,
        params="incident_action",
        payload={"POST": {"resolve-resolution": "ZQWRITE"}},
    ),
    "console:incident_update": Entry(
        get=post_only_console(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"audience": "customer", "body": "ZQWRITE"}},
    ),
    # Publishing for customers (a new public incident; A's payload) and its public updates.
    "console:public_publish": Entry(
        get=post_only_console(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"title": "ZQWRITE", "body": "x", "status": "investigating"}},
    ),
    "console:public_update": Entry(
        get=post_only_console(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"status": "identified", "body": "ZQWRITE"}},
    ),
    "console:sla_pause": Entry(
        get=post_only_console(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"reason": "ZQWRITE"}},
    ),
    # On-call schedules: the team reads them; managers put anybody on call, responders
    # themselves (the body puts the sender on call) and remove their own overrides.
    "console:oncall_schedule": Entry(get=console(), params="schedule"),
    "console:oncall_override": Entry(
        get=post_only_console(),
        writers=STAFF,
        params="schedule",
        payload={"POST": _override_form},
    ),
    "console:oncall_import": Entry(
        get=post_only_console(),
        writers=MANAGER,
        params="schedule",
        payload={"POST": _calendar_upload},
    ),
    "console:oncall_override_delete": Entry(
        get=post_only_console(), writers=STAFF, params="override"
    ),
    # People on an incident: the commander (responder on A) and managers hand roles; anybody
    # working on the incident may pull in a responder (pages them).
    "console:people_commander": Entry(
        get=post_only_console(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": lambda world, audience: {"user": world.users["manager"].pk}},
    ),
    "console:people_role": Entry(
        get=post_only_console(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={
            "POST": lambda world, audience: {"role": "scribe", "user": world.users["manager"].pk}
        },
    ),
    "console:people_pull_in": Entry(
        get=post_only_console(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": lambda world, audience: {"user": world.users["responder"].pk}},
    ),
    "console:sla_resume": Entry(
        get=post_only_console(), writers=ASSIGNED_WRITERS, params="incident"
    ),
    "console:incident_communication": Entry(
        get=console(responder=ASSIGNED_ONLY), writers=STAFF, params="incident"
    ),
    "console:oncall": Entry(get=console(), writers=STAFF),
    # Business continuity in the console: the team reads, escalation managers edit; applying a
    # runbook is a workaround (as the incident's actions), concession and level the manager's.
    "continuity:processes": Entry(get=console()),
    "continuity:process_new": Entry(
        get=console(responder=FORBIDDEN), writers=MANAGER, payload={"POST": _process_form}
    ),
    "continuity:process": Entry(get=console(), params="process_console"),
    "continuity:process_edit": Entry(
        get=console(responder=FORBIDDEN),
        writers=MANAGER,
        params="process_console",
        payload={"POST": _process_form},
    ),
    "continuity:runbooks": Entry(get=console()),
    "continuity:runbook_new": Entry(
        get=console(responder=FORBIDDEN), writers=MANAGER, payload={"POST": _runbook_form}
    ),
    "continuity:runbook": Entry(get=console(), params="runbook"),
    "continuity:runbook_edit": Entry(
        get=console(responder=FORBIDDEN),
        writers=MANAGER,
        params="runbook",
        payload={"POST": _runbook_form},
    ),
    "continuity:workaround": Entry(
        get=post_only_console(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"text": "ZQWRITE"}},
    ),
    "continuity:concession": Entry(
        get=post_only_console(),
        writers=MANAGER,
        params="incident",
        payload={"POST": {"accepted_by": "ZQWRITE"}},
    ),
    "continuity:level": Entry(
        get=post_only_console(),
        writers=MANAGER,
        params="incident",
        payload={"POST": {"level": "crisis", "reason": "ZQWRITE"}},
    ),
    "console:matrix": Entry(get=console(), writers=STAFF),
    # The matrix is configuration: escalation managers change it, responders read it.
    "console:matrix_new": Entry(
        get=console(responder=FORBIDDEN),
        writers=MANAGER,
        payload={
            "POST": {
                "position": "0",
                "is_active": "on",
                "audience": "responders",
                "channels": ["email"],
                "cadence_minutes": "0",
                "template": "internal_update",
            }
        },
    ),
    "console:matrix_edit": Entry(
        get=console(responder=FORBIDDEN),
        writers=MANAGER,
        params="rule",
        payload={
            "POST": {
                "position": "3",
                "is_active": "on",
                "audience": "responders",
                "channels": ["email"],
                "cadence_minutes": "0",
                "template": "internal_update",
            }
        },
    ),
    "console:matrix_delete": Entry(get=post_only_console(), writers=MANAGER, params="rule"),
    # Integrations' grouping rules (never the key): the team reads them, managers change them.
    "console:integrations": Entry(get=console()),
    "console:integration_edit": Entry(
        get=console(responder=FORBIDDEN),
        writers=MANAGER,
        params="integration",
        payload={"POST": {"group_labels": "ZQWRITE", "group_window": "5", "flap_window": "0"}},
    ),
    # Executives' questions are the escalation manager's queue: the team is shielded from them.
    "console:questions": Entry(get=console(responder=FORBIDDEN), writers=MANAGER),
    "console:question_answer": Entry(
        get=post_only_console(),
        writers=MANAGER,
        params="question",
        payload={"POST": {"answer": "ZQWRITE"}},
    ),
    "maintenance:list": Entry(get=console()),
    "maintenance:new": Entry(
        get=console(responder=FORBIDDEN), writers=MANAGER, payload={"POST": _maintenance_form}
    ),
    "maintenance:edit": Entry(
        get=console(responder=FORBIDDEN),
        writers=MANAGER,
        params="maintenance_console",
        payload={"POST": _maintenance_form},
    ),
    "maintenance:delete": Entry(
        get=post_only_console(), writers=MANAGER, params="maintenance_console"
    ),
    # Problems: the team's work (responders too); executives read them on the dashboard and API.
    "problems:list": Entry(get=console()),
    "problems:new": Entry(get=console(), writers=STAFF, payload={"POST": {"statement": "ZQWRITE"}}),
    "problems:detail": Entry(get=console(), params="problem"),
    "problems:edit": Entry(
        get=console(), writers=STAFF, params="problem", payload={"POST": {"statement": "ZQWRITE"}}
    ),
    "problems:link": Entry(
        get=post_only_console(), writers=STAFF, params="problem", payload={"POST": _problem_link}
    ),
    "problems:unlink": Entry(
        get=post_only_console(), writers=STAFF, params="problem", payload={"POST": _problem_link}
    ),
    "problems:action": Entry(get=post_only_console(), writers=STAFF, params="problem_action"),
    # The evidence dossier (PDF): staff and executives; a responder only incidents they work on.
    "evidence:dossier_pdf": Entry(
        get={**console(responder=ASSIGNED_ONLY), "executive": OK}, params="incident"
    ),
    # The process handbook and the configuration history: staff and executives read them.
    "evidence:handbook": Entry(get={**console(), "executive": OK}),
    "evidence:handbook_pdf": Entry(get={**console(), "executive": OK}),
    "evidence:handbook_changes": Entry(get={**console(), "executive": OK}),
    "console:reports": Entry(get=reports()),
    "console:sla_report": Entry(get=reports(), params="report"),
    "console:sla_report_csv": Entry(get=reports(), params="report"),
    "console:sla_report_pdf": Entry(get=reports(), params="report"),
    # --- Post-incident reviews and corrective actions (escalation.reviews) ------------------------
    "reviews:review": Entry(
        get={**console(responder=ASSIGNED_ONLY), "executive": OK},
        writers=MANAGER,
        params="incident",
        payload={"POST": {"summary": "ZQWRITE", "root_cause": "ZQWRITE"}},
    ),
    "reviews:review_pdf": Entry(
        get={
            **console(ASSIGNED_ONLY),
            "executive": ASSIGNED_ONLY,  # A has a review, B none
        },
        params="incident",
    ),
    "reviews:draft": Entry(get=post_only_console(), writers=MANAGER, params="incident"),
    "reviews:submit": Entry(get=post_only_console(), writers=MANAGER, params="incident"),
    "reviews:approve": Entry(get=post_only_console(), writers=MANAGER, params="incident"),
    "reviews:send_back": Entry(
        get=post_only_console(),
        writers=frozenset({"manager:A"}),  # B has no review to send back
        params="incident",
        payload={"POST": {"note": "ZQWRITE"}},
    ),
    "reviews:action_add": Entry(get=post_only_console(), writers=MANAGER, params="incident"),
    "reviews:actions": Entry(get={**console(), "executive": OK}),
    "reviews:action": Entry(get={**console(), "executive": OK}, params="capa"),
    "reviews:action_complete": Entry(
        get=post_only_console(), writers=MANAGER, params="capa", payload={"POST": {"note": "ZQ"}}
    ),
    "reviews:action_verdict": Entry(get=post_only_console(), writers=MANAGER, params="capa"),
    "reviews:action_cancel": Entry(get=post_only_console(), writers=MANAGER, params="capa"),
    # --- Capability URLs (tested here with invalid tokens; valid ones below) ----------------------
    "ack_link": Entry(get=everyone(INVALID), params="token"),
    "schedule_ical": Entry(get=everyone(INVALID), params="token"),
    "person_ical": Entry(get=everyone(INVALID), params="token"),
    "subscription_confirm": Entry(get=everyone(INVALID), params="token"),
    "subscription_manage": Entry(get=everyone(INVALID), params="token"),
    "subscription_unsubscribe": Entry(get=everyone(INVALID), params="token"),
    # --- REST API ---------------------------------------------------------------------------------
    "api_incidents": Entry(
        get=api(), writers=STAFF, payload={"POST": {"title": "ZQWRITE", "description": "x"}}
    ),
    # Responders read through the API what the console shows them (one scope everywhere).
    "api_incident": Entry(
        get=api(responder=ASSIGNED_ONLY),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"PATCH": {"title": "ZQWRITE"}},
    ),
    # The timeline is the team's record: customers never read it (a 404, as if absent).
    "api_timeline": Entry(
        get=api(customer=NOT_FOUND, responder=ASSIGNED_ONLY), writers=STAFF, params="incident"
    ),
    # The alerts monitoring sent are the team's record, like the timeline: never customers'.
    "api_incident_alerts": Entry(
        get=api(customer=NOT_FOUND, responder=ASSIGNED_ONLY), writers=STAFF, params="incident"
    ),
    "api_updates": Entry(
        get=api(responder=ASSIGNED_ONLY),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"audience": "customer", "body": "ZQWRITE"}},
    ),
    **{
        f"api/v1/incidents/<int:pk>/{action}/": Entry(
            get=api_post_only(), writers=ASSIGNED_WRITERS, params="incident", payload={"POST": body}
        )
        for action, body in ACTIONS_API.items()
    },
    # Contracts and penalties are the provider's business: staff and executives only.
    "api_incident_sla": Entry(
        get=api(customer=NOT_FOUND, responder=ASSIGNED_ONLY), writers=STAFF, params="incident"
    ),
    "api_sla_pause": Entry(
        get=api_post_only(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"reason": "ZQWRITE"}},
    ),
    "api_sla_resume": Entry(get=api_post_only(), writers=ASSIGNED_WRITERS, params="incident"),
    # People on an incident: the team and executives read; writes as in the console.
    "api_people": Entry(
        get=api(customer=NOT_FOUND, responder=ASSIGNED_ONLY), writers=STAFF, params="incident"
    ),
    "api_people_commander": Entry(
        get=api_post_only(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"user": "mara.manager"}},
    ),
    "api_people_role": Entry(
        get=api_post_only(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"role": "scribe", "user": "mara.manager"}},
    ),
    "api_people_pull_in": Entry(
        get=api_post_only(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"user": "rolf.responder"}},
    ),
    "api_customer_exposure": Entry(get=api(customer=NOT_FOUND), writers=STAFF, params="customer"),
    # Public incidents: customers read their organisation's (the other's is a 404); writes as
    # other incident writes (a responder only on what covers incidents they work on).
    "api_public_incidents": Entry(
        get=api(),
        writers=STAFF,
        payload={"POST": lambda world, audience: {"incidents": [world.incidents["A"].pk]}},
    ),
    "api_public_incident": Entry(
        get=api(),
        writers=ASSIGNED_WRITERS,
        params="public",
        payload={"PATCH": lambda world, audience: {"incidents": [world.incidents["A"].pk]}},
    ),
    "api_public_incident_updates": Entry(
        get=api_post_only(),
        writers=ASSIGNED_WRITERS,
        params="public",
        payload={"POST": {"body": "ZQWRITE"}},
    ),
    "api_services": Entry(get=api(), writers=STAFF),
    "api_customers": Entry(get=api(), writers=STAFF),
    "api_oncall": Entry(
        get=api(customer=FORBIDDEN, executive=FORBIDDEN), writers=STAFF
    ),  # the team's rota
    # Integrations and their grouping rules: the team's configuration (never the key);
    # escalation managers change the rules.
    "api_integrations": Entry(get=api(customer=FORBIDDEN, executive=FORBIDDEN), writers=STAFF),
    "api_integration": Entry(
        get=api(customer=FORBIDDEN, executive=FORBIDDEN),
        writers=MANAGER,
        params="integration",
        payload={"PATCH": {"group_labels": ["ZQWRITE"]}},
    ),
    # Alert ingestion: the integration key is the credential (here an unknown one).
    "api_events_v2": Entry(
        get=everyone(METHOD),
        payload={
            "POST": {
                "routing_key": "zq-unknown-key",
                "event_action": "trigger",
                "payload": {"summary": "ZQWRITE", "source": "x", "severity": "critical"},
            }
        },
    ),
    # Change events: the routing key is the credential (here an unknown one).
    "api_change_events": Entry(
        get=everyone(METHOD),
        payload={"POST": {"routing_key": "zq-unknown-key", "payload": {"summary": "ZQWRITE"}}},
    ),
    # Recent changes of an incident are the team's (and executives') triage aid, like the timeline.
    "api_changes": Entry(get=api(customer=NOT_FOUND), writers=STAFF, params="incident"),
    # Maintenance windows: everyone with a role reads those in their scope (a customer contact
    # their organisation's), escalation managers plan them.
    "api_maintenances": Entry(get=api(), writers=MANAGER, payload={"POST": _maintenance_body}),
    "api_maintenance": Entry(
        get=api(),
        writers=MANAGER,
        params="maintenance",
        payload={"PATCH": {"title": "ZQWRITE"}},
    ),
    # Problems: none of them for customers; executives read; the team writes (links: incidents
    # they work on; the world's problem has incident A linked).
    "api_problems": Entry(
        get=api(customer=FORBIDDEN), writers=STAFF, payload={"POST": {"statement": "ZQWRITE"}}
    ),
    "api_problem": Entry(
        get=api(customer=FORBIDDEN),
        writers=STAFF,
        params="problem",
        payload={"PATCH": {"statement": "ZQWRITE"}},
    ),
    "api_problem_link": Entry(
        get=api_post_only(), writers=STAFF, params="problem", payload={"POST": _problem_link}
    ),
    "api_problem_unlink": Entry(
        get=api_post_only(), writers=STAFF, params="problem", payload={"POST": _problem_link}
    ),
    "api_problem_transition": Entry(
        get=api_post_only(),
        writers=STAFF,
        params="problem_action",
        payload={"POST": {"reason": "ZQWRITE"}},
    ),
    "api_incident_known_errors": Entry(
        get=api(customer=NOT_FOUND, responder=ASSIGNED_ONLY), params="incident"
    ),
    # The evidence dossier is the provider's record (internal updates, contracts, penalties):
    # staff read what they may read, executives every incident's, customers none (a 404).
    "api_incident_dossier": Entry(
        get=api(customer=NOT_FOUND, responder=ASSIGNED_ONLY), params="incident"
    ),
    # Business continuity: processes are read by everyone in scope (a customer contact their
    # organisation's), runbooks and an incident's continuity record by the team and executives;
    # escalation managers edit; the workaround action extends the core's (same writers).
    "api_processes": Entry(
        get=api(),
        writers=MANAGER,
        payload={
            "POST": {
                "name": "ZQWRITE",
                "slug": "zqwrite",
                "services": ["public-web"],
                "rto_minutes": 10,
                "mtpd_minutes": 20,
            }
        },
    ),
    "api_process": Entry(
        get=api(), writers=MANAGER, params="process", payload={"PATCH": {"name": "ZQWRITE"}}
    ),
    "api_runbooks": Entry(
        get=api(customer=FORBIDDEN), writers=MANAGER, payload={"POST": _runbook_body}
    ),
    "api_runbook": Entry(
        get=api(customer=FORBIDDEN),
        writers=MANAGER,
        params="runbook",
        payload={"PATCH": {"limitations": "ZQWRITE"}},
    ),
    "api_incident_continuity": Entry(
        get=api(customer=NOT_FOUND, responder=ASSIGNED_ONLY), writers=STAFF, params="incident"
    ),
    "api_incident_workaround": Entry(
        get=api_post_only(),
        writers=ASSIGNED_WRITERS,
        params="incident",
        payload={"POST": {"workaround": "ZQWRITE"}},
    ),
    # Reviews and actions: the team and executives read, managers write, customers get a 404.
    "api_review": Entry(
        get=api(
            customer=NOT_FOUND,
            responder=ASSIGNED_ONLY,
            executive=ASSIGNED_ONLY,
            manager=ASSIGNED_ONLY,
        ),  # A has a review, B none
        writers=MANAGER,
        params="incident",
        payload={"PATCH": {"summary": "ZQWRITE"}},
    ),
    "api_review_submit": Entry(get=api_post_only(), writers=MANAGER, params="incident"),
    "api_review_approve": Entry(get=api_post_only(), writers=MANAGER, params="incident"),
    "api_review_send_back": Entry(get=api_post_only(), writers=MANAGER, params="incident"),
    "api_actions": Entry(get=api(customer=NOT_FOUND), writers=MANAGER),
    "api_action": Entry(get=api(customer=NOT_FOUND), params="capa"),
    "api_action_complete": Entry(
        get=api_post_only(), writers=MANAGER, params="capa", payload={"POST": {"note": "ZQ"}}
    ),
    "api_action_verdict": Entry(get=api_post_only(), writers=MANAGER, params="capa"),
    "api_action_cancel": Entry(get=api_post_only(), writers=MANAGER, params="capa"),
    "api_alertmanager_bearer": Entry(get=everyone(METHOD)),
    "api_alertmanager": Entry(get=everyone(METHOD), params="token"),
    # The API's documentation (no data) is public, as SPECTACULAR_SETTINGS says.
    "api_schema": Entry(get=everyone(OK)),
    "api_docs": Entry(get=everyone(OK)),
    # --- Customer portal --------------------------------------------------------------------------
    "portal:home": Entry(get=portal()),
    "portal:incident": Entry(get=portal(), params="incident"),
    "portal:notice": Entry(get=portal(), params="incident"),
    "portal:notice_pdf": Entry(get=portal(), params="incident"),
    "portal:subscriptions": Entry(
        get=portal(),
        writers=frozenset({"customer"}),
        payload={"POST": _portal_subscription},
    ),
    "portal:subscription_deactivate": Entry(
        get={**portal(METHOD)}, writers=frozenset({"customer"}), params="subscription"
    ),
    # --- Executive dashboard ----------------------------------------------------------------------
    "dashboard:index": Entry(get=dashboard()),
    "dashboard:live": Entry(get=dashboard()),
    # The one write of the dashboard: a question into the escalation manager's queue.
    "dashboard:ask": Entry(
        get=everyone(METHOD),
        writers=frozenset({"executive", "manager"}),
        payload={"POST": {"text": "ZQWRITE when?"}},
    ),
    # --- Public status page and self-service subscriptions ----------------------------------------
    **{
        f"statuspage:{name}": Entry(get=everyone(OK))
        for name in (
            "index",
            "history",
            "feed_atom",
            "feed_rss",
            "api_summary",
            "api_status",
            "api_components",
            "api_incidents",
            "api_unresolved",
            "api_maintenances",
            "api_maintenances_upcoming",
            "api_maintenances_active",
        )
    },
    # The public form: being signed in grants nothing more than anonymous visitors have.
    "subscribe": Entry(
        get=everyone(OK),
        writers=ALL,
        payload={
            "POST": {
                "channel": "email",
                "address": "zqwrite@example.org",
                "scope": "service:public-web",
                "language": "en",
            }
        },
    ),
    **REGULATORY_ENTRIES,
}

# Single cases that break the rule today: (kind, case id) -> reason. Each one is reported. (The
# last two found here, POST /healthz and responders writing to incidents they are not pulled into
# through the API, are fixed.)
VIOLATIONS: dict[tuple[str, str], str] = {}


# --- Enumerating the URLs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the qualified name (namespace:name), or the pattern for an unnamed route
    pattern: str
    name: str | None


def _walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = p.name and (f"{namespace}:{p.name}" if namespace else p.name)
            yield prefix + str(p.pattern), name, (namespace or "").split(":")[0]


def project_routes() -> list[Route]:
    routes: dict[str, Route] = {}
    for pattern, name, top_namespace in _walk(get_resolver().url_patterns):
        # Deliberately left out: the Django admin's own URLs (one set per registered model,
        # Django's code and permission system); see the explicit admin tests below.
        if top_namespace == "admin":
            continue
        key = name or pattern
        # The same name on the same pattern twice (our login view shadows Django's, from
        # django.contrib.auth.urls): one URL, one case.
        if key in routes and routes[key].pattern == pattern:
            continue
        assert key not in routes, f"two routes are both called {key!r}"
        routes[key] = Route(key=key, pattern=pattern, name=name)
    return list(routes.values())


ROUTES = project_routes()


# --- The world: two organisations, each with a private service, an incident, updates ------------

MARKERS = {
    # Organisation A's incident (on its private service), and B's two: one on B's private
    # service, one ("C") on the public website that the status page announces.
    "title_a": "ZQTITLEA",
    "title_b": "ZQTITLEB",
    "title_c": "ZQTITLEC",
    "description_a": "ZQDESCA",
    "description_b": "ZQDESCB",
    "description_c": "ZQDESCC",
    "internal_a": "ZQINTERNALA",
    "internal_b": "ZQINTERNALB",
    "internal_c": "ZQINTERNALC",
    "executive_a": "ZQEXECUTIVEA",
    "executive_b": "ZQEXECUTIVEB",
    "executive_c": "ZQEXECUTIVEC",
    "customer_update_a": "ZQCUSTOMERA",
    "customer_update_b": "ZQCUSTOMERB",
    # C's customer update ("ZQPUBLICC ...") is public (its service is): not a marker.
    "service_a": "ZQSVCA",  # private services' names
    "service_b": "ZQSVCB",
    "customer_a": "stadtwerke",  # the organisations' names and slugs (case-insensitive)
    "customer_b": "logistik",
    "contract_a": "ZQCONTRACTA",
    "contract_b": "ZQCONTRACTB",
    "subscription_a": "zqsuba",
    "subscription_b": "zqsubb",
    "subscription_b_shared": "zqsharedb",
    "question": "ZQQUESTION",
}
_A_SIDE = [
    "title_a",
    "customer_update_a",
    "service_a",
    "customer_a",
    "contract_a",
    "subscription_a",
]
_B_SIDE = [
    "title_b",
    "title_c",
    "customer_update_b",
    "service_b",
    "customer_b",
    "contract_b",
    "subscription_b",
    "subscription_b_shared",
]
_TEAM = [k for k in MARKERS if k.startswith(("internal_", "description_"))] + ["question"]
_EXECUTIVE = [k for k in MARKERS if k.startswith("executive_")]
FORBIDDEN_MARKERS = {
    "anonymous": list(MARKERS),
    # Customers read public faces only: never an internal title, not even their own.
    "customer_a": _B_SIDE + _TEAM + _EXECUTIVE + ["title_a"],
    "customer_b": _A_SIDE + _TEAM + _EXECUTIVE,
    "executive": [k for k in MARKERS if k.startswith("internal_")],
    "responder": [],
    "manager": [],
}
assert set(_A_SIDE + _B_SIDE + _TEAM + _EXECUTIVE) == set(MARKERS)
MARKER_PATTERNS = {k: re.compile(re.escape(v), re.I) for k, v in MARKERS.items()}


def _person(username, role, **kwargs):
    user = UserFactory(username=username, **kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


def build_world() -> SimpleNamespace:
    """The same people as tests/conftest.py's fixtures, built once for the module."""
    customer_a = CustomerFactory(name="Stadtwerke Nord", slug="stadtwerke-nord")
    customer_b = CustomerFactory(name="Logistik Süd", slug="logistik-sued")
    users = {
        "manager": _person("mara.manager", roles.ESCALATION_MANAGER, is_staff=True),
        "responder": _person("rolf.responder", roles.RESPONDER, is_staff=True),
        "executive": _person("erika.executive", roles.EXECUTIVE),
        "customer_a": _person("carl.contact", roles.CUSTOMER_CONTACT, customer=customer_a),
        "customer_b": _person("olga.other", roles.CUSTOMER_CONTACT, customer=customer_b),
    }
    manager = users["manager"]
    service_a = ServiceFactory(slug="alpha-leitstand", name="Alpha ZQSVCA", is_private=True)
    service_a.customers.add(customer_a)
    service_b = ServiceFactory(slug="beta-lager", name="Beta ZQSVCB", is_private=True)
    service_b.customers.add(customer_b)
    public = ServiceFactory(slug="public-web", name="Public website")
    shared = ServiceFactory(slug="shared-mail", name="Shared mail")
    shared.customers.add(customer_a, customer_b)
    incidents, faces = {}, {}
    for side, service, customer, commander in (
        ("a", service_a, customer_a, users["responder"]),
        ("b", service_b, customer_b, None),
        ("c", public, customer_b, None),
    ):
        up = side.upper()
        incident = IncidentFactory(
            title=f"ZQTITLE{up} {customer.name} meldet Ausfall",
            description=f"ZQDESC{up} interne Analyse",
            services=[service],
            customers=[customer],
            commander=commander,
            actor=manager,
        )
        incident = drive(incident, State.ESCALATED, actor=manager)
        for audience in ("internal", "executive"):
            body = f"ZQ{audience.upper()}{up} update"
            update_post(incident=incident, actor=manager, audience=audience, body=body)
        # Each has a public face; C's is on a public service, so on the status page too.
        face = public_incident_publish(
            actor=manager, incidents=[incident], title=f"Störung ZQPUBTITLE{up}"
        )
        body = f"ZQCUSTOMER{up} update"
        if side == "c":  # published, with the name redacted
            body = "ZQPUBLICC Logistik Süd: the website works again"
        faces[side] = face
        update_publish(incident=incident, actor=manager, audience="customer", body=body)
        incident.refresh_from_db()
        incidents[side] = Incident.objects.get(pk=incident.pk)
        if side == "c":
            continue
        contract = Contract.objects.create(
            customer=customer,
            name=f"ZQCONTRACT{up}",
            monthly_fee=Decimal("1000.00"),
            valid_from=date(2020, 1, 1),
        )
        contract.services.add(service)
    now = timezone.now()
    subscriptions = {
        "A": Subscription.objects.create(
            channel="email",
            address="zqsuba@example.org",
            scope=f"customer:{customer_a.slug}",
            scope_label="Stadtwerke Nord",
            user=users["customer_a"],
            confirmed_at=now,
        ),
        "B": Subscription.objects.create(
            channel="email",
            address="zqsubb@example.org",
            scope=f"customer:{customer_b.slug}",
            scope_label="Logistik Süd",
            user=users["customer_b"],
            confirmed_at=now,
        ),
        # B's contact's subscription about a service both organisations use.
        "B_shared": Subscription.objects.create(
            channel="email",
            address="zqsharedb@example.org",
            scope="service:shared-mail",
            scope_label="Shared mail",
            user=users["customer_b"],
            confirmed_at=now,
        ),
    }
    question = Question.objects.create(
        asked_by=users["executive"], incident=incidents["a"], text="ZQQUESTION when?"
    )
    rule = CommunicationRule.objects.create(audience="responders", channels=["email"])
    schedule = OnCallSchedule.objects.create(name="ZQ rota")
    maintenances = {}
    for side, service in (("A", service_a), ("B", service_b)):
        start = now + timedelta(days=1)
        maintenances[side] = Maintenance.objects.create(
            title=f"Wartung {side}", starts_at=start, ends_at=start + timedelta(hours=1)
        )
        maintenances[side].services.add(service)
    problem = problem_create(actor=manager, statement="Wiederkehrend", incidents=[incidents["a"]])
    regulatory = {}  # A and B assessed as NIS2-significant; the early warning submitted
    for side in ("A", "B"):
        assessment_decide(
            incident=incidents[side.lower()],
            regime=Regime.objects.get(code="nis2"),
            actor=manager,
            decision="reportable",
            reason="ZQREG",
        )
        reports = Report.objects.filter(assessment__incident=incidents[side.lower()])
        regulatory[side] = reports.get(report_type__code="notification")
        early = reports.get(report_type__code="early_warning")
        regulatory[f"{side}_submitted"] = report_submit(report=early, actor=manager)
    processes = {
        side: process_create(
            actor=manager,
            name=f"Prozess {side}",
            slug=f"prozess-{side.lower()}",
            rto_minutes=60,
            mtpd_minutes=240,
            services=[service],
            customers=[customer],
        )
        for side, service, customer in (("A", service_a, customer_a), ("B", service_b, customer_b))
    }
    runbook = runbook_create(
        actor=manager,
        title="Runbook A",
        process=processes["A"],
        steps=[{"text": "Umschalten", "performer": "Service Desk"}],
        performer="Service Desk",
        customer_text_de="Bitte telefonisch melden.",
        customer_text_en="Please call us.",
    )
    # A's post-incident review (a draft) with one corrective action.
    capa = action_create(
        actor=users["manager"],
        review=review_draft(incident=incidents["a"], actor=users["manager"]),
        title="ZQ action",
        kind="corrective",
        owner=users["manager"],
        due_on=date(2030, 1, 1),
        check_on=date(2030, 6, 1),
    )
    ack_url = engine.ack_link_create(incident=incidents["a"], user=users["responder"], at=now)
    heartbeat_record(name="worker")  # workers and beat run (else /healthz is 503)
    heartbeat_record(name="worker-pages")
    heartbeat_record(name="worker-clocks")
    heartbeat_record(name="beat")
    # One session and one write-scoped API token per person, for every case.
    sessions, tokens = {}, {}
    for audience, user in users.items():
        signed_in = Client()
        signed_in.force_login(user)
        sessions[audience] = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
        tokens[audience] = api_token_create(user=user, scope="write")[1]
    return SimpleNamespace(
        sessions=sessions,
        tokens=tokens,
        customers={"A": customer_a, "B": customer_b},
        users=users,
        incidents={"A": incidents["a"], "B": incidents["b"], "C": incidents["c"]},
        faces={"A": faces["a"], "B": faces["b"], "C": faces["c"]},
        subscriptions=subscriptions,
        question=question,
        rule=rule,
        schedule=schedule,
        override=ScheduleOverride.objects.create(
            schedule=schedule,
            user=users["responder"],
            start=now + timedelta(days=1),
            end=now + timedelta(days=2),
        ),
        maintenances=maintenances,
        problem=problem,
        regulatory=regulatory,
        processes=processes,
        runbook=runbook,
        capa=capa,
        integration=integration_create(kind="events_v2", service=service_a, name="ZQ monitor"),
        ack_path=ack_url.split("://", 1)[-1].partition("/")[2],
    )


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once, inside a transaction that is rolled back after the module."""
    overrides = override_settings(
        STATUS_PAGE_DIR=tmp_path_factory.mktemp("status"),
        BASE_URL="https://escalation.example.org",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with django_db_blocker.unblock(), overrides:
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def world(module_world, db):
    """Each case runs in a savepoint of the module's transaction (pytest-django's `db`), rolled
    back after it, so no case sees another's writes."""
    return module_world


# --- Filling URL parameters ---------------------------------------------------------------------

VARIANTS = {
    "": ("-",),
    "incident": ("A", "B"),
    "incident_action": ("A", "B"),
    "public": ("A", "B"),
    "customer": ("A", "B"),
    "report": ("A", "B"),
    "subscription": ("A", "B", "B_shared"),
    "rule": ("-",),
    "question": ("-",),
    "maintenance": ("A", "B"),
    "maintenance_console": ("-",),
    "schedule": ("-",),
    "override": ("-",),
    "problem": ("-",),
    "problem_action": ("-",),
    "regulatory_assess": ("A", "B"),
    "regulatory_report": ("A", "B"),
    "regulatory_submitted": ("A", "B"),
    "api_regulatory_report": ("A", "B"),
    "api_regulatory_submitted": ("A", "B"),
    "process": ("A", "B"),
    "process_console": ("-",),
    "runbook": ("-",),
    "capa": ("-",),
    "integration": ("-",),
    "token": ("invalid",),
}
INVALID_TOKENS = {
    "token": "zq-not-a-valid-token",
    "key": "zq-not-a-valid-key",
    "uidb64": "MQ",
}


def owner_of(variant: str) -> str | None:
    """The organisation whose object a variant names (A or B), if any."""
    return variant[0] if variant[:1] in ("A", "B") else None


def url_kwargs(world, params: str, variant: str, route: Route) -> dict:
    missing = variant == "missing"
    if params in ("incident", "incident_action"):
        kwargs = {"pk": MISSING_PK if missing else world.incidents[variant].pk}
        if params == "incident_action":
            kwargs["action"] = "resolve"
        return kwargs
    if params == "public":
        return {"pk": MISSING_PK if missing else world.faces[variant].pk}
    if params == "customer":
        return {"pk": MISSING_PK if missing else world.customers[variant].pk}
    if params == "report":
        last = timezone.localdate().replace(day=1) - timedelta(days=1)
        slug = "zq-no-such-customer" if missing else world.customers[variant].slug
        return {"slug": slug, "year": f"{last.year:04d}", "month": f"{last.month:02d}"}
    if params == "subscription":
        return {"pk": MISSING_PK if missing else world.subscriptions[variant].pk}
    if params == "rule":
        return {"pk": world.rule.pk}
    if params == "schedule":
        return {"pk": world.schedule.pk}
    if params == "override":
        return {"pk": world.schedule.pk, "override_pk": world.override.pk}
    if params == "question":
        return {"pk": world.question.pk}
    if params == "maintenance":
        return {"pk": MISSING_PK if missing else world.maintenances[variant].pk}
    if params == "maintenance_console":
        return {"pk": world.maintenances["A"].pk}
    if params in ("problem", "problem_action"):
        kwargs = {"pk": world.problem.pk}
        return kwargs | ({"action": "investigate"} if params == "problem_action" else {})
    if params == "regulatory_assess":
        incident = MISSING_PK if missing else world.incidents[variant].pk
        return {"pk": incident, "regime_pk": Regime.objects.get(code="gdpr").pk}
    if params.startswith(("regulatory_", "api_regulatory_")):
        key = variant + ("_submitted" if params.endswith("_submitted") else "")
        report = None if missing else world.regulatory[key]
        if params.startswith("api_"):
            incident = MISSING_PK if missing else report.assessment.incident_id
            return {"pk": incident, "report_pk": MISSING_PK if missing else report.pk}
        return {"pk": MISSING_PK if missing else report.pk}
    if params == "process":
        return {"pk": MISSING_PK if missing else world.processes[variant].pk}
    if params == "process_console":
        return {"pk": world.processes["A"].pk}
    if params == "runbook":
        return {"pk": world.runbook.pk}
    if params == "capa":
        return {"pk": world.capa.pk}
    if params == "integration":
        return {"pk": world.integration.pk}
    if params == "token":
        names = re.findall(r"<(?:\w+:)?(\w+)>", route.pattern)
        kwargs = {n: INVALID_TOKENS[n] for n in names if n in INVALID_TOKENS}
        if "pk" in names:  # an iCal feed: a real schedule or person, a wrong token
            is_person = route.key == "person_ical"
            kwargs["pk"] = world.users["responder"].pk if is_person else world.schedule.pk
        return kwargs
    return {}


def build_url(route: Route, kwargs: dict) -> str:
    if route.name:
        return reverse(route.name, kwargs=kwargs or None)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route.pattern)


def audience_class(audience: str) -> str:
    return "customer" if audience in CUSTOMERS else audience


def is_own(audience: str, variant: str) -> bool:
    """Whether a customer contact asks about their own organisation's object (or about none)."""
    owner = owner_of(variant)
    return audience not in CUSTOMERS or owner is None or audience == f"customer_{owner.lower()}"


def expected_outcome(entry: Entry, audience: str, variant: str) -> str:
    outcome = entry.get[audience_class(audience)]
    if isinstance(outcome, dict):
        outcome = outcome[variant[0]]
    if audience in CUSTOMERS and not is_own(audience, variant):
        # Another organisation's object: as if it did not exist.
        return NOT_FOUND if outcome in (OK, NOT_FOUND) else outcome
    return outcome


def may_write_here(entry: Entry, audience: str, variant: str) -> bool:
    who = audience_class(audience)
    allowed = who in entry.writers or f"{who}:{variant}" in entry.writers
    return allowed and is_own(audience, variant)


def is_api(route: Route) -> bool:
    return route.pattern.startswith("api/")


# --- Clients and checks -------------------------------------------------------------------------


def client_for(world, audience: str, *, token: bool = False) -> Client:
    """A client signed in as the audience (by session cookie, or by a bearer token)."""
    if audience == "anonymous":
        return Client(HTTP_ACCEPT_LANGUAGE="en")
    if token:
        bearer = f"Bearer {world.tokens[audience]}"
        return Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=bearer)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[audience]
    return client


def describe(response) -> str:
    location = response.get("Location", "")
    return f"{response.status_code}{' -> ' + location if location else ''}"


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN_URL)


def matches(outcome: str, response, *, api_route: bool) -> bool:
    status = response.status_code
    if outcome == LOGIN:
        return status in (401, 403) if api_route else is_login_redirect(response)
    if outcome == REDIRECT:
        return status == 302 and not is_login_redirect(response)
    return status in STATUSES[outcome]


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def leaked(audience: str, body: str, url: str = "") -> list[str]:
    """The markers in a body that the audience may not read. The requested URL itself (and its
    query values) may be echoed back, e.g. in a language switch's `next`: that is no leak."""
    if url:
        echoes = [url, urlsplit(url).path]
        echoes += [v for values in parse_qs(urlsplit(url).query).values() for v in values]
        for echo in sorted(echoes, key=len, reverse=True):
            body = body.replace(echo, "")
    return [k for k in FORBIDDEN_MARKERS[audience] if MARKER_PATTERNS[k].search(body)]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


@functools.cache
def _fingerprint_sql() -> str:
    """One query: the row counts of every model a write could add to (Incident, Update,
    IncidentEvent, Clock, Notification, SlaPause, Question and more), and aggregates of the
    fields that writes change in place (states, titles, flags, answers)."""
    counted = (
        Incident,
        Update,
        IncidentEvent,
        Clock,
        Notification,
        SlaPause,
        Question,
        CommunicationRule,
        Subscription,
        Contract,
        ApiToken,
        AckLink,
        Customer,
        Service,
        User,
        Maintenance,
        Problem,
        ProblemLink,
        ProblemEvent,
        BusinessProcess,
        RunbookVersion,
        Workaround,
        Concession,
        IncidentLevel,
    )
    parts = [f"SELECT COUNT(*) FROM {_table(model)}" for model in counted]
    incident, c = _table(Incident), lambda name: _column(Incident, name)
    parts += [
        f"SELECT MAX({c('updated_at')}) FROM {incident}",
        f"SELECT SUM(LENGTH({c('title')})) FROM {incident}",
        *(f"SELECT COUNT(*) FROM {incident} WHERE {c('state')} = '{state}'" for state in State),
    ]
    subscription, c = _table(Subscription), lambda name: _column(Subscription, name)
    parts += [
        f"SELECT COUNT(*) FROM {subscription} WHERE {c('is_active')}",
        f"SELECT COUNT({c('confirmed_at')}) FROM {subscription}",
        f"SELECT COUNT(*) FROM {subscription} WHERE {c('language')} = 'en'",
        f"SELECT SUM({c('user')}) FROM {subscription}",
    ]
    parts += [
        f"SELECT COUNT({_column(Question, 'answered_at')}) FROM {_table(Question)}",
        f"SELECT COUNT({_column(AckLink, 'used_at')}) FROM {_table(AckLink)}",
    ]
    maintenance, c = _table(Maintenance), lambda name: _column(Maintenance, name)
    parts += [
        f"SELECT SUM(LENGTH({c('title')})) FROM {maintenance}",
        f"SELECT COUNT(*) FROM {maintenance} WHERE {c('silence')}",
    ]
    rule, c = _table(CommunicationRule), lambda name: _column(CommunicationRule, name)
    parts += [
        f"SELECT SUM({c('position')}) FROM {rule}",
        f"SELECT COUNT(*) FROM {rule} WHERE {c('is_active')}",
    ]
    integration, c = _table(Integration), lambda name: _column(Integration, name)
    parts += [  # the grouping rules (console and API)
        f"SELECT SUM(LENGTH(CAST({c('group_labels')} AS TEXT))) FROM {integration}",
        f"SELECT SUM({c('group_window')} + {c('flap_window')}) FROM {integration}",
        f"SELECT COUNT(*) FROM {integration} WHERE {c('resolve_on_resolved')}",
    ]
    return "SELECT " + ", ".join(f"({part})" for part in parts)


def fingerprint() -> tuple:
    """What a refused write must leave as it was (see _fingerprint_sql)."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        return tuple(cursor.fetchone())


# --- The cases ----------------------------------------------------------------------------------


def _cases(kind: str):
    for route in ROUTES:
        entry = EXPECTED.get(route.key)
        variants = VARIANTS[entry.params] if entry else ("-",)
        for variant in variants:
            for audience in AUDIENCES:
                case_id = f"{route.key or '/'}[{variant}]-{audience}"
                marks = []
                reason = VIOLATIONS.get((kind, case_id))
                if reason:
                    marks.append(pytest.mark.xfail(strict=True, reason=reason))
                yield pytest.param(route, variant, audience, id=case_id, marks=marks)


def _entry(route: Route) -> Entry:
    entry = EXPECTED.get(route.key)
    if entry is None:
        pytest.fail(
            f"{route.key!r} (/{route.pattern}) has no entry in EXPECTED: decide who may use it"
        )
    return entry


@pytest.mark.parametrize(("route", "variant", "audience"), list(_cases("read")))
def test_read(world, route, variant, audience):
    entry = _entry(route)
    expected = expected_outcome(entry, audience, variant)
    url = build_url(route, url_kwargs(world, entry.params, variant, route))
    client = client_for(world, audience)
    response = client.get(url)
    assert response.status_code < 500, f"GET {url}: {describe(response)}"
    assert matches(expected, response, api_route=is_api(route)), (
        f"GET {url} as {audience}: expected {expected}, got {describe(response)}"
    )
    found = leaked(audience, body_of(response), url)
    assert not found, f"GET {url} as {audience} shows {found}"

    head = client.head(url)
    assert head.status_code < 500, f"HEAD {url}: {describe(head)}"
    assert not head.content, f"HEAD {url} answered with a body"
    if expected != OK:
        assert not 200 <= head.status_code < 300, f"HEAD {url} as {audience}: {describe(head)}"
    if route.key.startswith("statuspage:"):
        assert head.status_code == 200, f"HEAD {url}: {describe(head)}"

    if audience in CUSTOMERS and not is_own(audience, variant):
        # Existence is not revealed: the answer is the one for an object that does not exist.
        missing_url = build_url(route, url_kwargs(world, entry.params, "missing", route))
        missing = client.get(missing_url)
        assert missing.status_code == response.status_code, (
            f"GET {url} as {audience}: {describe(response)}, "
            f"but {describe(missing)} for a missing object ({missing_url})"
        )


WRITE_METHODS_HTML = ("POST",)
WRITE_METHODS_API = ("POST", "PUT", "PATCH", "DELETE")


def _send(client, method: str, url: str, body: dict, *, api_route: bool):
    call = getattr(client, method.lower())
    if api_route:
        return call(url, data=body, content_type="application/json")
    if method == "POST":
        return call(url, data=body)
    return call(url)


SUCCESS_OR_CONFLICT = (409,)  # a writer's minimal body may meet a transition not allowed now


@pytest.mark.parametrize(("route", "variant", "audience"), list(_cases("write")))
def test_write(world, route, variant, audience):
    entry = _entry(route)
    may_write = may_write_here(entry, audience, variant)
    url = build_url(route, url_kwargs(world, entry.params, variant, route))
    api_route = is_api(route)
    methods = WRITE_METHODS_API if api_route else WRITE_METHODS_HTML
    modes = ("session", "token") if api_route and audience != "anonymous" else ("session",)
    before = fingerprint()
    for mode in modes:
        client = client_for(world, audience, token=mode == "token")
        for method in methods:
            payload = entry.payload.get(method)
            if callable(payload):
                payload = payload(world, audience)
            bodies = [] if payload is None else [payload]
            if mode == "session" or payload is None:
                bodies.append({})
            for body in bodies:
                response = _send(client, method, url, body, api_route=api_route)
                what = f"{method} {url} ({mode}, body {body}) as {audience}"
                assert response.status_code < 500, f"{what}: {describe(response)}"
                if may_write:
                    if body and mode == "session":  # the minimal body is one that works
                        assert response.status_code < 400 or (
                            response.status_code in SUCCESS_OR_CONFLICT
                        ), f"{what}: an allowed write was refused: {describe(response)}"
                        assert not is_login_redirect(response), f"{what}: {describe(response)}"
                    if entry.session_only:
                        assert fingerprint() == before, f"{what}: changed incident data"
                    before = fingerprint()
                    continue
                assert not 200 <= response.status_code < 300, (
                    f"{what}: a write that must be refused got {describe(response)}"
                )
                other = audience in CUSTOMERS and not is_own(audience, variant)
                if other and "customer" in entry.writers:  # their surface, another's object
                    assert response.status_code == 404, f"{what}: {describe(response)}"
                after = fingerprint()
                assert after == before, (
                    f"{what}: refused ({describe(response)}), but the database changed"
                )
                found = leaked(audience, body_of(response), url)
                assert not found, f"{what} shows {found}"


# --- The table itself ---------------------------------------------------------------------------


def test_every_route_has_an_entry():
    """A new URL forces a decision: who may use it."""
    missing = [f"{r.key} (/{r.pattern})" for r in project_routes() if r.key not in EXPECTED]
    assert not missing, f"routes without an entry in EXPECTED: {missing}"


def test_every_entry_names_an_existing_route():
    keys = {r.key for r in project_routes()}
    stale = sorted(set(EXPECTED) - keys)
    assert not stale, f"EXPECTED names routes that no longer exist: {stale}"


def test_every_violation_names_a_case():
    cases = {(kind, p.id) for kind in ("read", "write") for p in _cases(kind)}
    stale = sorted(set(VIOLATIONS) - cases)
    assert not stale, f"VIOLATIONS names cases that do not exist: {stale}"


# --- The checks are not vacuous: each audience does see what it may -----------------------------


def _visible(world):
    a, b = world.incidents["A"].pk, world.incidents["B"].pk
    return [
        ("anonymous", "/status/?lang=en", ["Public website"]),
        ("anonymous", "/status/api/v2/components.json", ["Public website"]),
        ("anonymous", "/status/api/v2/incidents.json", ["ZQPUBLICC"]),
        ("anonymous", "/status/feed.atom", ["ZQPUBLICC"]),
        ("customer_b", "/api/v1/incidents/", ["ZQPUBTITLEB", "ZQPUBTITLEC"]),
        ("executive", "/dashboard/", ["ZQTITLEA", "ZQEXECUTIVEA"]),
        ("manager", f"/console/incidents/{a}/", ["ZQINTERNALA", "ZQTITLEA"]),
        ("customer_a", "/portal/", ["ZQPUBTITLEA", "ZQSVCA"]),
        ("customer_a", f"/portal/incidents/{a}/", ["ZQCUSTOMERA"]),
        ("customer_a", "/portal/subscriptions/", ["zqsuba"]),
        ("customer_a", "/api/v1/incidents/", ["ZQPUBTITLEA"]),
        ("customer_a", f"/api/v1/incidents/{a}/updates/", ["ZQCUSTOMERA"]),
        ("customer_a", "/api/v1/services/", ["ZQSVCA"]),
        ("customer_a", "/api/v1/customers/", ["Stadtwerke"]),
        ("customer_b", "/portal/", ["ZQPUBTITLEB", "ZQSVCB"]),
        ("customer_b", "/portal/subscriptions/", ["zqsubb", "zqsharedb"]),
        ("customer_b", f"/api/v1/incidents/{b}/updates/", ["ZQCUSTOMERB"]),
        ("executive", f"/api/v1/incidents/{a}/updates/", ["ZQEXECUTIVEA", "ZQCUSTOMERA"]),
        ("executive", "/api/v1/incidents/", ["ZQTITLEA", "ZQTITLEB"]),
        ("manager", f"/api/v1/incidents/{b}/updates/", ["ZQINTERNALB", "ZQEXECUTIVEB"]),
        ("manager", "/console/questions/", ["ZQQUESTION"]),
    ]


def test_each_audience_sees_what_it_may(world):
    """The markers the matrix looks for do reach the pages where they belong."""
    for audience, url, markers in _visible(world):
        response = client_for(world, audience).get(url)
        assert response.status_code == 200, f"GET {url} as {audience}: {describe(response)}"
        body = body_of(response)
        for marker in markers:
            assert marker in body, f"GET {url} as {audience} does not show {marker}"


def test_sla_report_shows_the_own_contract(world):
    last = timezone.localdate().replace(day=1) - timedelta(days=1)
    slug = world.customers["A"].slug
    url = f"/console/reports/{slug}/{last.year:04d}-{last.month:02d}/"
    response = client_for(world, "customer_a").get(url)
    assert response.status_code == 200, describe(response)
    assert "ZQCONTRACTA" in body_of(response)


# --- Query strings never widen what a customer sees -----------------------------------------------


FILTERED_READS = [
    "/api/v1/incidents/?customer=logistik-sued",
    "/api/v1/incidents/?service=beta-lager",
    "/api/v1/incidents/?state=escalated&priority=1,2,3,4,5",
    "/api/v1/incidents/?updated_since=2000-01-01T00:00:00Z&page_size=200",
    "/api/v1/services/?customer=logistik-sued",
    "/api/v1/customers/?slug=logistik-sued",
    "/portal/?customer=logistik-sued",
    "/console/reports/?customer=logistik-sued&month=2020-01",
    "/status/?lang=de",
    "/status/history/?lang=de",
    "/status/feed.atom?lang=de",
    "/status/feed.rss?lang=en",
]


@pytest.mark.parametrize("audience", ("anonymous", "customer_a", "executive"))
def test_query_strings_never_widen_the_view(world, audience):
    client = client_for(world, audience)
    for url in FILTERED_READS:
        response = client.get(url)
        assert response.status_code < 500, f"GET {url}: {describe(response)}"
        found = leaked(audience, body_of(response), url)
        assert not found, f"GET {url} as {audience} shows {found}"


def test_subscriptions_reach_only_what_the_subscriber_may(world):
    """Customer A cannot subscribe to B or to B's private service (through the portal or the
    public form), and nobody can subscribe to a private service through the public form."""
    attempts = [
        ("customer_a", "/portal/subscriptions/", "customer:logistik-sued"),
        ("customer_a", "/portal/subscriptions/", "service:beta-lager"),
        ("customer_a", "/subscribe/", "customer:logistik-sued"),
        ("anonymous", "/subscribe/", "service:beta-lager"),
        ("anonymous", "/subscribe/", "service:alpha-leitstand"),
    ]
    for audience, url, scope in attempts:
        before = fingerprint()
        body = {"channel": "email", "address": "zqwrite@example.org", "scope": scope}
        response = client_for(world, audience).post(url, {**body, "language": "en"})
        what = f"POST {url} about {scope} as {audience}"
        assert response.status_code < 500, f"{what}: {describe(response)}"
        assert fingerprint() == before, f"{what}: a subscription was recorded"


# --- Capability URLs with valid tokens work for whoever holds them, signed in or not ------------


@pytest.mark.parametrize("audience", AUDIENCES)
def test_valid_capability_links_work_for_everyone(world, audience):
    from escalation.views import person_ical_token

    responder = world.users["responder"]
    token = subscription_token(world.subscriptions["A"])
    urls = [
        "/" + world.ack_path,
        f"/oncall/{world.schedule.pk}/{world.schedule.ical_token}.ics",
        f"/oncall/people/{responder.pk}/{person_ical_token(responder)}.ics",
        f"/subscriptions/{token}/",
        f"/subscriptions/{token}/confirm/",
        f"/subscriptions/{token}/unsubscribe/",
    ]
    client = client_for(world, audience)
    before = fingerprint()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, f"GET {url} as {audience}: {describe(response)}"
    assert fingerprint() == before, "a GET of a capability link changed something"


def test_valid_capability_links_act_without_login(world):
    client = client_for(world, "anonymous")
    response = client.post("/" + world.ack_path)
    assert response.status_code in (200, 409), describe(response)
    assert AckLink.objects.filter(used_at__isnull=False).count() == 1

    subscription = world.subscriptions["A"]
    response = client.post(f"/subscriptions/{subscription_token(subscription)}/unsubscribe/")
    assert response.status_code == 200, describe(response)
    subscription.refresh_from_db()
    assert not subscription.is_active


def test_password_reset_with_an_invalid_link_offers_no_form(world):
    """Django's view answers an invalid reset link with a 200 page that says it is invalid."""
    for audience in AUDIENCES:
        response = client_for(world, audience).get("/accounts/reset/MQ/zq-not-a-token/")
        assert response.status_code == 200, describe(response)
        assert "new_password1" not in body_of(response)


# --- The Django admin: index, change lists and change pages -------------------------------------

OUTSIDERS = ("anonymous", "customer_a", "customer_b", "executive")


def _admin_urls(world):
    a, b = world.incidents["A"].pk, world.incidents["B"].pk
    return [
        reverse("admin:index"),
        reverse("admin:incidents_incident_changelist"),
        reverse("admin:incidents_incident_change", args=[b]),
        reverse("admin:incidents_incident_change", args=[a]),
        reverse("admin:incidents_customer_changelist"),
        reverse("admin:incidents_update_changelist"),
        reverse("admin:notifications_subscription_changelist"),
        reverse("admin:escalation_question_changelist"),
        reverse("admin:escalation_contract_changelist"),
    ]


def _admin_refused(response) -> bool:
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("audience", AUDIENCES)
def test_admin(world, audience):
    client = client_for(world, audience)
    for url in _admin_urls(world):
        response = client.get(url)
        assert response.status_code < 500, f"GET {url}: {describe(response)}"
        if audience in OUTSIDERS:
            assert _admin_refused(response), f"GET {url} as {audience}: {describe(response)}"
            assert not leaked(audience, body_of(response), url)
        elif audience == "manager":
            assert response.status_code == 200, f"GET {url} as manager: {describe(response)}"
    if audience == "responder":  # staff: the admin's index, and what their permissions allow
        assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("audience", OUTSIDERS)
def test_admin_writes_are_refused(world, audience):
    b = world.incidents["B"]
    writes = [
        (reverse("admin:incidents_incident_change", args=[b.pk]), {"title": "ZQWRITE"}),
        (reverse("admin:incidents_incident_add"), {"title": "ZQWRITE"}),
        (
            reverse("admin:incidents_customer_delete", args=[world.customers["B"].pk]),
            {"post": "yes"},
        ),
        (reverse("admin:escalation_question_delete", args=[world.question.pk]), {"post": "yes"}),
    ]
    client = client_for(world, audience)
    before = fingerprint()
    for url, body in writes:
        response = client.post(url, body)
        assert _admin_refused(response), f"POST {url} as {audience}: {describe(response)}"
        assert fingerprint() == before, f"POST {url} as {audience} changed the database"


# --- The admin's own URLs (the Incident admin's lifecycle buttons and update form) ---------------
#
# Django's permission check is global ("may resolve incidents"); which incidents a person works on
# is the console's scope (escalation.selectors.incidents_readable_by), and the admin applies it
# too: a responder reaches incident A (they command it), never B, on every admin URL of an
# incident: change page, history, the custom URLs, and the change lists of rows that belong to
# an incident.

ADMIN_ACTION_BODIES = {
    "classify": {"impact": "low", "urgency": "low"},
    "escalate": {"reason": "ZQWRITE"},
    "acknowledge": {},
    "provide_workaround": {"workaround": "ZQWRITE"},
    "resolve": {"resolution": "ZQWRITE"},
    "close": {"review": "ZQWRITE"},
    "reopen": {"reason": "ZQWRITE"},
}
# Every admin URL name that is not one of Django's own per-model views, with the write it takes.
ADMIN_CUSTOM_URLS = {
    "incidents_incident_publish_update": lambda pk: [
        (
            reverse("admin:incidents_incident_publish_update", args=[pk]),
            {"audience": "customer", "body": "ZQWRITE"},
        )
    ],
    "incidents_incident_action": lambda pk: [
        (reverse("admin:incidents_incident_action", args=[pk, action]), body)
        for action, body in ADMIN_ACTION_BODIES.items()
    ],
}
DJANGO_ADMIN_SUFFIXES = (
    "_changelist",
    "_add",
    "_change",
    "_delete",
    "_history",
    "_password_change",
)
DJANGO_ADMIN_NAMES = {
    "index", "login", "logout", "password_change", "password_change_done", "jsi18n",
    "view_on_site", "app_list", "autocomplete",
}  # fmt: skip


def _admin_url_names() -> set[str]:
    from django.contrib import admin as django_admin

    names = set()
    stack = list(django_admin.site.get_urls())
    while stack:
        pattern = stack.pop()
        if isinstance(pattern, URLResolver):
            stack.extend(pattern.url_patterns)
        elif pattern.name:
            names.add(pattern.name)
    return names


def test_every_custom_admin_url_is_covered():
    custom = {
        name
        for name in _admin_url_names()
        if name not in DJANGO_ADMIN_NAMES and not name.endswith(DJANGO_ADMIN_SUFFIXES)
    }
    assert custom == set(ADMIN_CUSTOM_URLS), "decide who may use these admin URLs"


def _admin_incident_urls(pk: int) -> list[tuple[str, dict]]:
    return [
        (reverse("admin:incidents_incident_change", args=[pk]), {"title": "ZQWRITE"}),
        (reverse("admin:incidents_incident_history", args=[pk]), {}),
        *[write for urls in ADMIN_CUSTOM_URLS.values() for write in urls(pk)],
    ]


def _admin_not_found(response) -> bool:
    """Django's admin answers an object outside get_queryset with a redirect to its index (as
    for one that does not exist); our own admin URLs answer 404."""
    if response.status_code == 404:
        return True
    return response.status_code == 302 and response["Location"] == reverse("admin:index")


@pytest.mark.parametrize("audience", AUDIENCES)
def test_admin_incident_urls(world, audience):
    """GET every admin URL of incident A and B: outsiders are sent to the login, a responder gets
    A's pages and "not found" for B (as for an incident that does not exist), a manager both."""
    client = client_for(world, audience)
    for variant in ("A", "B"):
        for url, _body in _admin_incident_urls(world.incidents[variant].pk):
            response = client.get(url)
            what = f"GET {url} as {audience}"
            assert response.status_code < 500, f"{what}: {describe(response)}"
            if audience in OUTSIDERS:
                assert _admin_refused(response), f"{what}: {describe(response)}"
            elif audience == "responder" and variant == "B":
                assert _admin_not_found(response), f"{what}: {describe(response)}"
                missing = client.get(url.replace(f"/{world.incidents['B'].pk}/", f"/{MISSING_PK}/"))
                assert missing.status_code == response.status_code, f"{what}: differs from missing"
            else:
                assert response.status_code == 200, f"{what}: {describe(response)}"
            assert not leaked(audience, body_of(response), url)


@pytest.mark.parametrize("audience", (*OUTSIDERS, "responder"))
def test_admin_incident_writes_outside_the_scope_are_refused(world, audience):
    """Every admin write to incident B (change, each lifecycle action, publishing an update) by
    anybody but an escalation manager changes nothing."""
    client = client_for(world, audience)
    before = fingerprint()
    for url, body in _admin_incident_urls(world.incidents["B"].pk):
        response = client.post(url, body)
        what = f"POST {url} as {audience}"
        assert response.status_code < 500, f"{what}: {describe(response)}"
        assert not 200 <= response.status_code < 300, f"{what}: {describe(response)}"
        assert fingerprint() == before, f"{what} changed the database"


def test_admin_writes_inside_the_scope_work_for_the_responder(world):
    client = client_for(world, "responder")
    a = world.incidents["A"]
    url = reverse("admin:incidents_incident_publish_update", args=[a.pk])
    response = client.post(url, {"audience": "internal", "body": "ZQWRITE inside"})
    assert response.status_code == 302, describe(response)
    assert Update.objects.filter(incident=a, body="ZQWRITE inside").exists()
    url = reverse("admin:incidents_incident_action", args=[a.pk, "provide_workaround"])
    response = client.post(url, {"workaround": "ZQWRITE inside"})
    assert response.status_code == 302, describe(response)
    assert Incident.objects.get(pk=a.pk).state == State.WORKAROUND


def test_admin_change_lists_hold_only_the_responders_incidents(world):
    """Every registered admin whose rows belong to an incident shows a responder only the rows of
    the incidents they work on (checked on each admin's queryset, whatever its permissions)."""
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = world.users["responder"]
    b = world.incidents["B"].pk
    checked = []
    for model, model_admin in django_admin.site._registry.items():
        rows = model_admin.get_queryset(request)
        if model is Incident:
            assert not rows.filter(pk=b).exists()
            assert rows.filter(pk=world.incidents["A"].pk).exists()
            checked.append(model)
            continue
        for f in model._meta.get_fields():
            if f.is_relation and f.related_model is Incident and f.concrete:
                assert not rows.filter(**{f.name: b}).exists(), f"{model.__name__} shows B"
                checked.append(model)
    assert Update in checked and IncidentEvent in checked
    # Messages about B (subject "incident:<id>") stay with the manager too.
    assert (
        not django_admin.site._registry[Notification]
        .get_queryset(request)
        .filter(subject=f"incident:{b}")
        .exists()
    )
