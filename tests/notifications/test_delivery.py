"""Delivery through real servers on 127.0.0.1: SMTP (aiosmtpd), webhooks and Apprise (a local HTTP
receiver). Retries, permanent failures, dead letters, the sweep, and duplicate enqueues."""

import hashlib
import hmac
import json
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from escalation.services import incident_classify
from incidents.models import IncidentEvent
from notifications.models import Notification
from notifications.services import (
    backoff,
    notification_claim,
    notification_enqueue,
    notifications_sweep,
)
from notifications.tasks import deliver
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(manager):
    """A real page (from a real escalation) for the manager, in German, pending in the outbox."""
    incident_classify(
        incident=IncidentFactory(title="Kundenportal down"),
        actor=manager,
        impact="high",
        urgency="high",
    )
    return Notification.objects.get(template="page", recipient=manager)


def enqueue(**kwargs) -> Notification:
    with transaction.atomic():
        notification, _ = notification_enqueue(
            **{
                "dedup_key": "test:1",
                "channel": "webhook",
                "address": "http://127.0.0.1:9/",
                "template": "page",
                "context": {"title": "x"},
                "signing_secret": "whsec_test",
                **kwargs,
            }
        )
    return notification


def test_email_arrives_with_message_id_language_and_both_parts(smtp_server, page):
    assert deliver(page.pk) == "sent"
    [mail] = smtp_server.messages
    assert mail["Message-ID"] == f"<{page.delivery_id}@localhost>"
    assert mail["X-Escalation-Delivery"] == str(page.delivery_id)
    assert mail["Content-Language"] == "de" and mail["To"] == page.address
    assert "Kundenportal down" in mail["Subject"]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert page.context["ack_url"] in text and page.context["ack_url"] in html
    assert "quittieren" in text.lower()  # German: the manager's language
    page.refresh_from_db()
    assert page.status == "sent" and page.sent_at and page.attempts == 1


@pytest.mark.parametrize(
    ("moment", "offset"),
    [("2026-01-15T09:30:00+00:00", "+0100"), ("2026-07-15T09:30:00+00:00", "+0200")],
)
def test_the_date_header_is_the_sending_time_in_the_installations_zone(
    smtp_server, manager, moment, offset
):
    """Parsed by Python's email parser from what the SMTP server received: Berlin's offset
    (winter and summer), the same instant as the sending time."""
    sent_at = datetime.fromisoformat(moment)
    with time_machine.travel(sent_at, tick=True):
        incident_classify(incident=IncidentFactory(), actor=manager, impact="high", urgency="high")
        assert deliver(Notification.objects.get(template="page").pk) == "sent"
    [mail] = smtp_server.messages
    assert mail["Date"].endswith(f" {offset}")
    date = mail["Date"].datetime
    assert date.utcoffset() == timedelta(hours=int(offset[1:3]))
    assert timedelta(0) <= date - sent_at < timedelta(minutes=1)


def test_english_recipient_gets_english(smtp_server, manager):
    manager.language = "en"
    manager.save()
    incident = incident_classify(
        incident=IncidentFactory(), actor=manager, impact="high", urgency="high"
    )
    page = Notification.objects.get(template="page", subject=f"incident:{incident.pk}")
    deliver(page.pk)
    text = smtp_server.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "acknowledge" in text.lower() and "quittieren" not in text.lower()


def test_smtp_refusal_is_permanent_and_alerts_the_manager(smtp_server, page, manager, responder):
    responder.groups.add(*manager.groups.all())  # a second escalation manager to alert
    smtp_server.reply = "550 5.1.1 mailbox unknown"
    assert deliver(page.pk) == "dead"
    page.refresh_from_db()
    assert page.status == "dead" and "550" in page.last_error
    dead = IncidentEvent.objects.get(kind="delivery_dead")
    assert dead.data["to"] == page.address and "550" in dead.data["error"]
    alert = Notification.objects.get(template="notification_dead")
    assert alert.recipient == responder and alert.context["failed_address"] == page.address


def test_temporary_smtp_failure_is_retried_with_backoff(smtp_server, page):
    smtp_server.reply = "451 4.3.0 try again later"
    assert deliver(page.pk) == "failed"
    page.refresh_from_db()
    assert page.status == "failed" and page.next_attempt_at > timezone.now()
    assert IncidentEvent.objects.filter(kind="delivery_failed").count() == 1
    assert deliver(page.pk) == "skipped"  # not due yet
    smtp_server.reply = None
    with time_machine.travel(page.next_attempt_at + timedelta(seconds=1)):
        assert notifications_sweep() == [page.pk]
        assert deliver(page.pk) == "sent"
    assert len(smtp_server.messages) == 1


def test_webhook_is_signed_and_carries_the_delivery_id(http_receiver):
    notification = enqueue(
        address=f"{http_receiver.url}/hook", context={"title": "Portal"}, signing_secret="s3cret"
    )
    assert deliver(notification.pk) == "sent"
    [request] = http_receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["X-Escalation-Delivery"] == str(notification.delivery_id)
    expected = hmac.new(
        b"s3cret", headers["X-Escalation-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Escalation-Signature"] == f"v1={expected}"
    payload = json.loads(body)
    assert payload["id"] == str(notification.delivery_id) and payload["data"] == {"title": "Portal"}


def test_webhook_retries_on_500_then_succeeds(http_receiver):
    http_receiver.statuses = [500, 503]
    notification = enqueue(address=f"{http_receiver.url}/hook")
    moment = timezone.now()
    for expected in ("failed", "failed", "sent"):
        with time_machine.travel(moment):
            assert deliver(notification.pk) == expected
        notification.refresh_from_db()
        moment = notification.next_attempt_at + timedelta(seconds=1)
    assert len(http_receiver.requests) == 3
    ids = {r["headers"]["X-Escalation-Delivery"] for r in http_receiver.requests}
    assert ids == {str(notification.delivery_id)}  # the same id each time: receivers can dedupe
    assert notification.attempts == 3


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(400, "dead"), (404, "dead"), (410, "dead"), (408, "failed"), (429, "failed")],
)
def test_webhook_4xx_is_permanent_except_408_and_429(http_receiver, status, outcome):
    http_receiver.statuses = [status]
    notification = enqueue(address=f"{http_receiver.url}/hook")
    assert deliver(notification.pk) == outcome


