"""Business continuity's sections on other pages: the customer portal (own processes only, in
customer words, only what was published), the executive dashboard, the evidence dossier and the
process handbook."""

import pytest
from django.urls import reverse
from django.utils import timezone

from escalation import hooks
from escalation.continuity.evidence import dossier_section, handbook_section
from escalation.continuity.services import concession_record, level_set, workaround_apply
from escalation.services.public import public_incident_publish
from incidents.models import State
from tests.factories import IncidentFactory, drive

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(service, customer, manager, process, runbook):
    incident = IncidentFactory(actor=manager, services=[service], customers=[customer])
    return drive(incident, State.ESCALATED, actor=manager)


def test_the_portal_shows_the_own_processes_and_the_workaround_in_customer_words(
    client, manager, customer_contact, other_customer_contact, incident, runbook, settings
):
    client.force_login(customer_contact)
    home = client.get(reverse("portal:home")).content.decode()
    assert 'data-status="operational"' in home  # not published: nothing to tell yet
    public_incident_publish(actor=manager, incidents=[incident], title="Ablesung gestört")
    home = client.get(reverse("portal:home")).content.decode()
    assert 'data-status="disrupted"' in home
    workaround_apply(incident=incident, actor=manager, runbook=runbook)
    home = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-status="workaround"' in home
    assert "Please report meter readings by phone" in home
    client.force_login(other_customer_contact)
    assert "Zählerstandserfassung" not in client.get(reverse("portal:home")).content.decode()


def test_the_dashboard_shows_levels_read_only(client, manager, executive, incident):
    level_set(incident=incident, actor=manager, level="emergency", reason="Vorstand informiert")
    client.force_login(executive)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert 'data-level="emergency"' in page and "Zählerstandserfassung" in page
    assert hooks.dashboard_sections_render  # the section comes through the core's hook


def test_dossier_and_handbook_sections(manager, incident, runbook, customer):
    assert dossier_section(incident) is None
    record = workaround_apply(incident=incident, actor=manager, runbook=runbook)
    concession_record(workaround=record, actor=manager, customer=customer, accepted_by="Frau Berg")
    section = dossier_section(incident)
    [item] = section["items"]
    assert item["runbook_version"] == 1 and item["concessions"][0]["accepted_by"] == "Frau Berg"
    handbook = handbook_section(timezone.now())
    assert "Zählerstandserfassung" in handbook["html"] and "v1" in handbook["html"]


def test_demo_data_gives_every_demo_customer_processes_and_loads_once(db):
    from escalation.continuity.demo import continuity_demo_load
    from escalation.continuity.models import BusinessProcess, RunbookVersion
    from escalation.management.commands.load_demo import CUSTOMERS, SERVICES
    from tests.factories import CustomerFactory, ServiceFactory

    for slug, name, *_rest in CUSTOMERS:
        CustomerFactory(slug=slug, name=name)
    for spec in SERVICES:
        ServiceFactory(slug=spec.slug, name=spec.name)
    assert continuity_demo_load() == 10
    assert continuity_demo_load() == 0
    for slug, *_rest in CUSTOMERS:
        assert BusinessProcess.objects.filter(customers__slug=slug).exists()
    assert all(v.customer_text_de and v.customer_text_en for v in RunbookVersion.objects.all())


def test_portal_and_dashboard_sections_run_a_bounded_number_of_queries(
    rf,
    manager,
    executive,
    customer_contact,
    customer,
    service,
    incident,
    runbook,
    django_assert_max_num_queries,
):
    from escalation.continuity.dashboard import dashboard_continuity_section
    from escalation.continuity.portal import portal_processes_section
    from escalation.continuity.services import process_create

    public_incident_publish(actor=manager, incidents=[incident], title="Ablesung gestört")
    for n in range(3):  # more processes and incidents: not more queries
        process_create(
            actor=manager,
            name=f"Prozess {n}",
            slug=f"prozess-{n}",
            rto_minutes=10,
            mtpd_minutes=20,
            services=[service],
            customers=[customer],
        )
        other = IncidentFactory(actor=manager, services=[service], customers=[customer])
        public_incident_publish(actor=manager, incidents=[other], title=f"Störung {n}")
    request = rf.get("/portal/")
    request.user = customer_contact
    with django_assert_max_num_queries(5):
        assert "Prozess 2" in portal_processes_section(request)
    request.user = executive
    with django_assert_max_num_queries(5):
        assert "Prozess 2" in dashboard_continuity_section(request, timezone.now())
