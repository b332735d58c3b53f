"""Who sees which incidents, as a rule checked over a world that includes what the access matrix
lacks: internal incidents without any customer, incidents of two customers, and incidents a
responder created, commands, or was paged for. What each audience sees must equal the rule."""

import pytest
from django.contrib.auth.models import Group

from escalation import roles
from escalation.models import EscalationLevel, EscalationPolicy, Page
from escalation.selectors import console_incidents_for
from escalation.services import incident_edit
from incidents.models import Incident, State
from incidents.selectors import incident_list_for
from tests.factories import IncidentFactory, ServiceFactory, UserFactory, drive

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(manager, customer, other_customer):
    """Incidents for every combination of affected customers, the empty one included."""
    combos = {
        "internal": [],
        "ours": [customer],
        "theirs": [other_customer],
        "both": [customer, other_customer],
    }
    return {
        name: IncidentFactory(actor=manager, customers=customers, title=f"{name} incident")
        for name, customers in combos.items()
    }


def seen(user) -> set[int]:
    return set(incident_list_for(user).values_list("pk", flat=True))


def test_each_audience_sees_exactly_what_the_rule_says(
    world, manager, responder, executive, customer, customer_contact, other_customer_contact
):
    everything = {i.pk for i in world.values()}
    assert seen(manager) == everything
    assert seen(responder) == everything  # the API's team read; the console narrows (below)
    assert seen(executive) == everything
    for contact in (customer_contact, other_customer_contact):
        expected = {
            i.pk for i in world.values() if contact.customer_id in {c.pk for c in i.customers.all()}
        }
        assert seen(contact) == expected
    assert world["internal"].pk not in seen(customer_contact)  # no customers: internal only
    assert seen(customer_contact) == {world["ours"].pk, world["both"].pk}
    nobody = UserFactory(username="nobody")
    assert seen(nobody) == set()


def test_a_contact_of_a_deactivated_account_sees_nothing(world, customer_contact):
    customer_contact.is_active = False
    customer_contact.save()
    assert seen(customer_contact) == set()


def test_the_console_shows_a_responder_only_what_pulls_them_in(world, manager, responder):
    def console(user):
        return set(console_incidents_for(user).values_list("pk", flat=True))

    assert console(responder) == set()
    created = IncidentFactory(actor=responder, title="reported by the responder")
    assert console(responder) == {created.pk}  # created by them
    commanded = world["internal"]
    incident_edit(incident=commanded, actor=manager, commander=responder)
    assert console(responder) == {created.pk, commanded.pk}
    service = ServiceFactory(slug="kundenportal")
    policy = EscalationPolicy.objects.create(name="Kundenportal", repeat=0)
    policy.services.add(service)
    EscalationLevel.objects.create(policy=policy, position=0, timeout_minutes=10).users.add(
        responder
    )
    paged = IncidentFactory(actor=manager, services=[service], title="paged")
    assert console(responder) == {created.pk, commanded.pk}
    drive(paged, State.ESCALATED, actor=manager)
    assert Page.objects.filter(incident=paged, user=responder).exists()
    assert console(responder) == {created.pk, commanded.pk, paged.pk}
    assert console(manager) == set(Incident.objects.values_list("pk", flat=True))


def test_the_console_shows_a_responder_what_they_were_informed_about(world, manager, responder):
    """Informed by the communication matrix (an outbox row to them about the incident) counts;
    a message about another incident, or to somebody else, does not."""
    from django.db import transaction

    from notifications.services import notification_enqueue

    def console(user):
        return set(console_incidents_for(user).values_list("pk", flat=True))

    def inform(user, incident, subject=None):
        with transaction.atomic():
            notification_enqueue(
                dedup_key=f"test:{user.pk}:{incident.pk}:{subject}",
                channel="email",
                address=f"{user.username}@example.org",
                template="incident_update",
                context={},
                recipient=user,
                subject=subject or f"incident:{incident.pk}",
            )

    informed, other = world["ours"], world["theirs"]
    inform(manager, other)  # somebody else informed
    inform(responder, world["both"], subject="digest:weekly")  # not about an incident
    assert console(responder) == set()
    inform(responder, informed)
    assert console(responder) == {informed.pk}


