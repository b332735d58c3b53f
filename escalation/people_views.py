"""The console's "People" section of an incident (a panel through escalation.hooks) and its three
POST-only actions: change the commander, hand a role, pull in a responder."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from incidents.exceptions import ApplicationError

from . import selectors
from .models import IncidentRole
from .services.people import (
    incident_commander_change,
    incident_responder_pull_in,
    incident_role_assign,
    incident_role_end,
)
from .views import _console_incident, _error, _require_staff


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.display_name


def _person_field(label) -> forms.ModelChoiceField:
    return _PersonChoice(queryset=selectors.staff_people(), label=label)


class CommanderForm(forms.Form):
    user = _person_field(gettext_lazy("Commander"))


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=IncidentRole.Role.choices, label=gettext_lazy("Role"))
    user = _person_field(gettext_lazy("Who"))
    user.required = False  # empty: nobody holds the role any more


class PullInForm(forms.Form):
    user = _person_field(gettext_lazy("Responder"))


def incident_people_panel(request, incident) -> str:
    people = selectors.incident_people(incident)
    held = {r.role: r for r in people["roles"]}
    roles = [(value, label, held.get(value)) for value, label in IncidentRole.Role.choices]
    return render_to_string(
        "console/_people.html",
        {
            "incident": incident,
            "people": people,
            "roles": roles,
            "staff": list(selectors.staff_people()),
            "upcoming": selectors.upcoming_levels(incident, timezone.now()),
            "closed": incident.state == "closed",
        },
        request=request,
    )


def _done(request, pk: int, form, act, message: str):
    incident = _console_incident(request, pk)
    if not form.is_valid():
        errors = "; ".join(" ".join(e) for e in form.errors.values())
        return _error(request, errors, status=400, incident=incident)
    try:
        act(incident, form.cleaned_data)
    except ApplicationError as exc:
        return _error(request, exc.message, status=exc.http_status, incident=incident)
    messages.success(request, message)
    if not selectors.console_incidents_for(request.user).filter(pk=pk).exists():
        return redirect("console:board")  # a commander who handed the incident on
    return redirect("console:incident", pk=pk)


@login_required
@require_POST
def commander_change(request, pk: int):
    _require_staff(request.user)
    return _done(
        request,
        pk,
        CommanderForm(request.POST),
        lambda incident, data: incident_commander_change(
            incident=incident, actor=request.user, user=data["user"]
        ),
        _("Commander changed."),
    )


@login_required
@require_POST
def role_assign(request, pk: int):
    _require_staff(request.user)
    form = RoleForm(request.POST)

    def act(incident, data):
        if data["user"] is None:
            incident_role_end(incident=incident, actor=request.user, role=data["role"])
        else:
            incident_role_assign(
                incident=incident, actor=request.user, role=data["role"], user=data["user"]
            )

    return _done(request, pk, form, act, _("Role updated."))


@login_required
@require_POST
def responder_pull_in(request, pk: int):
    _require_staff(request.user)
    return _done(
        request,
        pk,
        PullInForm(request.POST),
        lambda incident, data: incident_responder_pull_in(
            incident=incident, actor=request.user, user=data["user"]
        ),
        _("Paged. Their acknowledgement shows on this page."),
    )
