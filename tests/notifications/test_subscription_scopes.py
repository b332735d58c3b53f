"""A subscription can cover several services or a whole component group: one confirmation, one
unsubscribe link; the fan-out reaches it for an incident on any service it covers (a group: its
public services only). The status page links the subscription form."""

import pytest

from escalation.models import CommunicationRule
from escalation.services import incident_classify
from incidents.statuspage.render import render_status_page
from notifications.models import Notification, Subscription
from notifications.services import subscription_confirm, subscription_token
from tests.factories import IncidentFactory, ServiceFactory, ServiceGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def world(db, manager):
    portals = ServiceGroupFactory(slug="portale", name="Portale")
    world = {
        "portal": ServiceFactory(slug="portal", name="Kundenportal", group=portals),
        "shop": ServiceFactory(slug="shop", name="Webshop", group=portals),
        "hidden": ServiceFactory(slug="hidden", name="Backup", group=portals, is_private=True),
        "mail": ServiceFactory(slug="mail", name="Mail"),
    }
    CommunicationRule.objects.create(  # auto-publish: customers hear through a public face
        audience="customers",
        channels=["email"],
        cadence_minutes=30,
        template="customer_update",
        auto_publish=True,
    )
    return world


def subscribe(client, scopes, address="leser@example.org"):
    response = client.post(
        "/subscribe/",
        {"channel": "email", "address": address, "scope": scopes, "language": "en"},
    )
    assert response.status_code == 200 and "we sent a confirmation" in response.content.decode()
    subscription = Subscription.objects.get(address=address)
    subscription_confirm(token=subscription_token(subscription))
    return subscription


def informed(service, manager, address="leser@example.org") -> bool:
    before = Notification.objects.filter(address=address, template="customer_update").count()
    incident_classify(
        incident=IncidentFactory(services=[service]), actor=manager, impact="high", urgency="high"
    )
    after = Notification.objects.filter(address=address, template="customer_update").count()
    return after > before


def test_the_form_offers_groups_and_services_but_no_private_service(client, world):
    page = client.get("/subscribe/").content.decode()
    assert 'value="group:portale"' in page and "All of Portale" in page
    assert 'value="service:portal"' in page and 'value="service:shop"' in page
    assert "service:hidden" not in page and 'type="checkbox"' in page


def test_several_services_one_subscription(client, world, manager):
    subscription = subscribe(client, ["service:portal", "service:mail"])
    assert subscription.scope_label == "Kundenportal, Mail"
    assert sorted(subscription.covers.values_list("scope", flat=True)) == [
        "service:mail",
        "service:portal",
    ]
    assert Notification.objects.filter(template="subscription_confirm").count() == 1
    assert informed(world["portal"], manager)
    assert informed(world["mail"], manager)
    assert not informed(world["shop"], manager)
    # Asking again for the same set (any order) is the same subscription.
    subscribe(client, ["service:mail", "service:portal"])
    assert Subscription.objects.count() == 1


def test_a_whole_group(client, world, manager):
    subscribe(client, ["group:portale"])
    assert informed(world["portal"], manager)
    assert informed(world["shop"], manager)
    assert not informed(world["hidden"], manager)  # a private service of the group: not public
    assert not informed(world["mail"], manager)


def test_unsubscribing_stops_all_of_it(client, world, manager):
    from notifications.services import subscription_unsubscribe

    subscription = subscribe(client, ["service:portal", "service:shop"])
    subscription_unsubscribe(token=subscription_token(subscription))
    assert not informed(world["portal"], manager)
    assert not informed(world["shop"], manager)


def test_an_unknown_or_private_choice_is_a_form_error(client, world):
    for scopes in (["service:hidden"], ["group:nope"], []):
        response = client.post(
            "/subscribe/",
            {"channel": "email", "address": "x@example.org", "scope": scopes, "language": "en"},
        )
        assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert not Subscription.objects.exists()


def test_portal_contact_subscribes_to_several_services(client, world, customer, customer_contact):
    world["portal"].customers.add(customer)
    world["shop"].customers.add(customer)
    client.force_login(customer_contact)
    response = client.post(
        "/portal/subscriptions/",
        {
            "channel": "email",
            "address": "leitstand@example.org",
            "scope": ["service:portal", "service:shop"],
            "language": "de",
        },
    )
    assert response.status_code == 302
    subscription = Subscription.objects.get(address="leitstand@example.org")
    assert subscription.user == customer_contact
    assert subscription.covers.count() == 2
    page = client.get("/portal/subscriptions/").content.decode()
    assert "leitstand@example.org" in page and "Kundenportal, Webshop" in page


def test_status_page_links_the_subscription_form(client, world, settings):
    render_status_page()
    page = client.get("/status/?lang=en").content.decode()
    assert 'href="/subscribe/?lang=en"' in page and "Subscribe to updates" in page