def test_each_audience_reads_exactly_the_updates_meant_for_it(
    world, manager, responder, executive, customer_contact, django_assert_max_num_queries
):
    """For every audience and every kind of update: the team reads all, executives the
    executive and customer ones, a customer contact the customer ones (of its incidents),
    anybody else none; newest first, authors loaded with the updates (one query)."""
    from incidents.models import Audience
    from incidents.selectors import updates_for
    from incidents.services import update_post

    incident = world["ours"]
    for audience in Audience.values:
        update_post(incident=incident, actor=manager, audience=audience, body=f"for {audience}")
    rule = {
        "staff": set(Audience.values),
        "executive": {Audience.EXECUTIVE, Audience.CUSTOMER},
        "customer": {Audience.CUSTOMER},
        "none": set(),
    }
    people = {
        "staff": [manager, responder],
        "executive": [executive],
        "customer": [customer_contact],
        "none": [UserFactory(username="nobody")],
    }
    for role, users in people.items():
        for user in users:
            with django_assert_max_num_queries(2):  # the groups, then updates with authors
                updates = list(updates_for(user, incident))
                authors = [u.author.username for u in updates]
            assert {u.audience for u in updates} == rule[role], (role, user)
            assert authors == [manager.username] * len(updates)
            times = [u.created_at for u in updates]
            assert times == sorted(times, reverse=True)


def test_each_audience_reads_exactly_its_services_and_customers(
    manager,
    responder,
    executive,
    customer,
    other_customer,
    customer_contact,
    django_assert_max_num_queries,
):
    """Services: the team and executives all, ordered by position then name; a contact those of
    its organisation; anybody else none; each with its group loaded. Customers: the team and
    executives all, by name; a contact its own; anybody else none."""
    from incidents.models import Customer, Service
    from incidents.selectors import customers_for, services_for
    from tests.factories import ServiceGroupFactory

    group = ServiceGroupFactory(slug="netz", name="Netz")
    # Bravo stored before Alpha: within a position, the name orders them, not the insertion.
    zulu = ServiceFactory(slug="zulu", name="Zulu", position=0, group=group)
    bravo = ServiceFactory(slug="bravo", name="Bravo", position=1, group=None)
    alpha = ServiceFactory(slug="alpha", name="Alpha", position=1, group=group)
    ServiceFactory(slug="intern", name="Intern", position=2, group=group)  # no customers
    zulu.customers.add(customer, other_customer)
    alpha.customers.add(other_customer)
    bravo.customers.add(customer)
    every_service = list(Service.objects.order_by("position", "name"))
    assert every_service[:3] == [zulu, alpha, bravo]
    every_customer = sorted(Customer.objects.all(), key=lambda c: c.name)
    nobody = UserFactory(username="nobody")
    services_rule = {
        manager: every_service,
        responder: every_service,
        executive: every_service,
        customer_contact: [zulu, bravo],
        nobody: [],
    }
    for user, expected in services_rule.items():
        with django_assert_max_num_queries(2):  # the groups, then services with their group
            services = list(services_for(user))
            groups = [s.group.slug if s.group else None for s in services]
        assert services == expected, user
        assert groups == [s.group.slug if s.group else None for s in expected]
    customers_rule = {
        manager: every_customer,
        executive: every_customer,
        customer_contact: [customer],
        nobody: [],
    }
    for user, expected in customers_rule.items():
        assert list(customers_for(user)) == expected, user


def test_an_incident_list_loads_commanders_services_and_customers_at_once(
    world, manager, customer_contact, django_assert_max_num_queries
):
    for incident in world.values():
        incident_edit(incident=incident, actor=manager, commander=manager)
        incident.services.add(ServiceFactory())
    for user in (manager, customer_contact):
        # the user's groups, the incidents with their commanders, their services, their customers
        with django_assert_max_num_queries(4):
            rows = [
                (i.commander.username, [s.slug for s in i.services.all()], list(i.customers.all()))
                for i in incident_list_for(user)
            ]
        assert rows and all(commander == manager.username for commander, _, _ in rows)


def test_the_console_shows_a_responder_the_incidents_where_they_hold_a_role(
    world, manager, responder
):
    from escalation.services.people import incident_role_assign, incident_role_end

    def console(user):
        return set(console_incidents_for(user).values_list("pk", flat=True))

    responder.groups.add(Group.objects.get(name=roles.RESPONDER))
    other = UserFactory(username="sina.scribe")
    other.groups.add(Group.objects.get(name=roles.RESPONDER))
    incident_role_assign(incident=world["theirs"], actor=manager, role="scribe", user=other)
    assert console(responder) == set()  # somebody else's role
    incident_role_assign(incident=world["ours"], actor=manager, role="scribe", user=responder)
    assert console(responder) == {world["ours"].pk}
    incident_role_end(incident=world["ours"], actor=manager, role="scribe")
    assert console(responder) == set()  # stepped down
