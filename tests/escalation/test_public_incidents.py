"""The public face of a disruption: publishing (by a person or an auto-publish row), public updates,
linking more incidents, the workaround step and the all-clear, each with its timeline entries on
every covered incident and its outbox rows; and nothing reaches customers before it is published."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from escalation.models import Clock, CommunicationRule
from escalation.services import incident_classify, incident_provide_workaround, incident_resolve
from escalation.services.public import (
    _scopes,
    public_face_of,
    public_face_reopen,
    public_faces_resolve_if_done,
    public_incident_link,
    public_incident_publish,
    public_incident_resolve,
    public_incident_update_post,
)
from incidents.exceptions import InvalidInput, PermissionDenied
from incidents.models import Incident, IncidentEvent, PublicIncident, PublicStatus
from notifications.models import Notification, Subscription
from tests.factories import IncidentFactory, ServiceFactory, ServiceGroupFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
INTERNAL_TITLE = "Logistik Süd meldet: Rechnungen kommen nicht an, DB-Failover hängt"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def world(manager, customer, other_customer, customer_contact, other_customer_contact):
    other_customer_contact.language = "en"
    other_customer_contact.save()
    CommunicationRule.objects.create(
        priority=1, audience="customers", channels=["email"], cadence_minutes=30
    )
    CommunicationRule.objects.create(priority=1, audience="executives", channels=["email"])
    portal = ServiceFactory(slug="e-rechnung", name="E-Rechnung")
    portal.customers.add(customer, other_customer)
    subscriber = Subscription.objects.create(
        channel="email",
        address="leser@example.org",
        scope="service:e-rechnung",
        scope_label="E-Rechnung",
        language="en",
        confirmed_at=T0 - timedelta(days=3),
    )
    with time_machine.travel(T0, tick=False):
        incident = incident_classify(
            incident=IncidentFactory(services=[portal], title=INTERNAL_TITLE, commander=manager),
            actor=manager,
            impact="high",
            urgency="high",
        )
    return {"portal": portal, "incident": incident, "subscriber": subscriber}


def customer_side():
    """Every message to a customer contact or subscriber, oldest first."""
    from django.db.models import Q

    return list(
        Notification.objects.filter(
            Q(recipient__customer__isnull=False) | Q(recipient__isnull=True)
        ).order_by("created_at", "pk")
    )


def test_escalation_alone_tells_customers_nothing(world):
    assert world["incident"].state == "escalated"
    assert customer_side() == []  # neither contacts nor subscribers, neither title nor state
    decision = IncidentEvent.objects.get(
        incident=world["incident"], kind="matrix_decision", data__audience="customers"
    )
    assert decision.data["withheld"] == "no public face"


def test_publishing_informs_contacts_and_subscribers_in_their_language(world, manager):
    with time_machine.travel(at(5), tick=False):
        face = public_incident_publish(
            actor=manager,
            incidents=[world["incident"]],
            title="E-Rechnung: Rechnungen verzögert",
            title_en="E-invoicing: invoices delayed",
            body="Eingehende Rechnungen kommen verzögert an.",
            body_en="Incoming invoices arrive late.",
        )
    sent = {(n.address, n.language): n for n in customer_side()}
    assert set(sent) == {
        ("carl.contact@example.org", "de"),
        ("olga.other@example.org", "en"),
        ("leser@example.org", "en"),
    }
    for message in sent.values():
        text = json.dumps(message.context, ensure_ascii=False)
        assert "Logistik" not in text and "Failover" not in text and "Eskaliert" not in text
        assert message.context["title"] == face.title_in(message.language)
        assert message.context["state"] in ("Wird untersucht", "Investigating")
        assert message.context["next_update_at"] == at(35).isoformat()  # 30 min from publishing
    entry = IncidentEvent.objects.get(incident=world["incident"], kind="public_published")
    assert entry.actor == manager and entry.data["public_incident"] == face.pk
    assert face.updates.get().kind == "published"


def test_who_may_publish(world, responder, executive, customer_contact):
    for person in (executive, customer_contact):
        with pytest.raises(PermissionDenied):
            public_incident_publish(actor=person, incidents=[world["incident"]])
    with pytest.raises(PermissionDenied):  # a responder not pulled into this incident
        public_incident_publish(actor=responder, incidents=[world["incident"]])
    mine = IncidentFactory(services=[world["portal"]], actor=responder)
    assert public_incident_publish(actor=responder, incidents=[mine]).incidents.get() == mine
    with pytest.raises(InvalidInput):
        public_incident_publish(actor=None, incidents=[], services=[])


def test_public_update_and_link_are_on_every_incident_and_restart_the_promise(world, manager):
    with time_machine.travel(at(5), tick=False):
        face = public_incident_publish(actor=manager, incidents=[world["incident"]])
    second = IncidentFactory(services=[world["portal"]], title="Alert 2 on e-rechnung")
    with time_machine.travel(at(10), tick=False):
        public_incident_link(public_incident=face, actor=manager, incidents=[second])
    assert set(face.incidents.all()) == {world["incident"], second}
    assert IncidentEvent.objects.filter(incident=second, kind="public_linked").count() == 1
    with time_machine.travel(at(20), tick=False):
        update = public_incident_update_post(
            public_incident=face,
            actor=manager,
            status=PublicStatus.IDENTIFIED,
            body="Ursache gefunden: ein Zertifikat.",
        )
    face.refresh_from_db()
    assert face.status == "identified" and update.status == "identified"
    for incident in (world["incident"], second):
        assert IncidentEvent.objects.filter(incident=incident, kind="public_update").count() == 1
    latest = [n for n in customer_side() if n.dedup_key.startswith(f"pub:{face.pk}:u")]
    assert latest and all(n.context["next_update_at"] == at(50).isoformat() for n in latest)
    assert {n.context["latest_update"] for n in latest} == {"Ursache gefunden: ein Zertifikat."}
    pending = Clock.objects.filter(
        incident=world["incident"], status="pending", kind="update_due",
        payload__audience="customers",
    )  # fmt: skip
    assert [c.due_at for c in pending] == [at(50)]


def test_workaround_reaches_customers_as_a_public_update(world, manager):
    face = public_incident_publish(actor=manager, incidents=[world["incident"]])
    incident_provide_workaround(
        incident=world["incident"],
        actor=manager,
        workaround="INTERN: Queue auf Node 3 umgehängt",
        customer_text="Bitte laden Sie Rechnungen vorübergehend im Portal hoch.",
    )
    update = face.updates.order_by("-created_at", "-pk").first()
    assert update.kind == "workaround" and update.status == "identified"
    assert update.body == "Bitte laden Sie Rechnungen vorübergehend im Portal hoch."
    sent = [n for n in customer_side() if n.dedup_key.startswith(f"pub:{face.pk}:u{update.pk}")]
    assert len(sent) == 3
    assert all("Node 3" not in json.dumps(n.context) for n in sent)
    assert all(n.context["workaround"] == update.body for n in sent)


def test_the_all_clear_goes_to_everyone_informed_and_ends_the_promises(world, manager):
    with time_machine.travel(at(5), tick=False):
        face = public_incident_publish(actor=manager, incidents=[world["incident"]])
    informed = {(n.channel, n.address) for n in customer_side()}
    assert len(informed) == 3
    with time_machine.travel(at(60), tick=False):
        incident_resolve(incident=world["incident"], actor=manager, resolution="Zertifikat neu")
    face.refresh_from_db()
    assert face.status == "resolved" and face.resolved_at == at(60)
    clear = Notification.objects.filter(template="customer_all_clear")
    assert {(n.channel, n.address) for n in clear} == informed
    languages = {n.address: (n.language, n.context["state"]) for n in clear}
    assert languages["carl.contact@example.org"] == ("de", "Behoben")
    assert languages["leser@example.org"] == ("en", "Resolved")
    assert all(n.context["next_update_at"] is None for n in clear)
    world["incident"].refresh_from_db()
    assert world["incident"].next_customer_update_at is None
    assert not Clock.objects.filter(
        incident=world["incident"], status="pending", payload__audience="customers"
    ).exists()
    entry = IncidentEvent.objects.get(incident=world["incident"], kind="public_resolved")
    assert len(entry.data["informed"]) == 3
    # Resolving again sends nothing more.
    public_incident_resolve(public_incident=face, actor=manager)
    assert clear.count() == 3


def test_a_public_incident_stays_open_while_one_of_its_incidents_is(world, manager):
    face = public_incident_publish(actor=manager, incidents=[world["incident"]])
    second = IncidentFactory(services=[world["portal"]])
    public_incident_link(public_incident=face, actor=manager, incidents=[second])
    incident_resolve(incident=world["incident"], actor=manager, resolution="behoben")
    face.refresh_from_db()
    assert face.status == "investigating"
    incident_resolve(incident=second, actor=manager, resolution="Fehlalarm")
    face.refresh_from_db()
    assert face.status == "resolved"
    assert Notification.objects.filter(template="customer_all_clear").count() == 3


def test_a_customer_contact_without_matrix_row_hears_nothing(world, manager):
    stranger = UserFactory(username="sam.stranger", customer=None)
    face = public_incident_publish(actor=manager, incidents=[world["incident"]])
    assert not Notification.objects.filter(recipient=stranger).exists()
    assert face.is_open


def test_one_disruption_of_many_incidents_sends_one_message_per_step(world, manager, customer):
    """An alert storm: several escalated incidents under one public incident. Their customer
    clocks fire together; customers get one digest, and escalating one more tells nobody twice."""
    from escalation.services.clocks import clocks_tick

    incidents = [world["incident"]]
    with time_machine.travel(T0, tick=False):
        for _n in range(3):
            incidents.append(
                incident_classify(
                    incident=IncidentFactory(services=[world["portal"]]),
                    actor=manager,
                    impact="high",
                    urgency="high",
                )
            )
    with time_machine.travel(at(5), tick=False):
        face = public_incident_publish(actor=manager, incidents=incidents)
    assert len(customer_side()) == 3  # two contacts and the subscriber, once each
    clocks_tick(now=at(35))
    digests = Notification.objects.filter(template="digest_customer")
    assert sorted(n.address for n in digests) == [
        "carl.contact@example.org",
        "leser@example.org",
        "olga.other@example.org",
    ]
    # Another incident of the same disruption escalates and joins: nobody hears it twice.
    later = incident_classify(
        incident=IncidentFactory(services=[world["portal"]]),
        actor=manager,
        impact="high",
        urgency="high",
    )
    public_incident_link(public_incident=face, actor=manager, incidents=[later])
    assert len(customer_side()) == 6  # the three publications and the three digests


def test_linking_an_incident_of_another_organisation_tells_its_contacts(
    world, manager, customer, other_customer
):
    own = ServiceFactory(slug="netz", name="Netzportal")
    own.customers.add(customer)
    first = incident_classify(
        incident=IncidentFactory(services=[own]), actor=manager, impact="high", urgency="high"
    )
    face = public_incident_publish(actor=manager, incidents=[first])
    assert {n.address for n in customer_side()} == {"carl.contact@example.org"}
    public_incident_link(public_incident=face, actor=manager, incidents=[world["incident"]])
    assert sorted(n.address for n in customer_side()) == [
        "carl.contact@example.org",  # once: told when it was published
        "leser@example.org",
        "olga.other@example.org",
    ]


def test_the_all_clear_arrives_by_mail_in_each_language(world, manager, smtp_server):
    """Delivered through the real SMTP transport (aiosmtpd): the contact's German all-clear and
    the subscriber's English one, with the subscriber's one-click unsubscribe."""
    from notifications.tasks import deliver

    face = public_incident_publish(
        actor=manager, incidents=[world["incident"]], title="E-Rechnung verzögert",
        title_en="E-invoicing delayed",
    )  # fmt: skip
    public_incident_resolve(public_incident=face, actor=manager)
    for message in Notification.objects.filter(template="customer_all_clear"):
        assert deliver(message.pk) == "sent"
    mails = {mail["To"]: mail for mail in smtp_server.messages}
    german = mails["carl.contact@example.org"]
    assert german["Subject"] == "Behoben: E-Rechnung verzögert"
    assert "Entwarnung" in german.get_body(("plain",)).get_content()
    english = mails["leser@example.org"]
    assert english["Subject"] == "Resolved: E-invoicing delayed"
    assert "All clear" in english.get_body(("plain",)).get_content()
    assert english["List-Unsubscribe"]
    for mail in (german, english):
        assert "Logistik" not in mail.get_body(("plain",)).get_content()


def test_a_published_standard_title_is_named_once_in_the_subject(world, manager, smtp_server):
    """The standard title already says what it is ("Störung: E-Rechnung"); the subject adds the
    public status, not a second "Störung:" (seen in the demo's mailbox)."""
    from notifications.tasks import deliver

    public_incident_publish(actor=manager, incidents=[world["incident"]])
    for message in Notification.objects.filter(template="customer_update"):
        assert deliver(message.pk) == "sent"
    subjects = {mail["To"]: mail["Subject"] for mail in smtp_server.messages}
    assert subjects["carl.contact@example.org"] == "Störung: E-Rechnung – Wird untersucht"
    assert subjects["leser@example.org"] == "Disruption: E-Rechnung – Investigating"


@pytest.mark.parametrize("default_language", ["de", "en"])
def test_a_reopened_incident_tells_those_who_had_the_all_clear_that_it_is_back(
    world, manager, settings, default_language
):
    from escalation.services import incident_reopen

    settings.LANGUAGE_CODE = default_language  # each reader's language, whatever the default
    # Django drops its cached catalogues when LOCALE_PATHS changes, not LANGUAGE_CODE: without
    # this a catalogue cached under the other default (its fallback included) would be reused.
    settings.LOCALE_PATHS = [*settings.LOCALE_PATHS]

    incident = world["incident"]
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        face = public_incident_publish(
            actor=manager, incidents=[incident], title="E-Rechnung gestört"
        )
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        incident_resolve(incident=incident, actor=manager, resolution="Zertifikat erneuert")
    face.refresh_from_db()
    assert face.status == PublicStatus.RESOLVED
    told = {n.address for n in customer_side() if n.template == "customer_all_clear"}
    assert told == {"carl.contact@example.org", "olga.other@example.org", "leser@example.org"}
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        incident_reopen(incident=incident, actor=manager, reason="Fehler wieder da")
    face.refresh_from_db()
    assert face.status == PublicStatus.INVESTIGATING and face.resolved_at is None
    back = [
        n
        for n in customer_side()
        if n.template == "customer_update" and n.created_at == T0 + timedelta(hours=2)
    ]
    assert {n.address for n in back} == told  # everyone who had the all-clear hears it is back
    assert {n.language for n in back} == {"de", "en"}
    english = next(n for n in back if n.address == "leser@example.org")
    assert "occurred again" in english.context["latest_update"]
    german = next(n for n in back if n.address == "carl.contact@example.org")
    assert german.context["latest_update"].startswith("Die Störung ist erneut aufgetreten.")
    assert english.context["next_update_at"]  # and the next update is promised again
    kinds = IncidentEvent.objects.filter(incident=incident).values_list("kind", flat=True)
    assert list(kinds).count("public_update") == 1
    # A second reopen of an open face changes nothing.
    assert public_face_reopen(incident=incident) is None


def _two_faces(world, manager):
    """The world's incident under two open public faces: its own (first) and one published for
    another incident that it was then linked to (second), published at the same instant."""
    incident = world["incident"]
    other = IncidentFactory(services=[world["portal"]], title="Zweiter Alarm")
    with time_machine.travel(at(5), tick=False):
        first = public_incident_publish(actor=manager, incidents=[incident], title="Erste")
        second = public_incident_publish(actor=manager, incidents=[other], title="Zweite")
        public_incident_link(public_incident=second, actor=manager, incidents=[incident])
    return incident, other, first, second


def test_of_two_open_faces_the_newest_published_is_the_incidents_face(world, manager):
    incident, _other, first, second = _two_faces(world, manager)
    assert public_face_of(incident) == second  # published at the same instant: the newer row
    PublicIncident.objects.filter(pk=first.pk).update(published_at=at(6))
    assert public_face_of(incident) == first  # published later, though the older row


def test_reopening_opens_the_face_that_gave_the_all_clear_last(world, manager):
    from escalation.services import incident_reopen

    incident, other, first, second = _two_faces(world, manager)
    with time_machine.travel(at(10), tick=False):
        public_incident_resolve(public_incident=second, actor=manager)
    with time_machine.travel(at(20), tick=False):
        incident_resolve(incident=incident, actor=manager, resolution="Zertifikat")
    first.refresh_from_db()
    assert first.resolved_at == at(20)
    with time_machine.travel(at(30), tick=False):
        incident_reopen(incident=incident, actor=manager, reason="wieder da")
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("investigating", "resolved")


def test_faces_resolved_at_one_instant_reopen_the_newer(world, manager):
    from escalation.services import incident_reopen

    incident, other, first, second = _two_faces(world, manager)
    incident_resolve(incident=other, actor=manager, resolution="Fehlalarm")
    with time_machine.travel(at(20), tick=False):
        incident_resolve(incident=incident, actor=manager, resolution="Zertifikat")
    first.refresh_from_db(), second.refresh_from_db()
    assert first.resolved_at == second.resolved_at == at(20)  # both all-clears at once
    with time_machine.travel(at(30), tick=False):
        incident_reopen(incident=incident, actor=manager, reason="wieder da")
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("resolved", "investigating")


def test_resolve_if_done_gives_the_all_clear_only_where_every_incident_is_resolved(world, manager):
    incident, other, first, second = _two_faces(world, manager)
    public_incident_resolve(public_incident=second, actor=manager)  # resolved before
    Incident.objects.filter(pk=incident.pk).update(state="resolved")
    incident.refresh_from_db()
    assert public_faces_resolve_if_done(incident=incident, actor=None) == [first.pk]
    first.refresh_from_db()
    assert first.status == "resolved"
    assert public_faces_resolve_if_done(incident=incident, actor=None) == []


def test_subscriber_scopes_of_a_face_in_one_query_per_kind(
    world, manager, django_assert_num_queries
):
    """Services (with their groups, in the same query), then the covered incidents' customers;
    a private service's name is never a scope."""
    group = ServiceGroupFactory(slug="portale", name="Portale")
    grouped = [ServiceFactory(slug=f"portal-{n}", group=group) for n in (1, 2)]
    hidden = ServiceFactory(
        slug="backup", is_private=True, group=ServiceGroupFactory(slug="intern")
    )
    face = public_incident_publish(
        actor=manager, incidents=[world["incident"]], services=[world["portal"], *grouped, hidden]
    )
    customers = sorted(c.slug for c in world["incident"].customers.all())
    assert customers  # the world's incident concerns organisations
    with django_assert_num_queries(3):  # services, incidents, the incident's customers
        scopes = _scopes(face)
    assert sorted(scopes[:3]) == ["service:e-rechnung", "service:portal-1", "service:portal-2"]
    groups = sorted({"portale", world["portal"].group.slug})  # not the private one's "intern"
    assert scopes[3:] == [*[f"group:{g}" for g in groups], *[f"customer:{c}" for c in customers]]
