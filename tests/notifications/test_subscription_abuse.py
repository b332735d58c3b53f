"""Anonymous subscriptions cannot be turned against others (issue 15, High 1): a webhook from
/subscribe/ waits for an administrator's approval before anything is POSTed to it, confirmation
requests are throttled per address and per client (a calm 429 with a form error, never a 500),
and the portal's form applies the outbound URL policy."""

import pytest
from django.contrib.auth import get_user_model

from notifications.models import Notification, Subscription
from notifications.services import subscription_confirm, subscription_links, subscription_token
from notifications.tasks import deliver
from tests.escalation.test_signing_secrets import verifies
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def portal(db):
    return ServiceFactory(slug="portal", name="Kundenportal", is_private=False)


def subscribe(client, **data):
    """POST /subscribe/; upper-case keywords are request headers (REMOTE_ADDR, HTTP_...)."""
    meta = {key: data.pop(key) for key in list(data) if key.isupper()}
    form = {"channel": "email", "address": "leser@example.org", "scope": "service:portal"}
    return client.post("/subscribe/", {**form, "language": "en", **data}, **meta)


def test_an_anonymous_webhook_waits_for_approval(client, portal, http_receiver):
    response = subscribe(client, channel="webhook", address=f"{http_receiver.url}/hook")
    assert response.status_code == 200
    assert "reviewed by an administrator" in response.content.decode()
    subscription = Subscription.objects.get()
    assert subscription.needs_approval and subscription.client_address == "127.0.0.1"
    assert not Notification.objects.exists()  # nothing goes to the URL before approval
    subscription_confirm(token=subscription_token(subscription))  # a leaked link cannot skip it
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None

    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(root)
    response = client.post(
        "/admin/notifications/subscription/",
        {"action": "approve", "_selected_action": [subscription.pk]},
        follow=True,
    )
    assert response.status_code == 200
    client.logout()
    confirm = Notification.objects.get(template="subscription_confirm")
    assert deliver(confirm.pk) == "sent"
    [request] = http_receiver.requests
    subscription.refresh_from_db()
    assert verifies(subscription.secret, request)  # signed with the subscription's own secret

    path = subscription_links(subscription)["confirm_url"].removeprefix("http://127.0.0.1:8000")
    page = client.post(path).content.decode()
    assert "confirmed" in page and subscription.secret in page  # shown once, on confirming
    assert subscription.secret not in client.post(path).content.decode()


def test_approving_twice_sends_one_confirmation(client, portal, http_receiver):
    from notifications.services import subscription_approve

    subscribe(client, channel="webhook", address=f"{http_receiver.url}/hook")
    subscription = Subscription.objects.get()
    subscription_approve(subscription=subscription)
    subscription_approve(subscription=subscription)
    assert Notification.objects.filter(template="subscription_confirm").count() == 1


def test_email_needs_no_approval(client, portal):
    subscribe(client)
    assert not Subscription.objects.get().needs_approval
    assert Notification.objects.filter(template="subscription_confirm").count() == 1


def test_confirmations_are_throttled_per_address(client, portal, settings):
    settings.SUBSCRIBE_PER_ADDRESS_HOUR = 3
    others = [ServiceFactory(slug=f"s{i}", is_private=False) for i in range(4)]
    for service in others[:3]:
        assert subscribe(client, scope=f"service:{service.slug}").status_code == 200
    response = subscribe(client, scope=f"service:{others[3].slug}", REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert "Too many subscription requests" in response.content.decode()
    assert Notification.objects.filter(template="subscription_confirm").count() == 3
    assert subscribe(client, address="other@example.org").status_code == 200


def test_confirmations_are_throttled_per_client(client, portal, settings):
    settings.SUBSCRIBE_PER_CLIENT_HOUR = 5
    for i in range(5):
        assert subscribe(client, address=f"victim{i}@example.org").status_code == 200
    response = subscribe(client, address="victim5@example.org")
    assert response.status_code == 429
    assert Notification.objects.filter(template="subscription_confirm").count() == 5
    other_client = subscribe(client, address="victim6@example.org", REMOTE_ADDR="192.0.2.7")
    assert other_client.status_code == 200


def test_the_throttle_answers_in_german_too(client, portal, settings):
    settings.SUBSCRIBE_PER_ADDRESS_HOUR = 0
    response = subscribe(client, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 429
    assert "Zu viele Abonnement-Anfragen" in response.content.decode()


def test_the_portal_applies_the_outbound_url_policy(client, customer_contact, settings):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    client.force_login(customer_contact)
    response = client.post(
        "/portal/subscriptions/",
        {
            "channel": "webhook",
            "address": "http://169.254.169.254/latest/meta-data/",
            "scope": f"customer:{customer_contact.customer.slug}",
            "language": "en",
        },
    )
    assert response.status_code == 200
    assert "otherwise internal network" in response.content.decode()
    assert not Subscription.objects.exists() and not Notification.objects.exists()


def test_the_portal_is_throttled_too(client, customer_contact, settings):
    settings.SUBSCRIBE_PER_CLIENT_HOUR = 0
    client.force_login(customer_contact)
    response = client.post(
        "/portal/subscriptions/",
        {
            "channel": "email",
            "address": "team@example.org",
            "scope": f"customer:{customer_contact.customer.slug}",
            "language": "en",
        },
    )
    assert response.status_code == 429
    assert not Notification.objects.exists()


def test_webhook_subscribers_get_updates_signed_with_their_own_secret(
    portal, manager, customer, http_receiver
):
    from escalation.models import CommunicationRule
    from escalation.services import incident_classify
    from tests.factories import IncidentFactory

    portal.customers.add(customer)
    confirmed = {"scope": "service:portal", "confirmed_at": "2026-11-01T00:00:00Z"}
    approved = Subscription.objects.create(
        channel="webhook", address=f"{http_receiver.url}/a", **confirmed
    )
    Subscription.objects.create(  # confirmed by a leaked link, never approved: gets nothing
        channel="webhook", address=f"{http_receiver.url}/b", needs_approval=True, **confirmed
    )
    CommunicationRule.objects.create(
        priority=1, audience="customers", channels=["email"], cadence_minutes=30,
        template="customer_update", auto_publish=True,  # customers hear through a public face
    )  # fmt: skip
    incident_classify(
        incident=IncidentFactory(services=[portal]), actor=manager, impact="high", urgency="high"
    )
    [message] = Notification.objects.filter(channel="webhook")
    assert message.address == approved.address
    assert deliver(message.pk) == "sent"
    [request] = http_receiver.requests
    assert verifies(approved.secret, request)
