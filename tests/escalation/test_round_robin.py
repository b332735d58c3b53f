"""Round-robin levels: each new incident pages the next of the level's people, not all of them."""

import pytest
from django.contrib.auth.models import Group

from escalation import roles
from escalation.models import EscalationLevel, EscalationPolicy, Page
from escalation.selectors import upcoming_levels
from escalation.services import incident_classify
from tests.factories import IncidentFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db):
    people = []
    for name in ("anna", "bert", "cora"):
        user = UserFactory(username=name, first_name=name.title())
        user.groups.add(Group.objects.get(name=roles.RESPONDER))
        people.append(user)
    return people


def _policy(service, team, *, round_robin, levels=1):
    policy = EscalationPolicy.objects.create(name="Support", repeat=0)
    policy.services.add(service)
    for position in range(levels):
        level = EscalationLevel.objects.create(
            policy=policy, position=position, timeout_minutes=10, round_robin=round_robin
        )
        level.users.add(*team)
    return policy


def _p1(service, manager):
    incident = IncidentFactory(services=[service], actor=manager)
    return incident_classify(incident=incident, actor=manager, impact="high", urgency="high")


def _paged(incident):
    return sorted(Page.objects.filter(incident=incident).values_list("user__username", flat=True))


def test_each_new_incident_pages_the_next_person_in_turn(team, manager):
    service = ServiceFactory(slug="support")
    _policy(service, team, round_robin=True)
    paged = [_paged(_p1(service, manager)) for _ in range(4)]
    assert paged == [["anna"], ["bert"], ["cora"], ["anna"]]


def test_without_round_robin_the_level_pages_everybody(team, manager):
    service = ServiceFactory(slug="support")
    _policy(service, team, round_robin=False)
    assert _paged(_p1(service, manager)) == ["anna", "bert", "cora"]


def test_upcoming_levels_name_the_person_whose_turn_it_is(team, manager):
    service = ServiceFactory(slug="support")
    _policy(service, team, round_robin=True, levels=2)
    incident = _p1(service, manager)  # level 1 takes anna's turn
    assert _paged(incident) == ["anna"]
    upcoming = upcoming_levels(incident, incident.detected_at)
    assert [p.username for p in upcoming[0]["people"]] == ["anna"]  # level 2's own count: 0
