"""The triage console: who may see it, the board, the incident page, actions, updates, errors."""

import pytest
from django.urls import reverse

from escalation.models import CommunicationRule
from incidents.models import Incident, State
from notifications.models import Notification
from tests.factories import IncidentFactory, ServiceFactory, drive, review_approved

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def action(client, incident, name, **data):
    incident.refresh_from_db()
    payload = {f"{name}-{k}": v for k, v in data.items()}
    payload["version"] = incident.updated_at.isoformat()
    return client.post(reverse("console:incident_action", args=[incident.pk, name]), payload)


@pytest.mark.parametrize("url_name", ["console:board", "console:incident_new"])
@pytest.mark.parametrize(
    ("who", "status"),
    [("manager", 200), ("responder", 200), ("executive", 403), ("customer_contact", 403)],
)
def test_console_is_for_managers_and_responders(client, request, url_name, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(url_name)).status_code == status


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("console:board"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/accounts/password_reset/").status_code == 200


def test_board_groups_by_state_and_sorts_by_priority(
    client, manager, django_assert_max_num_queries
):
    low = drive(IncidentFactory(title="Niedrig"), State.CLASSIFIED)
    drive(IncidentFactory(title="Hoch"), State.CLASSIFIED)
    Incident.objects.filter(pk=low.pk).update(priority=5)
    Incident.objects.exclude(pk=low.pk).update(priority=1)
    drive(IncidentFactory(title="Erledigt"), State.RESOLVED)
    for i in range(10):
        IncidentFactory(title=f"Neu {i}")
    client.force_login(manager)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("console:board")).content.decode()
    assert page.index("Hoch") < page.index("Niedrig") and "Erledigt" not in page
    assert page.index("Detected") < page.index("Classified")
    fragment = client.get(reverse("console:board"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "Hoch" in fragment


def test_responder_sees_only_incidents_they_are_pulled_into(client, responder, manager):
    mine = IncidentFactory(title="Meins", commander=responder)
    IncidentFactory(title="Fremd")
    client.force_login(responder)
    page = client.get(reverse("console:board")).content.decode()
    assert "Meins" in page and "Fremd" not in page
    other = Incident.objects.get(title="Fremd")
    assert client.get(reverse("console:incident", args=[other.pk])).status_code == 404
    assert client.get(reverse("console:incident", args=[mine.pk])).status_code == 200


def test_new_incident_then_the_whole_lifecycle_in_the_console(client, manager):
    ServiceFactory(slug="portal", name="Portal")
    client.force_login(manager)
    response = client.post(
        reverse("console:incident_new"), {"title": "Portal down", "impact": "low", "urgency": "low"}
    )
    incident = Incident.objects.get(title="Portal down")
    assert response.status_code == 302 and incident.state == State.CLASSIFIED
    page = client.get(reverse("console:incident", args=[incident.pk])).content.decode()
    for label in ("Escalate", "Acknowledge", "Resolve"):
        assert label in page
    assert action(client, incident, "escalate", reason="Kunde steht").status_code == 302
    assert (
        action(client, incident, "provide_workaround", workaround="Zweitsystem").status_code == 302
    )
    assert action(client, incident, "resolve", resolution="Behoben").status_code == 302
    review_approved(incident)
    assert action(client, incident, "close", review="Review").status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.CLOSED and incident.commander == manager


def test_new_incident_form_errors(client, manager):
    client.force_login(manager)
    response = client.post(reverse("console:incident_new"), {"title": "", "impact": "high"})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert not Incident.objects.exists()


def test_illegal_transition_page(client, manager):
    incident = IncidentFactory()
    client.force_login(manager)
    response = action(client, incident, "close", review="x")
    assert response.status_code == 409 and "is not possible in state" in response.content.decode()


def test_missing_permission_page(client, responder):
    incident = drive(IncidentFactory(commander=responder), State.CLASSIFIED)
    client.force_login(responder)
    response = action(client, incident, "escalate", reason="x")
    assert response.status_code == 403 and "You may not do this" in response.content.decode()


def test_stale_form_shows_what_changed(client, manager, responder):
    incident = IncidentFactory()
    client.force_login(manager)
    incident.refresh_from_db()
    old_version = incident.updated_at.isoformat()
    from escalation.services import incident_acknowledge

    incident_acknowledge(incident=incident, actor=responder)
    response = client.post(
        reverse("console:incident_action", args=[incident.pk, "classify"]),
        {"classify-impact": "low", "classify-urgency": "low", "version": old_version},
    )
    body = response.content.decode()
    assert (
        response.status_code == 409
        and "Someone else changed" in body
        and "acknowledged in the console" in body
    )
    incident.refresh_from_db()
    assert incident.state == State.DETECTED


def test_update_preview_and_publish(client, manager, customer, customer_contact):
    CommunicationRule.objects.create(
        audience="customers", channels=["email"], cadence_minutes=60, template="customer_update"
    )
    incident = drive(IncidentFactory(customers=[customer], title="INTERN Portal"), State.ESCALATED)
    client.force_login(manager)
    url = reverse("console:incident_update", args=[incident.pk])
    refused = client.post(url, {"audience": "customer", "body": "Wir arbeiten daran"})
    assert refused.status_code == 409 and "no public face" in refused.content.decode()
    from escalation.services.public import public_incident_publish

    public_incident_publish(actor=manager, incidents=[incident], title="Kundenportal gestört")
    preview = client.post(
        url, {"audience": "customer", "body": "Wir arbeiten daran", "preview": "1"}
    ).content.decode()
    assert "Wir arbeiten daran" in preview and "(DE)" in preview and "(EN)" in preview
    # Customers' preview renders the public face (incidents.presentation), as the mail does.
    assert "Kundenportal gestört" in preview and "INTERN" not in preview
    assert not incident.updates.exists()  # a preview publishes nothing
    assert (
        client.post(url, {"audience": "customer", "body": "Wir arbeiten daran"}).status_code == 302
    )
    assert incident.updates.get().body == "Wir arbeiten daran"
    assert Notification.objects.filter(
        recipient=customer_contact, template="customer_update"
    ).exists()
    assert client.post(url, {"audience": "customer", "body": ""}).status_code == 400


def test_incident_page_shows_timeline_and_classification(client, manager):
    incident = drive(IncidentFactory(title="Mail"), State.CLASSIFIED)
    client.force_login(manager)
    page = client.get(reverse("console:incident", args=[incident.pk])).content.decode()
    assert "P3 moderate" in page and "No escalation required" in page
    timeline = page[page.index('id="timeline"') :]
    assert timeline.count('<details class="technical">') == incident.events.count()
    assert (
        "Detected → Classified" in timeline and "classified the incident as P3 moderate" in timeline
    )


def test_times_show_in_the_users_time_zone(client, manager):
    from datetime import UTC, datetime

    incident = IncidentFactory(title="Zeit", detected_at=datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    client.force_login(manager)
    berlin = client.get(reverse("console:incident", args=[incident.pk])).content.decode()
    assert "24 Nov 2026 15:00" in berlin  # Europe/Berlin, the default
    manager.time_zone = "America/New_York"
    manager.save()
    new_york = client.get(reverse("console:incident", args=[incident.pk])).content.decode()
    assert "24 Nov 2026 09:00" in new_york


def test_brute_force_logins_are_locked_out(client, manager, settings):
    from tests.factories import PASSWORD

    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": manager.username, "password": "x"})
    response = client.post("/accounts/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 429 and "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_with_the_right_password(client, manager):
    from tests.factories import PASSWORD

    response = client.post("/accounts/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/console/"


def test_manager_edits_the_matrix_responder_may_not(client, manager, responder):
    from escalation.models import CommunicationRule

    client.force_login(responder)
    assert client.get(reverse("console:matrix_new")).status_code == 403
    client.force_login(manager)
    data = {
        "position": 1,
        "is_active": "on",
        "priority": 1,
        "audience": "executives",
        "channels": ["email"],
        "cadence_minutes": 30,
        "template": "executive_update",
    }
    assert client.post(reverse("console:matrix_new"), {**data, "channels": []}).status_code == 200
    assert client.post(reverse("console:matrix_new"), data).status_code == 302
    rule = CommunicationRule.objects.get()
    assert rule.channels == ["email"] and rule.cadence_minutes == 30
    page = client.get(reverse("console:matrix")).content.decode()
    assert reverse("console:matrix_edit", args=[rule.pk]) in page
    client.post(reverse("console:matrix_edit", args=[rule.pk]), {**data, "cadence_minutes": 15})
    rule.refresh_from_db()
    assert rule.cadence_minutes == 15
    client.post(reverse("console:matrix_delete", args=[rule.pk]))
    assert not CommunicationRule.objects.exists()


def test_responder_pulled_in_by_the_matrix_sees_the_incident(client, responder, manager):
    from escalation.models import CommunicationRule

    rule = CommunicationRule.objects.create(audience="responders", channels=["email"])
    rule.users.add(responder)
    incident = drive(IncidentFactory(title="Hinzugezogen"), State.ESCALATED, actor=manager)
    IncidentFactory(title="Nicht meins")
    client.force_login(responder)
    page = client.get(reverse("console:board")).content.decode()
    assert "Hinzugezogen" in page and "Nicht meins" not in page
    assert client.get(reverse("console:incident", args=[incident.pk])).status_code == 200


def test_a_refused_classification_leaves_no_half_made_incident(client, manager):
    from escalation.models import PriorityMatrixEntry

    PriorityMatrixEntry.objects.filter(impact="high", urgency="high").delete()
    client.force_login(manager)
    response = client.post(
        reverse("console:incident_new"), {"title": "Halb", "impact": "high", "urgency": "high"}
    )
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert not Incident.objects.filter(title="Halb").exists()
