"""The question box: executives ask the escalation manager (never the team), managers answer."""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from escalation import roles
from escalation.models import LayerMember, OnCallSchedule, Question, ScheduleLayer
from escalation.services.questions import question_answer, question_ask
from incidents.exceptions import InvalidInput, PermissionDenied
from incidents.models import Incident, IncidentEvent, State
from notifications.models import Notification
from notifications.services import notification_deliver
from tests.factories import IncidentFactory, UserFactory, drive

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_manager(db):
    user = UserFactory(username="max.manager", language="en")
    user.groups.add(Group.objects.get(name=roles.ESCALATION_MANAGER))
    return user


def _asked():
    return Notification.objects.filter(template="question_asked")


def _incident_snapshot(incident):
    incident.refresh_from_db()
    return (incident.state, incident.updated_at, incident.timeline_length, incident.events.count())


def test_ask_queues_one_email_per_manager_and_none_to_responders(
    executive, manager, second_manager, responder, escalation, django_capture_on_commit_callbacks
):
    before = _incident_snapshot(escalation)
    with django_capture_on_commit_callbacks(execute=False):
        question = question_ask(
            actor=executive, text="  Wann ist der Dienst zurück?  ", incident=escalation
        )
    assert question.text == "Wann ist der Dienst zurück?" and question.asked_by == executive
    assert question.incident == escalation and question.answered_at is None
    rows = list(_asked())
    assert sorted(n.recipient_id for n in rows) == sorted([manager.pk, second_manager.pk])
    assert not Notification.objects.filter(recipient=responder).exists()
    assert all(n.channel == "email" and n.subject == f"question:{question.pk}" for n in rows)
    assert _incident_snapshot(escalation) == before  # asking never touches the incident


def test_ask_goes_only_to_the_manager_on_duty(executive, manager, second_manager, responder):
    rota = OnCallSchedule.objects.create(name="Manager vom Dienst", is_manager_on_duty=True)
    layer = ScheduleLayer.objects.create(schedule=rota, start_date=date(2020, 1, 6))
    LayerMember.objects.create(layer=layer, user=second_manager)
    question_ask(actor=executive, text="Wer kümmert sich?")
    assert [n.recipient_id for n in _asked()] == [second_manager.pk]


def test_a_responder_in_the_manager_rota_is_never_asked(executive, manager, responder):
    rota = OnCallSchedule.objects.create(name="Falsch besetzt", is_manager_on_duty=True)
    layer = ScheduleLayer.objects.create(schedule=rota, start_date=date(2020, 1, 6))
    LayerMember.objects.create(layer=layer, user=responder)
    question_ask(actor=executive, text="Wer kümmert sich?")
    assert [n.recipient_id for n in _asked()] == [manager.pk]


def test_question_email_renders_in_both_languages(executive, manager, second_manager, escalation):
    manager.language = "de"
    manager.save(update_fields=["language"])
    question_ask(actor=executive, text="Müssen wir die Presse informieren?", incident=escalation)
    for row in _asked():
        assert notification_deliver(notification_id=row.pk).status == "sent"
    by_address = {m.to[0]: m for m in mail.outbox}
    german = by_address[manager.email]
    english = by_address[second_manager.email]
    assert german.subject.startswith("[P3] Frage von erika.executive zu #")
    assert "Müssen wir die Presse informieren?" in german.body
    assert (
        "nicht an das Team weitergeleitet" in german.body and "/console/questions/" in german.body
    )
    assert english.subject.startswith("[P3] Question from erika.executive about #")
    assert "not sent to the team" in english.body
    html = english.alternatives[0][0]
    assert "Müssen wir die Presse informieren?" in html and "Answer the question" in html


def test_empty_or_too_long_text_is_refused_with_a_field(executive, manager):
    for text in ("", "   ", "x" * 2001):
        with pytest.raises(InvalidInput) as exc:
            question_ask(actor=executive, text=text)
        assert exc.value.field == "text"
    assert not Question.objects.exists() and not _asked().exists()


def test_incident_must_be_an_open_escalation(executive, manager):
    not_escalated = drive(IncidentFactory(title="Nur klassifiziert"), State.CLASSIFIED)
    closed = drive(IncidentFactory(title="Erledigt"), State.RESOLVED)
    for incident in (not_escalated, closed):
        with pytest.raises(InvalidInput) as exc:
            question_ask(actor=executive, text="Und?", incident=incident)
        assert exc.value.field == "incident"
    assert not Question.objects.exists() and not _asked().exists()


@pytest.mark.parametrize("who", ["responder", "customer_contact"])
def test_only_executives_and_managers_may_ask(request, who, manager):
    with pytest.raises(PermissionDenied):
        question_ask(actor=request.getfixturevalue(who), text="Darf ich?")
    assert not Question.objects.exists() and not _asked().exists()


def test_manager_may_ask_and_is_not_emailed_about_it(manager, second_manager):
    question_ask(actor=manager, text="Notiz an den Kollegen")
    assert [n.recipient_id for n in _asked()] == [second_manager.pk]


# --- Through the dashboard ----------------------------------------------------------------------


