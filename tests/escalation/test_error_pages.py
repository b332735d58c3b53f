"""Error pages and the password pages in the product's look, translated, with a way back."""

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import bad_request

from config.urls import handler500

pytestmark = pytest.mark.django_db


def test_error_pages_in_the_products_look(client, executive, customer_contact):
    page = client.get("/nowhere/", HTTP_ACCEPT_LANGUAGE="de")
    body = page.content.decode()
    assert page.status_code == 404 and "Seite nicht gefunden" in body
    assert "Eskalationsmanager" in body or "Escalation Manager" in body
    assert 'href="/accounts/login/"' in body and 'href="/status/"' in body
    client.force_login(executive)
    page = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403 and "Not allowed" in page.content.decode()
    assert 'href="/dashboard/"' in page.content.decode()  # an executive's way back
    client.force_login(customer_contact)
    page = client.get("/console/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Nicht erlaubt" in page.content.decode() and 'href="/portal/"' in page.content.decode()
    request = RequestFactory().get("/console/")
    with translation.override("de"):
        assert "Ungültige Anfrage" in bad_request(request, Exception()).content.decode()
        try:
            raise ValueError("boom")
        except ValueError:
            response = handler500(request)
    assert (
        response.status_code == 500
        and "Bei uns ist etwas schiefgegangen" in response.content.decode()
    )


def test_password_reset_pages_are_ours(client):
    for url in (
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/done/",
    ):
        body = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
        assert "Django" not in body and "Zurück zur Anmeldung" in body, url
    body = client.get("/accounts/reset/MQ/bad-token/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Dieser Link gilt nicht mehr" in body and "Django" not in body
