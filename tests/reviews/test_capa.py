"""Corrective actions: reminders before the due date and on overdue (through the outbox), the
effectiveness check by the product ("no recurrence") and by a person; the console and the PDF."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from escalation import roles
from escalation.reviews.models import Action
from escalation.reviews.services import (
    action_complete,
    action_create,
    action_verdict,
    actions_tick,
    review_draft,
)
from escalation.services import incident_resolve
from incidents.models import State
from notifications.models import Notification
from tests.factories import IncidentFactory, ServiceFactory, UserFactory, drive

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=BERLIN)


@pytest.fixture
def review(manager):
    with time_machine.travel(at(1), tick=False):
        incident = IncidentFactory(services=[ServiceFactory()])
        incident = drive(incident, State.WORKAROUND, actor=manager)
        incident = incident_resolve(incident=incident, actor=manager, resolution="Fix")
        return review_draft(incident=incident, actor=manager)


def new_action(review, manager, **extra):
    return action_create(
        actor=manager,
        review=review,
        title="Zertifikate überwachen",
        kind=Action.Kind.CORRECTIVE,
        owner=manager,
        due_on=date(2026, 3, 10),
        check_on=date(2026, 3, 20),
        **extra,
    )


def reminders(kind):
    return Notification.objects.filter(template="capa_reminder", context__kind=kind).count()


def test_reminder_before_due_then_overdue_once_each(review, manager):
    with time_machine.travel(at(2), tick=False):
        action = new_action(review, manager)
        assert actions_tick() == 0
    with time_machine.travel(at(7, 9), tick=False):  # three days before, 09:00
        assert actions_tick() == 1
        assert actions_tick() == 0  # idempotent
    assert reminders("due_soon") == 1 and reminders("overdue") == 0
    with time_machine.travel(at(11, 9), tick=False):
        actions_tick()
        actions_tick()
    assert reminders("overdue") == 1
    action.refresh_from_db()
    assert action.next_due_at is None and action.is_overdue(date(2026, 3, 11))


def test_no_recurrence_is_checked_by_the_product(review, manager):
    with time_machine.travel(at(2), tick=False):
        action = new_action(review, manager)
        action_complete(action=action, actor=manager, note="Monitoring eingerichtet")
    with time_machine.travel(at(20, 9), tick=False):
        actions_tick()
    action.refresh_from_db()
    assert action.state == Action.State.EFFECTIVE and "No incident" in action.check_note
    kinds = review.incident.events.values_list("kind", flat=True)
    assert "action_checked" in kinds


def test_a_recurrence_makes_the_action_ineffective(review, manager):
    with time_machine.travel(at(2), tick=False):
        action = new_action(review, manager)
        action_complete(action=action, actor=manager, note="Monitoring eingerichtet")
    with time_machine.travel(at(5), tick=False):
        IncidentFactory(services=list(review.incident.services.all()), title="Wieder da")
    with time_machine.travel(at(20, 9), tick=False):
        actions_tick()
    action.refresh_from_db()
    assert action.state == Action.State.INEFFECTIVE and "Wieder da" in action.check_note


def test_a_person_judges_a_verdict_criterion(review, manager):
    with time_machine.travel(at(2), tick=False):
        action = new_action(review, manager, check_kind=Action.Check.VERDICT)
        action_complete(action=action, actor=manager, note="Checkliste ergänzt")
    with time_machine.travel(at(20, 9), tick=False):
        actions_tick()
    assert reminders("check") == 1
    action.refresh_from_db()
    assert action.state == Action.State.DONE
    action = action_verdict(action=action, actor=manager, effective=True, note="Test bestanden")
    assert action.state == Action.State.EFFECTIVE


@pytest.mark.parametrize("language", ["de", "en"])
def test_console_page_and_pdf_in_both_languages(client, review, manager, language):
    executive = UserFactory(username="eva.exec")
    executive.groups.add(Group.objects.get(name=roles.EXECUTIVE))
    client.force_login(executive)
    page = client.get(
        reverse("reviews:review", args=[review.incident_id]), HTTP_ACCEPT_LANGUAGE=language
    )
    assert page.status_code == 200 and review.incident.title in page.content.decode()
    pdf = client.get(
        reverse("reviews:review_pdf", args=[review.incident_id]), HTTP_ACCEPT_LANGUAGE=language
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.post(reverse("reviews:submit", args=[review.incident_id])).status_code == 403


def test_customers_see_none_of_it(client, review, customer_contact):
    client.force_login(customer_contact)
    assert client.get(reverse("reviews:review", args=[review.incident_id])).status_code == 403
    assert client.get(reverse("reviews:actions")).status_code == 403


def test_dashboard_shows_approved_reviews_and_overdue_actions(client, review, manager, executive):
    from tests.factories import review_approved

    with time_machine.travel(at(2), tick=False):
        new_action(review, manager)
    review_approved(review.incident)
    with time_machine.travel(at(15), tick=False):
        client.force_login(executive)
        page = client.get(reverse("dashboard:index")).content.decode()
    assert "Zertifikate überwachen" in page and "Netzteil ohne Redundanz" in page