def test_dashboard_question_box_creates_a_question(client, executive, manager, escalation):
    client.force_login(executive)
    response = client.post(
        reverse("dashboard:ask"), {"text": "Brauchen wir eine Pressemitteilung?", "days": "7"}
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/?days=7#questions"
    question = Question.objects.get()
    assert question.incident is None and question.asked_by == executive
    assert _asked().count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Brauchen wir eine Pressemitteilung?" in page and "Not answered yet." in page


def test_dashboard_question_about_an_incident(client, executive, manager, escalation):
    client.force_login(executive)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert f'<option value="{escalation.pk}">' in page
    response = client.post(
        reverse("dashboard:ask"), {"text": "Welche Kunden?", "incident": escalation.pk}
    )
    assert response.status_code == 302 and Question.objects.get().incident == escalation


def test_dashboard_refuses_empty_text_with_a_field_error(client, executive, manager, escalation):
    client.force_login(executive)
    response = client.post(reverse("dashboard:ask"), {"text": "  ", "incident": escalation.pk})
    page = response.content.decode()
    assert response.status_code == 400 and 'id="q-text-error"' in page
    assert "Please write your question." in page
    assert not Question.objects.exists() and not _asked().exists()


@pytest.mark.parametrize("incident", ["hidden", "missing", "garbage"])
def test_dashboard_refuses_an_incident_the_executive_may_not_see(
    client, executive, manager, escalation, incident
):
    hidden = drive(IncidentFactory(title="Intern, nicht eskaliert"), State.CLASSIFIED)
    value = {"hidden": hidden.pk, "missing": 999999, "garbage": "abc"}[incident]
    client.force_login(executive)
    response = client.post(reverse("dashboard:ask"), {"text": "Und das?", "incident": value})
    page = response.content.decode()
    assert response.status_code == 400 and 'id="q-incident-error"' in page
    assert "Intern, nicht eskaliert" not in page  # the refusal does not reveal it either
    assert not Question.objects.exists() and not _asked().exists()


def test_asking_through_the_dashboard_never_changes_an_incident(
    client, executive, manager, escalation
):
    before = _incident_snapshot(escalation)
    events = IncidentEvent.objects.count()
    client.force_login(executive)
    client.post(
        reverse("dashboard:ask"),
        {"text": "Bitte eskalieren!", "incident": escalation.pk, "state": "resolved"},
    )
    assert _incident_snapshot(escalation) == before and IncidentEvent.objects.count() == events
    assert Incident.objects.get(pk=escalation.pk).state == State.ESCALATED


# --- Answering in the console -------------------------------------------------------------------


def test_manager_answers_and_the_executive_reads_it(client, executive, manager):
    question = question_ask(actor=executive, text="Wie lange noch?")
    client.force_login(manager)
    queue = client.get(reverse("console:questions")).content.decode()
    assert "Wie lange noch?" in queue and "1 open question" in queue
    response = client.post(
        reverse("console:question_answer", args=[question.pk]), {"answer": "Etwa eine Stunde."}
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.answer == "Etwa eine Stunde." and question.answered_by == manager
    assert question.answered_at is not None
    assert "No open questions." in client.get(reverse("console:questions")).content.decode()
    client.force_login(executive)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert "Etwa eine Stunde." in page and "Answered by mara.manager" in page


def test_queue_lists_open_questions_first(client, executive, manager):
    old = question_ask(actor=executive, text="Beantwortet")
    question_answer(actor=manager, question=old, answer="Ja.")
    question_ask(actor=executive, text="Noch offen")
    client.force_login(manager)
    page = client.get(reverse("console:questions")).content.decode()
    assert page.index("Noch offen") < page.index("Beantwortet")


@pytest.mark.parametrize(("who", "status"), [("executive", 403), ("responder", 403)])
def test_answering_is_refused_for_others(client, request, executive, manager, who, status):
    question = question_ask(actor=executive, text="Wie lange noch?")
    person = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        question_answer(actor=person, question=question, answer="Ich sage es Ihnen.")
    client.force_login(person)
    url = reverse("console:question_answer", args=[question.pk])
    assert client.post(url, {"answer": "Ich sage es Ihnen."}).status_code == status
    assert client.get(reverse("console:questions")).status_code == 403
    question.refresh_from_db()
    assert question.answered_at is None and question.answer == ""


def test_empty_answer_and_second_answer_are_refused(client, executive, manager):
    question = question_ask(actor=executive, text="Wie lange noch?")
    client.force_login(manager)
    url = reverse("console:question_answer", args=[question.pk])
    response = client.post(url, {"answer": "  "})
    assert (
        response.status_code == 400
        and f'id="answer-{question.pk}-error"' in response.content.decode()
    )
    assert client.post(url, {"answer": "Eine Stunde."}).status_code == 302
    assert client.post(url, {"answer": "Doch zwei."}).status_code == 400
    question.refresh_from_db()
    assert question.answer == "Eine Stunde."
    assert client.get(url).status_code == 405
    assert (
        client.post(reverse("console:question_answer", args=[999999]), {"answer": "x"}).status_code
        == 404
    )
