"""factory_boy factories. Incidents are created and driven through the services, never saved raw,
so every test incident has a valid timeline."""

import factory
from django.contrib.auth import get_user_model

from escalation.reviews.models import Review
from escalation.reviews.services import (
    review_approve,
    review_draft,
    review_edit,
    review_submit,
)
from escalation.services import (
    incident_classify,
    incident_close,
    incident_escalate,
    incident_provide_workaround,
    incident_resolve,
)
from incidents.models import Customer, Incident, Service, ServiceGroup, State
from incidents.services import incident_create

PASSWORD = "correct-horse-battery-staple"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Kunde {n} GmbH")
    slug = factory.Sequence(lambda n: f"kunde-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class ServiceGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceGroup
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Gruppe {n}")
    slug = factory.Sequence(lambda n: f"gruppe-{n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Dienst {n}")
    slug = factory.Sequence(lambda n: f"dienst-{n}")
    group = factory.SubFactory(ServiceGroupFactory)


class IncidentFactory(factory.Factory):
    """Builds through incident_create, so the 'created' timeline entry exists."""

    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"Störung {n}: Portal nicht erreichbar")
    description = "Kunden melden Zeitüberschreitungen beim Login."
    actor = None
    services = ()
    customers = ()

    @classmethod
    def _create(cls, model_class, *, actor, **kwargs):
        return incident_create(actor=actor, **kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("Incidents exist only through incident_create.")


def review_approved(incident: Incident) -> Review:
    """The incident's post-incident review, drafted, submitted and approved by two people (four
    eyes): what closing an escalated incident requires. The two are superusers without an email
    address, so no rota, question or message of a test ever reaches them."""
    author, approver = (
        UserFactory(username=name, is_staff=True, is_superuser=True, email="")
        for name in ("pia.author", "paul.approver")
    )
    review = review_draft(incident=incident, actor=author)
    if review.state == Review.State.APPROVED:
        return review
    if not review.root_cause:
        review = review_edit(review=review, actor=author, root_cause="Netzteil ohne Redundanz")
    return review_approve(review=review_submit(review=review, actor=author), actor=approver)


def drive(incident: Incident, to: str, *, actor=None) -> Incident:
    """Move an incident along the main path to state `to`, through the services (as `actor`).
    Once resolved, an escalated incident has its post-incident review approved, as closing
    requires (review_approved)."""
    path = [State.CLASSIFIED, State.ESCALATED, State.WORKAROUND, State.RESOLVED, State.CLOSED]
    steps = {
        State.CLASSIFIED: lambda i: incident_classify(
            incident=i,
            actor=actor,
            impact="medium",
            urgency="medium",  # P3: no auto-escalation
        ),
        State.ESCALATED: lambda i: incident_escalate(
            incident=i, actor=actor, reason="Kunde kann nicht arbeiten"
        ),
        State.WORKAROUND: lambda i: incident_provide_workaround(
            incident=i, actor=actor, workaround="Zweites Rechenzentrum übernimmt"
        ),
        State.RESOLVED: lambda i: _resolved_and_reviewed(
            incident_resolve(incident=i, actor=actor, resolution="Netzteil getauscht")
        ),
        State.CLOSED: lambda i: incident_close(
            incident=i, actor=actor, review="Ursache: Netzteil. Maßnahme: redundante Netzteile."
        ),
    }
    if to == State.DETECTED:
        return incident
    for state in path:
        incident = steps[state](incident)
        if state == to:
            break
    assert incident.state == to, (incident.state, to)
    return incident


def _resolved_and_reviewed(incident: Incident) -> Incident:
    if incident.escalated_at is not None:
        review_approved(incident)
        incident.refresh_from_db()
    return incident
