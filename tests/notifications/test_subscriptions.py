"""Self-service subscriptions: double opt-in, signed one-click unsubscribe and preference links,
and subscribers receiving exactly what customers receive."""

import pytest
from django.core import signing

from escalation.models import CommunicationRule
from escalation.services import incident_classify
from escalation.services.public import public_incident_publish
from notifications.models import Notification, Subscription
from notifications.services import subscription_links, subscription_token
from notifications.tasks import deliver
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def portal(db):
    return ServiceFactory(slug="portal", name="Kundenportal")


def subscribe(client, **data):
    return client.post(
        "/subscribe/",
        {
            "channel": "email",
            "address": "leser@example.org",
            "scope": "service:portal",
            "language": "de",
            **data,
        },
    )


def test_double_opt_in(client, portal, smtp_server):
    response = subscribe(client)
    assert response.status_code == 200 and "we sent a confirmation" in response.content.decode()
    subscription = Subscription.objects.get()
    assert subscription.confirmed_at is None and subscription.scope_label == "Kundenportal"
    confirm = Notification.objects.get(template="subscription_confirm")
    assert deliver(confirm.pk) == "sent"
    body = smtp_server.messages[0].get_body(("plain",)).get_content()
    url = subscription_links(subscription)["confirm_url"]
    assert url in body
    path = url.removeprefix("http://127.0.0.1:8000")
    assert client.get(path).status_code == 200  # a mail scanner opening it confirms nothing
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None
    assert client.post(path).status_code == 200
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None


def test_an_internationalised_domain_subscribes_and_its_mail_arrives_in_punycode(
    client, portal, smtp_server
):
    """kunde@müller-logistik.de: accepted as typed; the real SMTP server gets the envelope
    recipient and the To header with the domain in punycode (ASCII, as every server takes it)."""
    assert subscribe(client, address="kunde@müller-logistik.de").status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.address == "kunde@müller-logistik.de"
    confirm = Notification.objects.get(template="subscription_confirm")
    assert deliver(confirm.pk) == "sent"
    assert smtp_server.recipients == [["kunde@xn--mller-logistik-gsb.de"]]
    [mail] = smtp_server.messages
    assert mail["To"] == "kunde@xn--mller-logistik-gsb.de"
    assert (
        subscription_links(subscription)["confirm_url"] in mail.get_body(("plain",)).get_content()
    )


def test_letters_before_the_at_subscribe_and_their_mail_arrives_with_smtputf8(
    client, portal, smtp_utf8_server
):
    """jürgen@müller-logistik.de: accepted as typed, sent with SMTPUTF8 (RFC 6531) to a server
    that offers it: the envelope and the To header carry the address in UTF-8 as it is, and
    Python's email parser reads it back unchanged."""
    assert subscribe(client, address="jürgen@müller-logistik.de").status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.address == "jürgen@müller-logistik.de"
    confirm = Notification.objects.get(template="subscription_confirm")
    assert deliver(confirm.pk) == "sent"
    assert smtp_utf8_server.recipients == [["jürgen@müller-logistik.de"]]
    [mail] = smtp_utf8_server.messages
    assert mail["To"] == "jürgen@müller-logistik.de"
    assert mail["To"].addresses[0].username == "jürgen"
    assert "Bestätigen" in mail["Subject"] or "bestätigen" in mail["Subject"].lower()
    body = mail.get_body(("plain",)).get_content()
    assert subscription_links(subscription)["confirm_url"] in body


