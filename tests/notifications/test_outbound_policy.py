"""The outbound URL policy (issue 15, High 1): webhooks and Apprise URLs reach only public
addresses unless OUTBOUND_ALLOW_NETWORKS lists a network. Checked when a URL is saved (a clear
form error) and again when a message is sent, against the address the host resolves to then
(DNS rebinding), through a real HTTP receiver on 127.0.0.1."""

import socket

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from escalation.models import ContactMethod, EventWebhook
from notifications.forms import SubscribeForm
from notifications.models import Notification, Subscription
from notifications.outbound import address_allowed, validate_apprise_url, validate_outbound_url
from notifications.services import notification_enqueue
from notifications.tasks import deliver
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

INTERNAL = [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1",  # noqa: S104 (refused)
    "255.255.255.255",
    "198.18.0.1", "192.0.2.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1",
    "2002:7f00:1::1", "2001:db8::1", "fec0::1",
]  # fmt: skip
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"]


@pytest.fixture
def no_allow_list(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = []


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused(no_allow_list, address):
    assert not address_allowed(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(no_allow_list, address):
    assert address_allowed(address)


def test_an_administrator_allows_a_network(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ["10.20.0.0/16", "fd00::/8"]
    assert address_allowed("10.20.3.4") and address_allowed("::ffff:10.20.3.4")
    assert address_allowed("fd00::5")
    assert not address_allowed("10.21.0.1") and not address_allowed("127.0.0.1")


def test_the_settings_default_allows_nothing_internal():
    from config import settings as defaults

    assert defaults.OUTBOUND_ALLOW_NETWORKS == []  # `make run` sets loopback in the environment


# --- Save time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "https://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number: URLValidator refuses it already
    ],
)
def test_an_internal_webhook_url_is_refused_when_saved(no_allow_list, url):
    with pytest.raises(ValidationError):
        validate_outbound_url(url)


def test_the_form_error_is_clear_in_english_and_german(no_allow_list):
    service = ServiceFactory(is_private=False)
    data = {
        "channel": "webhook",
        "address": "http://127.0.0.1:6379/",
        "scope": f"service:{service.slug}",
        "language": "de",
    }
    with translation.override("en"):
        form = SubscribeForm(data)
        assert not form.is_valid()
        assert "private, loopback or otherwise internal" in form.errors["address"][0]
    with translation.override("de"):
        form = SubscribeForm(data)
        assert not form.is_valid()
        assert "internen Netz" in form.errors["address"][0]


def test_outbound_webhooks_and_contact_methods_are_validated(no_allow_list, manager):
    hook = EventWebhook(name="ops", url="http://192.168.0.10/hook")
    with pytest.raises(ValidationError) as error:
        hook.full_clean()
    assert "url" in error.value.message_dict
    for channel, address in [
        ("webhook", "http://127.0.0.1:9/x"),
        ("apprise", "json://127.0.0.1:6379/"),
        ("apprise", "slack://T1/B2/C3 json://10.0.0.7/"),  # Apprise takes several URLs at once
    ]:
        method = ContactMethod(user=manager, channel=channel, address=address)
        with pytest.raises(ValidationError) as error:
            method.full_clean()
        assert "address" in error.value.message_dict, address
    ContactMethod(user=manager, channel="apprise", address="slack://T1/B2/C3").full_clean()
    subscription = Subscription(channel="webhook", address="http://[::1]/", scope="service:x")
    with pytest.raises(ValidationError) as error:
        subscription.full_clean()
    assert "address" in error.value.message_dict
    ContactMethod(user=manager, channel="email", address="mara@example.org").full_clean()


def test_apprise_url_that_is_no_url_is_refused():
    with pytest.raises(ValidationError):
        validate_apprise_url("nonsense-without-scheme")


def test_admin_refuses_an_internal_webhook_url(no_allow_list, client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    response = client.post(
        "/admin/escalation/eventwebhook/add/",
        {"name": "ops", "url": "http://127.0.0.1:9/", "events": '["created"]', "is_active": "on"},
    )
    assert response.status_code == 200
    assert "sonst internen Netz" in response.content.decode()  # the admin speaks German here
    assert not EventWebhook.objects.exists()


# --- Send time ---------------------------------------------------------------------------------


def _enqueue(**kwargs) -> Notification:
    with transaction.atomic():
        notification, _ = notification_enqueue(
            **{
                "dedup_key": "outbound:1",
                "channel": "webhook",
                "template": "page",
                "context": {"title": "x"},
                "signing_secret": "whsec_test",
                **kwargs,
            }
        )
    return notification


@pytest.fixture
def rebinding(monkeypatch):
    """DNS at the network edge: `rebind.example.test` does not resolve when the URL is saved and
    resolves to 127.0.0.1 when the message is sent."""
    real = socket.getaddrinfo
    answers = {}

    def getaddrinfo(host, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], 0))]
        if host.endswith(".example.test"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_dns_rebinding_is_refused_at_connect_time(settings, http_receiver, rebinding):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    port = http_receiver.url.rsplit(":", 1)[1]
    url = f"http://rebind.example.test:{port}/hook"
    validate_outbound_url(url)  # saved while the name does not resolve (or resolves publicly)
    rebinding["rebind.example.test"] = "127.0.0.1"
    notification = _enqueue(address=url)
    assert deliver(notification.pk) == "dead"  # permanent: the policy will not change by retrying
    notification.refresh_from_db()
    assert "127.0.0.1" in notification.last_error and "not allowed" in notification.last_error
    assert http_receiver.requests == []


def test_an_allowed_network_is_reached_at_the_checked_address_with_the_host_name(
    settings, http_receiver, rebinding
):
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]
    port = http_receiver.url.rsplit(":", 1)[1]
    rebinding["hooks.example.test"] = "127.0.0.1"
    notification = _enqueue(address=f"http://hooks.example.test:{port}/hook")
    assert deliver(notification.pk) == "sent"
    [request] = http_receiver.requests
    assert request["headers"]["Host"] == f"hooks.example.test:{port}"


