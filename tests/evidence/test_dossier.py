"""The evidence dossier: complete (every timeline entry and message of the incident), its chain
verified by the very script it prints, a tampered copy refused; who may read it."""

import json
import subprocess
import sys

import pytest
from django.contrib.auth.models import Group

from escalation import hooks, roles
from escalation.models import CommunicationRule, EscalationLevel, EscalationPolicy
from escalation.services import incident_acknowledge, incident_classify, incident_resolve
from incidents.models import IncidentEvent
from incidents.services import update_post
from notifications.models import Notification
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(manager, responder, executive, customer):
    """A P1 that pages a responder, informs executives, gets an update, is acknowledged and
    resolved: every kind of evidence a dossier holds."""
    service = ServiceFactory(slug="kundenportal", name="Kundenportal")
    service.customers.add(customer)
    policy = EscalationPolicy.objects.create(name="Kundenportal", repeat=0)
    policy.services.add(service)
    EscalationLevel.objects.create(policy=policy, position=0).users.add(responder)
    rule = CommunicationRule.objects.create(
        audience="executives", group=Group.objects.get(name=roles.EXECUTIVE), channels=["email"]
    )
    assert rule.pk
    incident = IncidentFactory(services=[service], customers=[customer], actor=manager)
    incident = incident_classify(incident=incident, actor=manager, impact="high", urgency="high")
    update_post(incident=incident, actor=manager, audience="internal", body="Netzteil defekt: «ä»")
    incident = incident_acknowledge(incident=incident, actor=responder)
    return incident_resolve(incident=incident, actor=manager, resolution="Netzteil getauscht")


def dossier_of(client, user, incident) -> dict:
    client.force_login(user)
    response = client.get(f"/api/v1/incidents/{incident.pk}/dossier/")
    assert response.status_code == 200, response.content
    return response.json()


def run_script(dossier: dict, tmp_path) -> subprocess.CompletedProcess:
    (tmp_path / "verify_dossier.py").write_text(dossier["timeline"]["script"], encoding="utf-8")
    (tmp_path / "dossier.json").write_text(json.dumps(dossier), encoding="utf-8")
    return subprocess.run(  # noqa: S603 - our own interpreter on the dossier's script
        [sys.executable, "verify_dossier.py", "dossier.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def test_dossier_holds_every_timeline_entry_and_every_message(client, manager, responder, incident):
    dossier = dossier_of(client, manager, incident)

    events = list(IncidentEvent.objects.filter(incident=incident).order_by("seq"))
    assert [(e["seq"], e["hash"]) for e in dossier["timeline"]["entries"]] == [
        (e.seq, e.hash) for e in events
    ]
    messages = Notification.objects.filter(subject=f"incident:{incident.pk}")
    assert {"paged", "executives"} <= {m["audience"] for m in dossier["messages"]}
    assert {m["id"] for m in dossier["messages"]} >= set(messages.values_list("pk", flat=True))
    page = next(m for m in dossier["messages"] if m["audience"] == "paged")
    assert page["recipient"]["username"] == "rolf.responder"
    row = Notification.objects.get(pk=page["id"])
    assert page["status"] == row.status and page["subject"] and page["text"]
    assert "/ack/[…]/" in page["text"] and row.context["ack_url"] not in page["text"]

    assert dossier["incident"]["resolution"] == "Netzteil getauscht"
    decided = [d for d in dossier["decisions"] if d["kind"] == "escalation_decided"]
    assert decided and decided[0]["details"]["required"] is True
    assert [(p["user"]["username"], p["level"]) for p in dossier["pages"]] == [
        ("rolf.responder", 1)
    ]
    assert [a["by"] for a in dossier["acknowledgements"]] == [
        responder.display_name + " (rolf.responder)"
    ]
    assert dossier["timeline"]["verified"] is True and dossier["timeline"]["problem"] is None
    assert "sla" in dossier and dossier["sla"]["incident"] == incident.pk


def test_the_printed_script_confirms_the_chain_and_refuses_a_tampered_copy(
    client, manager, incident, tmp_path
):
    dossier = dossier_of(client, manager, incident)

    intact = run_script(dossier, tmp_path)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert intact.stdout.startswith(f"OK: {len(dossier['timeline']['entries'])} entries")

    edited = json.loads(json.dumps(dossier))
    edited["timeline"]["entries"][2]["data"]["body"] = "nichts passiert"
    assert edited["timeline"]["entries"][2]["data"] != dossier["timeline"]["entries"][2]["data"]
    broken = run_script(edited, tmp_path)
    assert broken.returncode == 1 and "entry #3" in broken.stdout

    dropped = json.loads(json.dumps(dossier))
    dropped["timeline"]["entries"].pop()
    assert run_script(dropped, tmp_path).returncode == 1


def test_nested_apps_sections_are_in_the_dossier(client, manager, incident, monkeypatch):
    def section(inc):
        return {"key": "reviews", "title": "Review", "items": [{"incident": inc.pk}]}

    monkeypatch.setattr(hooks, "dossier_sections", [section, lambda inc: None])
    dossier = dossier_of(client, manager, incident)
    assert dossier["sections"] == [
        {"key": "reviews", "title": "Review", "items": [{"incident": incident.pk}]}
    ]


def test_customers_never_read_a_dossier_executives_do(
    client, incident, customer_contact, executive, django_assert_max_num_queries
):
    client.force_login(customer_contact)
    assert client.get(f"/api/v1/incidents/{incident.pk}/dossier/").status_code == 404
    client.force_login(executive)
    with django_assert_max_num_queries(40):
        assert client.get(f"/api/v1/incidents/{incident.pk}/dossier/").status_code == 200


def test_executives_get_internal_updates_withheld_and_the_chain_still_verifies(
    client, executive, incident, tmp_path
):
    dossier = dossier_of(client, executive, incident)
    body = json.dumps(dossier, ensure_ascii=False)
    assert "Netzteil defekt" not in body
    withheld = [e for e in dossier["timeline"]["entries"] if e.get("withheld")]
    assert [e["kind"] for e in withheld] == ["update_posted"]
    result = run_script(dossier, tmp_path)
    assert result.returncode == 0 and "1 withheld" in result.stdout, result.stdout


def test_dossier_pdf_prints_the_verification_and_the_script(client, manager, incident):
    from io import BytesIO

    from pypdf import PdfReader

    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(manager)
    page = client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert f'href="/console/incidents/{incident.pk}/dossier.pdf"' in page
    response = client.get(f"/console/incidents/{incident.pk}/dossier.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    assert incident.title in text
    assert "hash chain intact" in text and "def verify(timeline):" in text
    assert "Netzteil getauscht" in text and "rolf.responder" in text
    # the decisions as the timeline says them, not as codes and stored data (issue #21)
    assert "classified the incident as" in text and "escalation_decided" not in text


def test_dossier_pdf_is_refused_to_customers_and_unassigned_responders(
    client, manager, incident, customer_contact, responder
):
    other = IncidentFactory(actor=manager)
    client.force_login(customer_contact)
    assert client.get(f"/console/incidents/{incident.pk}/dossier.pdf").status_code == 403
    client.force_login(responder)
    assert client.get(f"/console/incidents/{other.pk}/dossier.pdf").status_code == 404
