"""The post-incident review: drafted from the record, edited, submitted, approved by a second
person (four eyes), then frozen; closing an escalated incident needs it approved."""

import pytest
from django.contrib.auth.models import Group

from escalation import roles
from escalation.reviews.models import Review
from escalation.reviews.services import (
    FourEyes,
    ReviewStateError,
    review_approve,
    review_draft,
    review_edit,
    review_send_back,
    review_submit,
)
from escalation.services import incident_close, incident_resolve
from incidents.exceptions import PermissionDenied, TransitionNotAllowed
from incidents.models import IncidentEvent, State
from tests.factories import IncidentFactory, UserFactory, drive

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_manager(db):
    user = UserFactory(username="otto.zweit", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.ESCALATION_MANAGER))
    return user


def escalated_and_resolved(manager):
    incident = drive(IncidentFactory(), State.WORKAROUND, actor=manager)
    return incident_resolve(incident=incident, actor=manager, resolution="Netzteil getauscht")


def test_draft_edit_submit_approve_then_frozen(manager, second_manager):
    incident = escalated_and_resolved(manager)
    review = review_draft(incident=incident, actor=manager)
    assert review.state == Review.State.DRAFT and incident.title in review.summary
    assert review.key_moments  # proposed from the timeline (created, classified, ...)
    seqs = list(incident.events.values_list("seq", flat=True)[:2])
    review = review_edit(
        review=review, actor=manager, root_cause="Netzteil ohne Redundanz", key_moments=seqs
    )
    assert review.key_moments == sorted(seqs)
    review = review_submit(review=review, actor=manager)
    with pytest.raises(FourEyes):
        review_approve(review=review, actor=manager)  # the author may not approve
    review = review_approve(review=review, actor=second_manager)
    assert review.state == Review.State.APPROVED and review.approved_by == second_manager
    figures = review.figures
    assert figures["time_to_restore"] >= figures["time_to_workaround"] >= 0
    assert set(figures["messages"]) == {"pages", "team", "executives", "customers"}
    with pytest.raises(ReviewStateError):
        review_edit(review=review, actor=second_manager, summary="anders")
    kinds = list(incident.events.order_by("seq").values_list("kind", flat=True))
    assert [k for k in kinds if k.startswith("review_")] == [
        "review_drafted",
        "review_submitted",
        "review_approved",
    ]


def test_submit_needs_root_cause_and_send_back_returns_a_draft(manager, second_manager):
    review = review_draft(incident=escalated_and_resolved(manager), actor=manager)
    from incidents.exceptions import InvalidInput

    with pytest.raises(InvalidInput):
        review_submit(review=review, actor=manager)
    review_edit(review=review, actor=manager, root_cause="Update ohne Test")
    review = review_submit(review=review, actor=manager)
    review = review_send_back(review=review, actor=second_manager, reason="Ursache zu knapp")
    assert review.state == Review.State.DRAFT and review.return_reason == "Ursache zu knapp"


def test_responders_and_executives_may_not_write(manager, responder, executive):
    incident = escalated_and_resolved(manager)
    for person in (responder, executive):
        with pytest.raises(PermissionDenied):
            review_draft(incident=incident, actor=person)


def test_an_escalated_incident_closes_only_with_an_approved_review(manager, second_manager):
    incident = escalated_and_resolved(manager)
    events = IncidentEvent.objects.filter(incident=incident).count()
    with pytest.raises(TransitionNotAllowed, match="post-incident review is not approved"):
        incident_close(incident=incident, actor=manager, review="Abschluss")
    assert IncidentEvent.objects.filter(incident=incident).count() == events
    review = review_draft(incident=incident, actor=manager)
    review_edit(review=review, actor=manager, root_cause="Netzteil")
    review = review_submit(review=review, actor=manager)
    with pytest.raises(TransitionNotAllowed):
        incident_close(incident=incident, actor=manager, review="Abschluss")  # not approved yet
    review_approve(review=review, actor=second_manager)
    closed = incident_close(incident=incident, actor=manager, review="Abschluss")
    assert closed.state == State.CLOSED


def test_a_never_escalated_incident_closes_without_a_review(manager):
    incident = incident_resolve(incident=IncidentFactory(), actor=manager, resolution="Fehlalarm")
    assert incident_close(incident=incident, actor=manager).state == State.CLOSED


def test_dossier_and_handbook_sections(manager):
    from datetime import UTC, datetime

    from escalation import hooks
    from tests.factories import review_approved

    incident = escalated_and_resolved(manager)
    review_approved(incident)
    sections = [s for section in hooks.dossier_sections if (s := section(incident))]
    ours = next(s for s in sections if s["key"] == "reviews")
    assert ours["items"][0]["review"]["state"] == "approved"
    assert ours["items"][0]["review"]["root_cause"] == "Netzteil ohne Redundanz"
    handbook = [s for section in hooks.handbook_sections if (s := section(datetime.now(UTC)))]
    assert "four eyes" in next(s for s in handbook if s["key"] == "reviews")["html"]


def test_console_edit_submit_and_approve(client, manager, second_manager, responder):
    from django.urls import reverse

    incident = escalated_and_resolved(manager)  # resolving drafted the review
    url = reverse("reviews:review", args=[incident.pk])
    client.force_login(manager)
    page = client.get(url)
    assert page.status_code == 200 and 'name="root_cause"' in page.content.decode()
    # the key moments to choose read as the timeline's sentences, not as codes (issue #21)
    assert "escalation_started" not in page.content.decode()
    assert "Escalation started" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    seq = incident.events.order_by("seq").first().seq
    saved = client.post(url, {"summary": "Netzteil", "root_cause": "Alt", "key_moments": [seq]})
    assert saved.status_code == 302
    assert client.post(reverse("reviews:submit", args=[incident.pk])).status_code == 302
    client.post(reverse("reviews:approve", args=[incident.pk]))  # the author: refused
    assert Review.objects.get(incident=incident).state == Review.State.SUBMITTED
    client.force_login(responder)
    assert client.post(reverse("reviews:approve", args=[incident.pk])).status_code == 403
    client.force_login(second_manager)
    client.post(reverse("reviews:approve", args=[incident.pk]))
    review = Review.objects.get(incident=incident)
    assert review.state == Review.State.APPROVED and review.key_moments == [seq]
    page = client.get(url).content.decode()
    assert 'name="root_cause"' not in page  # frozen: no form