def test_unreachable_webhook_is_retried_until_dead(settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    from tests.servers import free_port

    notification = enqueue(address=f"http://127.0.0.1:{free_port()}/nobody")
    moment = timezone.now()
    outcomes = []
    for _ in range(3):
        with time_machine.travel(moment):
            outcomes.append(deliver(notification.pk))
        notification.refresh_from_db()
        moment = notification.next_attempt_at + timedelta(seconds=1)
    assert outcomes == ["failed", "failed", "dead"]
    assert "ConnectError" in notification.last_error


def test_apprise_url_delivers_the_chat_text(http_receiver, page):
    chat = enqueue(
        channel="apprise",
        address=f"json://{http_receiver.url.removeprefix('http://')}/chat",
        template="page",
        context=page.context,
        dedup_key="chat:1",
    )
    assert deliver(chat.pk) == "sent"
    [request] = http_receiver.requests
    body = json.loads(request["body"])
    assert "Kundenportal down" in body["message"] or "Kundenportal down" in body["title"]


@pytest.mark.parametrize(
    ("template", "change", "expected"),
    [
        ("page", {"priority": 1}, "failure"),
        ("page", {"priority": 2}, "warning"),
        ("page", {"priority": 3}, "info"),
        ("incident_escalated", {"priority": 1}, "failure"),
        ("internal_update", {"priority": 1}, "info"),  # an update is no page
        ("internal_update", {"priority": 1, "event": "resolved"}, "success"),
        ("customer_all_clear", {"priority": None}, "success"),
    ],
)
def test_apprise_notification_type_follows_priority_and_resolution(
    http_receiver, page, template, change, expected
):
    """The `type` Apprise's json:// sends, as a real HTTP receiver on 127.0.0.1 gets it."""
    chat = enqueue(
        channel="apprise",
        address=f"json://{http_receiver.url.removeprefix('http://')}/chat",
        template=template,
        context={**page.context, **change},
        dedup_key="chat:type",
    )
    assert deliver(chat.pk) == "sent"
    [request] = http_receiver.requests
    assert json.loads(request["body"])["type"] == expected


def test_invalid_apprise_url_is_permanent():
    chat = enqueue(channel="apprise", address="nonsense-without-scheme")
    assert deliver(chat.pk) == "dead"


def test_duplicate_enqueue_makes_one_message(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = enqueue(dedup_key="same")
        second = enqueue(dedup_key="same")
    assert first.pk == second.pk
    assert Notification.objects.filter(dedup_key="same").count() == 1
    assert len(callbacks) == 1  # handed to Celery once, after commit


def test_a_claimed_row_cannot_be_claimed_again():  # concurrency: test_cancel_and_claim.py
    notification = enqueue()
    now = timezone.now()
    assert notification_claim(notification_id=notification.pk, now=now) is True
    assert notification_claim(notification_id=notification.pk, now=now) is False


def test_worker_killed_between_claim_and_send_is_swept_and_delivered(settings, http_receiver):
    notification = enqueue(address=f"{http_receiver.url}/hook")
    start = timezone.now()
    assert notification_claim(notification_id=notification.pk, now=start)  # ... and it dies
    with time_machine.travel(start + timedelta(seconds=30)):
        assert notifications_sweep() == []  # still leased
    with time_machine.travel(start + timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS + 1)):
        assert notifications_sweep() == [notification.pk]
        assert deliver(notification.pk) == "sent"
    assert len(http_receiver.requests) == 1


def test_lost_hand_off_is_requeued_by_the_sweep():
    notification = enqueue()
    assert notifications_sweep() == []  # just written: its after-commit hand-off is on its way
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert notifications_sweep() == [notification.pk]


def test_backoff_grows_exponentially_with_jitter_and_is_capped(settings):
    settings.NOTIFICATION_BACKOFF_SECONDS = 30
    for attempt, base in [(1, 30), (2, 60), (3, 120), (6, 960)]:
        for _ in range(20):
            assert base * 0.5 <= backoff(attempt).total_seconds() <= base * 1.5
    assert backoff(30).total_seconds() <= settings.NOTIFICATION_BACKOFF_MAX_SECONDS * 1.5


def test_unknown_template_is_a_permanent_failure(db):
    notification = enqueue(channel="email", address="x@example.org", template="no_such_template")
    assert deliver(notification.pk) == "dead"
    notification.refresh_from_db()
    assert "cannot render" in notification.last_error


def test_delivery_needs_no_incident(smtp_server):
    user = UserFactory(username="solo", language="en")
    notification = enqueue(
        channel="email",
        address="solo@example.org",
        recipient=user,
        template="subscription_confirm",
        language="en",
        context={"confirm_url": "http://x/confirm", "scope_name": "Portal", "recipient_name": ""},
    )
    assert deliver(notification.pk) == "sent"
    assert "http://x/confirm" in smtp_server.messages[0].get_body(("plain",)).get_content()