def test_a_server_without_smtputf8_refuses_such_an_address_for_good(client, portal, smtp_server):
    """Not mangled into an encoded word nobody receives: a permanent failure with the reason."""
    assert subscribe(client, address="jürgen@müller-logistik.de").status_code == 200
    confirm = Notification.objects.get(template="subscription_confirm")
    assert deliver(confirm.pk) == "dead"
    confirm.refresh_from_db()
    assert "SMTPUTF8" in confirm.last_error
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    ("language", "error"),
    [
        ("en", "Enter a valid email address or http(s) URL."),
        ("de", "Geben Sie eine gültige E-Mail-Adresse oder http(s)-URL ein."),
    ],
)
@pytest.mark.parametrize(
    "address", ["jür gen@example.org", "jürgen.@example.org", "jü..rgen@example.org",
                "jürgen@müller", "ü" * 33 + "@example.org"],
)  # fmt: skip
def test_a_malformed_address_with_letters_before_the_at_gets_a_form_error(
    client, portal, language, error, address
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    response = subscribe(client, address=address)
    assert response.status_code == 200 and error in response.content.decode()
    assert not Subscription.objects.exists() and not Notification.objects.exists()


def test_contact_methods_and_subscriptions_in_the_admin_follow_the_same_rule(manager):
    from django.core.exceptions import ValidationError

    from escalation.models import ContactMethod

    for model in (
        ContactMethod(user=manager, channel="email", address="kunde@müller-logistik.de"),
        Subscription(channel="email", address="kunde@müller-logistik.de", scope="service:x"),
    ):
        model.clean()
        model.address = "jürgen@example.org"
        model.clean()  # sent with SMTPUTF8
        model.address = "jür gen@example.org"
        with pytest.raises(ValidationError, match="valid email address"):
            model.clean()


def test_bad_input_gets_field_errors_and_writes_nothing(client, portal):
    for data in (
        {"address": "not-an-email"},
        {"channel": "webhook", "address": "ftp://x"},
        {"scope": "service:does-not-exist"},
        {"channel": "sms"},
    ):
        response = subscribe(client, **data)
        assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert not Subscription.objects.exists() and not Notification.objects.exists()


def test_private_services_cannot_be_subscribed(client, portal):
    ServiceFactory(slug="backup", name="Backup", is_private=True)
    page = client.get("/subscribe/").content.decode()
    assert "Kundenportal" in page and "Backup" not in page
    assert 'role="alert"' in subscribe(client, scope="service:backup").content.decode()


def test_subscribers_get_customer_updates_with_one_click_unsubscribe(
    client, portal, manager, customer, smtp_server
):
    portal.customers.add(customer)
    subscription = Subscription.objects.create(
        channel="email",
        address="leser@example.org",
        scope="service:portal",
        scope_label="Kundenportal",
        language="en",
        confirmed_at="2026-11-01T00:00:00Z",
    )
    CommunicationRule.objects.create(
        priority=1,
        audience="customers",
        channels=["email"],
        cadence_minutes=30,
        template="customer_update",
    )
    incident = incident_classify(
        incident=IncidentFactory(services=[portal]), actor=manager, impact="high", urgency="high"
    )
    assert not Notification.objects.filter(address="leser@example.org").exists()  # not yet public
    public_incident_publish(actor=manager, incidents=[incident])
    message = Notification.objects.get(address="leser@example.org")
    assert message.template == "customer_update" and message.language == "en"
    assert message.context["priority"] is None and message.context["description"] == ""
    assert deliver(message.pk) == "sent"
    mail = smtp_server.messages[0]
    unsubscribe = subscription_links(subscription)["unsubscribe_url"]
    assert mail["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Next update by" in mail.get_body(("plain",)).get_content()
    # RFC 8058: the mail client POSTs without a CSRF token.
    csrf_client = client.__class__(enforce_csrf_checks=True)
    response = csrf_client.post(
        unsubscribe.removeprefix("http://127.0.0.1:8000"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.is_active is False


def test_unconfirmed_or_inactive_subscribers_get_nothing(portal, manager):
    Subscription.objects.create(
        channel="email", address="a@example.org", scope="service:portal", scope_label="Kundenportal"
    )
    Subscription.objects.create(
        channel="email",
        address="b@example.org",
        scope="service:portal",
        scope_label="Kundenportal",
        is_active=False,
        confirmed_at="2026-11-01T00:00:00Z",
    )
    CommunicationRule.objects.create(priority=1, audience="customers", channels=["email"])
    incident_classify(
        incident=IncidentFactory(services=[portal]), actor=manager, impact="high", urgency="high"
    )
    assert not Notification.objects.filter(address__in=["a@example.org", "b@example.org"]).exists()


def test_preference_link_changes_the_language(client, portal):
    subscription = Subscription.objects.create(
        channel="email",
        address="leser@example.org",
        scope="service:portal",
        scope_label="Kundenportal",
        confirmed_at="2026-11-01T00:00:00Z",
    )
    path = f"/subscriptions/{subscription_token(subscription)}/"
    assert client.get(path).status_code == 200
    client.post(path, {"language": "en"})
    subscription.refresh_from_db()
    assert subscription.language == "en"


@pytest.mark.parametrize("token", ["garbage", signing.dumps(1, salt="other-salt")])
def test_tampered_links_are_refused(client, portal, token):
    for path in (
        f"/subscriptions/{token}/",
        f"/subscriptions/{token}/confirm/",
        f"/subscriptions/{token}/unsubscribe/",
    ):
        assert client.get(path).status_code == 404
        assert client.post(path).status_code in (403, 404)


def test_asking_again_resends_the_confirmation(client, portal):
    subscribe(client)
    subscribe(client)
    assert Subscription.objects.count() == 1
    assert Notification.objects.filter(template="subscription_confirm").count() == 1  # same window
