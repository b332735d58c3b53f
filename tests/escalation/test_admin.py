"""The admin: every model is registered, and the lifecycle buttons call the workflow services."""

import pytest
from django.contrib import admin
from django.urls import reverse

from incidents.models import EventKind, Incident, IncidentEvent, State
from tests.factories import IncidentFactory, ServiceFactory, drive

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def action_url(incident, action):
    return reverse("admin:incidents_incident_action", args=[incident.pk, action])


def test_every_model_has_an_admin():
    from django.apps import apps

    for app in ("incidents", "escalation", "notifications"):
        for model in apps.get_app_config(app).get_models():
            assert admin.site.is_registered(model), model


def test_changelists_and_change_pages_render(client, manager):
    incident = drive(IncidentFactory(), State.ESCALATED)
    client.force_login(manager)
    for name in (
        "incidents_incident",
        "incidents_customer",
        "incidents_service",
        "incidents_servicegroup",
        "incidents_update",
        "incidents_incidentevent",
        "escalation_prioritymatrixentry",
        "escalation_escalationrule",
    ):
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    for action in ("classify", "acknowledge", "provide_workaround", "resolve"):
        assert action_url(incident, action) in body
    for action in ("escalate", "close", "reopen"):
        assert action_url(incident, action) not in body


def test_lifecycle_button_runs_the_service(client, manager):
    incident = drive(IncidentFactory(), State.CLASSIFIED)
    client.force_login(manager)
    form = client.get(action_url(incident, "escalate"))
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    response = client.post(action_url(incident, "escalate"), {"reason": "Großkunde steht"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.ESCALATED and incident.escalation_reason == "Großkunde steht"
    event = IncidentEvent.objects.get(incident=incident, kind=EventKind.ESCALATED)
    assert event.actor == manager


def test_missing_input_shows_a_form_error_and_changes_nothing(client, manager):
    incident = drive(IncidentFactory(), State.ESCALATED)
    client.force_login(manager)
    response = client.post(action_url(incident, "resolve"), {"resolution": ""})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    incident.refresh_from_db()
    assert incident.state == State.ESCALATED


def test_illegal_transition_is_reported_not_applied(client, manager):
    incident = IncidentFactory()
    client.force_login(manager)
    response = client.post(action_url(incident, "close"), {"review": "x"}, follow=True)
    assert response.status_code == 200
    assert (
        "&#x27;Close&#x27; is not possible in state &#x27;Detected&#x27;"
        in response.content.decode()
    )
    incident.refresh_from_db()
    assert incident.state == State.DETECTED


def test_errors_speak_german_to_german_browsers(client, manager):
    incident = IncidentFactory()
    client.force_login(manager)
    response = client.post(
        action_url(incident, "close"), {"review": "x"}, follow=True, HTTP_ACCEPT_LANGUAGE="de"
    )
    body = response.content.decode()
    assert "&#x27;Schließen&#x27; ist im Status &#x27;Erkannt&#x27; nicht möglich" in body
    assert "Jetzt möglich:" in body


def test_unknown_action_is_refused(client, manager):
    client.force_login(manager)
    response = client.get(action_url(IncidentFactory(), "explode"))
    assert response.status_code == 403


def test_responder_may_not_escalate_through_the_admin(client, responder):
    # An incident the responder works on (commands): in their scope, but escalating is not theirs.
    incident = drive(IncidentFactory(commander=responder), State.CLASSIFIED)
    client.force_login(responder)
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert action_url(incident, "escalate") not in page.content.decode()
    response = client.post(action_url(incident, "escalate"), {"reason": "x"}, follow=True)
    assert "You may not do this: Escalate." in response.content.decode()
    incident.refresh_from_db()
    assert incident.state == State.CLASSIFIED


def test_executive_and_customer_have_no_admin(client, executive, customer_contact):
    incident = IncidentFactory()
    for person in (executive, customer_contact):
        client.force_login(person)
        for url in (
            reverse("admin:incidents_incident_changelist"),
            action_url(incident, "resolve"),
        ):
            response = client.get(url)
            assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_adding_an_incident_goes_through_the_service(client, manager):
    service = ServiceFactory()
    client.force_login(manager)
    response = client.post(
        reverse("admin:incidents_incident_add"),
        {
            "title": "Mailserver antwortet nicht",
            "description": "SMTP-Timeouts",
            "services": [service.pk],
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get(title="Mailserver antwortet nicht")
    created = IncidentEvent.objects.get(incident=incident, seq=1)
    assert created.kind == EventKind.CREATED and created.actor == manager
    assert created.data["services"] == [service.slug]
    assert list(incident.services.all()) == [service]


def test_editing_an_incident_records_the_change(client, manager):
    incident = IncidentFactory(title="Alt")
    client.force_login(manager)
    response = client.post(
        reverse("admin:incidents_incident_change", args=[incident.pk]),
        {
            "title": "Neu",
            "description": incident.description,
            "commander": manager.pk,
            **{f"{p}-TOTAL_FORMS": "0" for p in ("updates", "events")},
            **{f"{p}-INITIAL_FORMS": "0" for p in ("updates", "events")},
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    incident.refresh_from_db()
    assert incident.title == "Neu" and incident.commander == manager
    changed = IncidentEvent.objects.get(incident=incident, kind=EventKind.CHANGED)
    assert changed.data["changes"]["title"] == {"old": "Alt", "new": "Neu"}


def test_timeline_and_incidents_cannot_be_deleted_in_the_admin(client, manager):
    incident = IncidentFactory()
    event = IncidentEvent.objects.get(incident=incident)
    client.force_login(manager)
    assert (
        client.get(reverse("admin:incidents_incident_delete", args=[incident.pk])).status_code
        == 403
    )
    url = reverse("admin:incidents_incidentevent_delete", args=[event.pk])
    assert client.get(url).status_code == 403


def test_publishing_an_update_from_the_admin_sends_it(client, manager, customer_contact, customer):
    from escalation.models import CommunicationRule
    from notifications.models import Notification

    CommunicationRule.objects.create(
        audience="customers", channels=["email"], cadence_minutes=60, template="customer_update"
    )
    incident = drive(IncidentFactory(customers=[customer]), State.ESCALATED)
    from escalation.services.public import public_incident_publish

    public_incident_publish(actor=manager, incidents=[incident], title="Portal gestört")
    client.force_login(manager)
    url = reverse("admin:incidents_incident_publish_update", args=[incident.pk])
    assert client.post(url, {"audience": "customer", "body": ""}).status_code == 200  # form error
    response = client.post(url, {"audience": "customer", "body": "Workaround aktiv"})
    assert response.status_code == 302
    sent = Notification.objects.filter(recipient=customer_contact, template="customer_update")
    assert sent.order_by("-pk").first().context["latest_update"] == "Workaround aktiv"
