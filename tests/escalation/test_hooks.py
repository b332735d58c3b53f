"""The hooks through which the core asks and tells the nested apps (escalation/hooks.py)."""

import pytest
from django.urls import reverse
from django.utils.html import format_html

from escalation import hooks
from escalation.services.workflow import incident_close, incident_reopen
from incidents.exceptions import TransitionNotAllowed
from incidents.models import Incident, IncidentEvent, State

from ..factories import IncidentFactory, drive


@pytest.fixture
def registered(monkeypatch):
    """Register into a hook list for one test only."""

    def register(name, callable_):
        monkeypatch.setattr(hooks, name, [*getattr(hooks, name), callable_])

    return register


@pytest.mark.django_db
def test_a_close_blocker_refuses_closing_with_its_reason_and_changes_nothing(registered, manager):
    incident = drive(IncidentFactory(), State.RESOLVED, actor=manager)
    registered("close_blockers", lambda i: "the review is not approved" if i.pk else None)
    events = IncidentEvent.objects.filter(incident=incident).count()

    with pytest.raises(TransitionNotAllowed) as refused:
        incident_close(incident=incident, actor=manager, review="Ursache: Netzteil")

    assert "the review is not approved" in str(refused.value)
    # Closing is not offered as what is possible now; reopening is.
    assert refused.value.allowed == ["reopen"]
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED
    assert incident.review == ""
    assert IncidentEvent.objects.filter(incident=incident).count() == events


@pytest.mark.django_db
def test_a_close_blocker_is_not_asked_where_the_state_forbids_closing(registered, manager):
    asked = []
    registered("close_blockers", lambda i: asked.append(i.pk) or "blocked")
    incident = drive(IncidentFactory(), State.ESCALATED, actor=manager)

    with pytest.raises(TransitionNotAllowed) as refused:
        incident_close(incident=incident, actor=manager, review="x")

    assert asked == []
    assert "blocked" not in str(refused.value)


@pytest.mark.django_db
def test_without_blockers_closing_works(manager):
    incident = drive(IncidentFactory(), State.CLOSED, actor=manager)
    assert Incident.objects.get(pk=incident.pk).state == State.CLOSED


@pytest.mark.django_db
def test_transition_listeners_hear_every_step_inside_its_transaction(registered, manager):
    heard = []
    registered(
        "transition_listeners",
        lambda incident, action, actor, from_state: heard.append(
            (action, from_state, incident.state, actor)
        ),
    )
    incident = drive(IncidentFactory(), State.RESOLVED, actor=manager)
    incident_reopen(incident=incident, actor=manager, reason="wieder da")

    assert [h[0] for h in heard] == [
        "classify",
        "escalate",
        "provide_workaround",
        "resolve",
        "reopen",
    ]
    assert heard[-1] == ("reopen", State.RESOLVED, State.ESCALATED, manager)


@pytest.mark.django_db
def test_dashboard_sections_are_rendered_in_the_live_part(registered, client, executive):
    registered(
        "dashboard_sections",
        lambda request, now: format_html("<section id='nested'>{}</section>", "Probleme"),
    )
    registered("dashboard_sections", lambda request, now: "")
    client.force_login(executive)

    for url in (reverse("dashboard:index"), reverse("dashboard:live")):
        body = client.get(url).content.decode()
        assert body.count("<section id='nested'>Probleme</section>") == 1
