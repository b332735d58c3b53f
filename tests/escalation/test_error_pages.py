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


def test_everybody_sets_their_own_time_zone(client, customer_contact):
    from datetime import UTC, datetime

    import time_machine

    client.force_login(customer_contact)
    response = client.post(
        "/accounts/profile/", {"language": "en", "time_zone": "America/New_York"}
    )
    assert response.status_code == 302 and response.cookies["django_language"].value == "en"
    customer_contact.refresh_from_db()
    assert (customer_contact.language, customer_contact.time_zone) == ("en", "America/New_York")
    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), tick=False):
        page = client.get("/accounts/profile/").content.decode()
    assert "Now: 7 Dec 2026 07:00 (America/New_York)" in page
    bad = client.post("/accounts/profile/", {"language": "en", "time_zone": "Mars/Olympus"})
    assert bad.status_code == 200 and 'class="error"' in bad.content.decode()
