"""Finding 7: behind the shipped nginx, django-axes saw every client at nginx's address, so five
wrong passwords for a user locked that user out for everybody. The client's address now comes
from X-Forwarded-For, believed from a trusted proxy only (config/proxy.py)."""

import pytest
from django.test import Client, RequestFactory

from config.proxy import client_ip

NGINX = "172.18.0.5"  # REMOTE_ADDR of every proxied request
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


@pytest.fixture
def behind_nginx(settings):
    settings.TRUSTED_PROXIES = ["172.16.0.0/12"]
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 5


def through_nginx(client_address: str, claimed: str = "") -> dict:
    """The headers nginx sends for a client (config/nginx.conf): X-Real-IP $remote_addr and
    X-Forwarded-For $proxy_add_x_forwarded_for (what the client claimed, then its address)."""
    forwarded = f"{claimed}, {client_address}" if claimed else client_address
    return {
        "REMOTE_ADDR": NGINX,
        "HTTP_X_REAL_IP": client_address,
        "HTTP_X_FORWARDED_FOR": forwarded,
    }


def login(client: Client, password: str, **meta):
    return client.post(
        "/accounts/login/", {"username": "rolf.responder", "password": password}, **meta
    )


def test_wrong_passwords_from_one_client_do_not_lock_out_the_owner(behind_nginx, responder):
    responder.set_password("correct horse battery")
    responder.save()
    attacker = Client()
    for _ in range(6):
        login(attacker, "wrong", **through_nginx(ATTACKER))
    assert login(attacker, "correct horse battery", **through_nginx(ATTACKER)).status_code == 429

    owner = Client()
    response = login(owner, "correct horse battery", **through_nginx(OWNER))
    assert response.status_code == 302, response.status_code  # signed in


def test_a_client_cannot_escape_the_lock_by_claiming_other_addresses(behind_nginx, responder):
    responder.set_password("correct horse battery")
    responder.save()
    attacker = Client()
    for n in range(6):
        login(attacker, "wrong", **through_nginx(ATTACKER, claimed=f"192.0.2.{n}"))
    response = login(
        attacker, "correct horse battery", **through_nginx(ATTACKER, claimed="192.0.2.99")
    )
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"REMOTE_ADDR": NGINX, "HTTP_X_FORWARDED_FOR": f"1.2.3.4, {OWNER}"}, OWNER),
        ({"REMOTE_ADDR": NGINX, "HTTP_X_REAL_IP": OWNER}, OWNER),
        # Not from a trusted proxy: the header is the client's own claim and is ignored.
        ({"REMOTE_ADDR": ATTACKER, "HTTP_X_FORWARDED_FOR": OWNER}, ATTACKER),
        ({"REMOTE_ADDR": NGINX, "HTTP_X_FORWARDED_FOR": "not-an-address"}, NGINX),
        ({"REMOTE_ADDR": NGINX}, NGINX),
    ],
)
def test_the_client_address(behind_nginx, meta, expected):
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    request = RequestFactory().get("/", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=OWNER)
    assert client_ip(request) == NGINX


def test_two_proxies(settings):
    settings.TRUSTED_PROXIES = ["172.16.0.0/12"]
    settings.TRUSTED_PROXY_COUNT = 2
    request = RequestFactory().get(
        "/", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"6.6.6.6, {OWNER}, 10.0.0.9"
    )
    assert client_ip(request) == OWNER