def test_a_literal_loopback_url_is_refused_when_sending(settings, http_receiver):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    notification = _enqueue(address=f"{http_receiver.url}/hook")
    assert deliver(notification.pk) == "dead"
    assert http_receiver.requests == []


def test_redirects_are_not_followed(http_receiver):
    http_receiver.statuses = [302]
    notification = _enqueue(address=f"{http_receiver.url}/hook")
    assert deliver(notification.pk) == "failed"
    assert len(http_receiver.requests) == 1


def test_an_apprise_url_to_an_internal_host_is_refused_before_sending(settings, http_receiver):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    address = f"json://localhost:{http_receiver.url.rsplit(':', 1)[1]}/chat"
    notification = _enqueue(channel="apprise", address=address, recipient=UserFactory())
    assert deliver(notification.pk) == "dead"
    notification.refresh_from_db()
    assert "not allowed" in notification.last_error
    assert http_receiver.requests == []


def test_apprise_is_refused_at_connect_time_when_the_name_rebinds(
    settings, http_receiver, monkeypatch
):
    """The name resolves to a public address for the check before sending and to 127.0.0.1 when
    Apprise connects: the connection is refused, and the message is dead."""
    settings.OUTBOUND_ALLOW_NETWORKS = []
    real, answers = socket.getaddrinfo, iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])

    def getaddrinfo(host, *args, **kwargs):
        if host == "chat.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    address = f"json://chat.example.test:{http_receiver.url.rsplit(':', 1)[1]}/chat"
    notification = _enqueue(channel="apprise", address=address, recipient=UserFactory())
    assert deliver(notification.pk) == "dead"
    notification.refresh_from_db()
    assert "127.0.0.1" in notification.last_error
    assert http_receiver.requests == []


@pytest.fixture
def redirector():
    """An HTTP server on 127.0.0.1 that redirects every POST to 127.0.0.2 (also loopback)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.servers import free_port

    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.2:{self.server.server_port}/inside")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, hits
    server.shutdown()
    server.server_close()


def test_apprise_following_a_redirect_inside_is_refused(settings, redirector):
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]  # the first hop is allowed, 127.0.0.2 not
    port, hits = redirector
    address = f"json://127.0.0.1:{port}/chat?redirect=yes"  # the URL asks Apprise to follow
    notification = _enqueue(channel="apprise", address=address, recipient=UserFactory())
    assert deliver(notification.pk) == "dead"
    notification.refresh_from_db()
    assert "127.0.0.2" in notification.last_error
    assert hits == ["/chat"]
