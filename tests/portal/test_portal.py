"""The customer portal: who may enter, what a contact sees of their organisation (and never of
another), the notice kit in German and English (text and PDF), subscriptions, query counts."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from escalation.services import incident_resolve
from escalation.services.matrix import update_publish
from escalation.services.public import public_incident_publish, public_incident_update_post
from incidents.models import Incident, ServiceStatus, State
from incidents.selectors import incident_service_status
from notifications.models import Notification, Subscription
from tests.factories import PASSWORD, IncidentFactory, ServiceFactory, UserFactory, drive

pytestmark = pytest.mark.django_db

NEXT_UPDATE = datetime(2026, 3, 12, 13, 30, tzinfo=UTC)  # 14:30 in Berlin, 09:30 in New York
WORKAROUND = "Bitte nutzen Sie vorübergehend das Ersatzportal unter ersatz.example."
DESCRIPTION = "INTERN: Netzteil im Rack 7 defekt, Firmware-Bug beim Lieferanten."
INTERNAL = "INTERN-UPDATE: Failover auf RZ2 hängt, Kollege Meier informiert."
EXECUTIVE = "VORSTAND-UPDATE: Vertragsstrafe droht ab 16 Uhr."
CUSTOMER = "Kundeninfo: Wir haben die Ursache gefunden und arbeiten an der Behebung."
PUBLIC_TITLE = "Netzportal: Anmeldung gestört"


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def world(customer, other_customer, manager):
    """Stadtwerke Nord (ours) and Logistik Süd (the other): an own, a shared and a foreign
    service; one incident concerning both (with a workaround), one only the other's."""
    customer.time_zone = "Europe/Berlin"
    customer.save()
    own = ServiceFactory(slug="netzportal", name="Netzportal Nord", position=1)
    own.customers.set([customer])
    shared = ServiceFactory(slug="e-rechnung", name="E-Rechnung", position=2)
    shared.customers.set([customer, other_customer])
    foreign = ServiceFactory(slug="lager-sued", name="Lagerverwaltung Süd", position=3)
    foreign.customers.set([other_customer])
    quiet = ServiceFactory(slug="archiv", name="Archiv Nord", position=4, is_private=True)
    quiet.customers.set([customer])

    ours = IncidentFactory(
        title="Anmeldung im Netzportal schlägt fehl",
        description=DESCRIPTION,
        services=[own, shared, foreign],
        commander=manager,
    )
    ours = drive(ours, State.ESCALATED)
    Incident.objects.filter(pk=ours.pk).update(
        workaround=WORKAROUND, priority=1, next_customer_update_at=NEXT_UPDATE
    )
    face = public_incident_publish(actor=manager, incidents=[ours], title=PUBLIC_TITLE)
    update_publish(incident=ours, actor=manager, audience="customer", body=CUSTOMER)
    public_incident_update_post(  # what customers read of the workaround
        public_incident=face, actor=manager, body=WORKAROUND, status="identified", kind="workaround"
    )
    update_publish(incident=ours, actor=manager, audience="internal", body=INTERNAL)
    update_publish(incident=ours, actor=manager, audience="executive", body=EXECUTIVE)

    theirs = IncidentFactory(
        title="Lager Süd: Kommissionierung steht", services=[foreign], description=DESCRIPTION
    )
    drive(theirs, State.CLASSIFIED)
    public_incident_publish(actor=manager, incidents=[theirs], title="Lager Süd gestört")
    update_publish(incident=theirs, actor=manager, audience="customer", body="Nur für Süd.")
    ours.refresh_from_db()
    theirs.refresh_from_db()
    return {
        "own": own,
        "shared": shared,
        "foreign": foreign,
        "quiet": quiet,
        "ours": ours,
        "theirs": theirs,
        "face": face,
    }


def portal_urls(incident) -> list[str]:
    return [
        reverse("portal:home"),
        reverse("portal:incident", args=[incident.pk]),
        reverse("portal:notice", args=[incident.pk]) + "?lang=de",
        reverse("portal:notice_pdf", args=[incident.pk]) + "?lang=en",
        reverse("portal:subscriptions"),
    ]


# --- Who may enter --------------------------------------------------------------------------


def test_anonymous_visitors_go_to_login(client, world):
    for url in portal_urls(world["ours"]):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=/portal/")


@pytest.mark.parametrize("who", ["manager", "responder", "executive", "nobody"])
def test_staff_executives_and_others_get_a_403_page_never_data(client, request, world, who):
    if who == "nobody":
        user = UserFactory(username="nobody")
    else:
        user = request.getfixturevalue(who)
    client.force_login(user)
    for url in portal_urls(world["ours"]):
        response = client.get(url)
        assert response.status_code == 403, url
        page = response.content.decode()
        assert world["ours"].title not in page and "Netzportal" not in page
    deactivate = reverse("portal:subscription_deactivate", args=[1])
    assert client.post(deactivate).status_code == 403


def test_customer_contacts_land_on_the_portal_and_staff_on_the_console(
    client, customer_contact, manager
):
    response = client.post(
        "/accounts/login/", {"username": customer_contact.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    client.logout()
    response = client.post("/accounts/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/console/"
    client.logout()
    response = client.post(
        "/accounts/login/?next=/portal/subscriptions/",
        {
            "username": customer_contact.username,
            "password": PASSWORD,
            "next": "/portal/subscriptions/",
        },
    )
    assert response["Location"] == "/portal/subscriptions/"


def test_reading_pages_refuse_writes(client, customer_contact, world):
    client.force_login(customer_contact)
    for url in portal_urls(world["ours"])[:4]:
        assert client.post(url).status_code == 405, url
        assert client.head(url).status_code == 200, url


# --- What a contact sees --------------------------------------------------------------------


def published(title: str, customer, manager):
    incident = IncidentFactory(title=f"INTERN {title}", customers=[customer])
    public_incident_publish(actor=manager, incidents=[incident], title=title)
    return drive(incident, State.RESOLVED)


def test_overview_shows_own_services_with_status_and_own_incidents(
    client, customer_contact, world, manager
):
    customer = world["own"].customers.get()
    published("Gestern: E-Rechnung langsam", customer, manager)
    old = published("Vor Monaten: Ausfall", customer, manager)
    IncidentFactory(title="Unveröffentlicht: Alarm 4711", customers=[customer])
    Incident.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=31))
    world["quiet"].status_override = ServiceStatus.UNDER_MAINTENANCE
    world["quiet"].save()

    client.force_login(customer_contact)
    response = client.get(reverse("portal:home"))
    page = response.content.decode()
    assert response.status_code == 200
    rows = {name: re.search(rf"{name}</td><td>(.*?)</td>", page).group(1) for name in (
        "Netzportal Nord", "E-Rechnung", "Archiv Nord"
    )}  # fmt: skip
    assert "Major outage" in rows["Netzportal Nord"] and "Major outage" in rows["E-Rechnung"]
    assert "Under maintenance" in rows["Archiv Nord"]  # the override wins
    assert "Lagerverwaltung Süd" not in page and "Logistik Süd" not in page
    assert world["theirs"].title not in page and "Alarm 4711" not in page  # not ours; unpublished
    assert PUBLIC_TITLE in page and world["ours"].title not in page and WORKAROUND in page
    assert "Identified" in page  # the public status, the status page's word
    assert "12 Mar 2026 14:30" in page  # next update, in the contact's time zone (Berlin)
    assert "Gestern: E-Rechnung langsam" in page and "Vor Monaten" not in page
    assert "INTERN" not in page
    assert DESCRIPTION not in page and INTERNAL not in page


def test_times_are_shown_in_the_contacts_time_zone(client, customer_contact, world):
    customer_contact.time_zone = "America/New_York"
    customer_contact.save()
    client.force_login(customer_contact)
    page = client.get(reverse("portal:home")).content.decode()
    assert "12 Mar 2026 09:30" in page


def test_incident_status_mapping():
    def status(state, priority):
        return incident_service_status(Incident(state=state, priority=priority))

    assert status(State.ESCALATED, 1) == ServiceStatus.MAJOR_OUTAGE
    assert status(State.CLASSIFIED, 2) == ServiceStatus.PARTIAL_OUTAGE
    assert status(State.CLASSIFIED, 3) == ServiceStatus.DEGRADED_PERFORMANCE
    assert status(State.CLASSIFIED, 5) == ServiceStatus.DEGRADED_PERFORMANCE
    assert status(State.WORKAROUND, 1) == ServiceStatus.DEGRADED_PERFORMANCE
    assert status(State.DETECTED, None) == ServiceStatus.DEGRADED_PERFORMANCE
    assert status(State.RESOLVED, 1) == ServiceStatus.OPERATIONAL


def test_incident_page_shows_customer_updates_and_own_services_only(
    client, customer_contact, world
):
    client.force_login(customer_contact)
    page = client.get(reverse("portal:incident", args=[world["ours"].pk])).content.decode()
    assert CUSTOMER in page and WORKAROUND in page
    assert "Netzportal Nord" in page and "E-Rechnung" in page
    for secret in (
        INTERNAL,
        EXECUTIVE,
        DESCRIPTION,
        "Lagerverwaltung Süd",
        "Logistik Süd",
        "Mara",
        "mara.manager",
    ):
        assert secret not in page, secret
    # the notice kit, inline, in both languages, with its downloads
    assert "Was können Sie jetzt tun?" in page and "What should you do now?" in page
    assert 'data-copy="notice-de"' in page and 'data-copy="notice-en"' in page
    assert f"/portal/incidents/{world['ours'].pk}/notice.pdf?lang=de" in page


def test_another_organisations_incident_is_404_by_every_url(
    client, customer_contact, other_customer_contact, world
):
    client.force_login(customer_contact)
    theirs = world["theirs"]
    for url in portal_urls(theirs)[1:4]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert theirs.title not in response.content.decode()
    for huge in (10**12, 10**30):
        assert client.get(reverse("portal:incident", args=[huge])).status_code == 404
        assert client.get(reverse("portal:notice", args=[huge])).status_code == 404
    # the other organisation sees its own, and the one concerning both, but only its services
    client.force_login(other_customer_contact)
    assert client.get(reverse("portal:incident", args=[theirs.pk])).status_code == 200
    page = client.get(reverse("portal:incident", args=[world["ours"].pk])).content.decode()
    assert "Lagerverwaltung Süd" in page and "Netzportal Nord" not in page
    assert "Stadtwerke Nord" not in page


def test_an_unpublished_incident_is_404_and_a_published_title_is_redacted(
    client, customer_contact, other_customer_contact, world, manager
):
    reported = IncidentFactory(
        title="Logistik meldet: E-Rechnungen kommen nicht an", services=[world["shared"]]
    )
    urls = portal_urls(reported)[1:4]
    client.force_login(customer_contact)
    for url in urls:  # no public face: the portal knows nothing of it
        assert client.get(url).status_code == 404, url
    public_incident_publish(
        actor=manager, incidents=[reported], title="Logistik Süd meldet: E-Rechnung verzögert"
    )
    for url in portal_urls(reported)[:4]:
        body = client.get(url).content
        if url.endswith("notice.pdf?lang=en"):
            assert body.startswith(b"%PDF")
            continue
        text = body.decode()
        assert "Logistik" not in text and "E-Rechnungen kommen nicht an" not in text, url
    text = client.get(urls[1]).content.decode()
    assert text.startswith("Störungsinformation: […] meldet: E-Rechnung verzögert\n")
    client.force_login(other_customer_contact)  # their own name stays
    assert "Logistik Süd meldet" in client.get(urls[0]).content.decode()


# --- The notice kit -------------------------------------------------------------------------

FORBIDDEN_IN_NOTICES = [
    INTERNAL,
    EXECUTIVE,
    DESCRIPTION,
    CUSTOMER,  # updates are not part of the notice; it stands on its own
    "Logistik Süd",
    "Lagerverwaltung Süd",
    "mara.manager",
]


def notice(client, incident, lang: str):
    response = client.get(reverse("portal:notice", args=[incident.pk]), {"lang": lang})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    return response.content.decode()


def test_notice_in_german(client, customer_contact, world):
    client.force_login(customer_contact)
    text = notice(client, world["ours"], "de")
    assert text.startswith(f"Störungsinformation: {PUBLIC_TITLE}\n")
    assert "Netzportal Nord, E-Rechnung" in text
    assert "Die Dienste sind derzeit nicht verfügbar." in text
    assert WORKAROUND in text
    assert "spätestens am 12.03.2026 um 14:30 Uhr" in text
    assert "http://127.0.0.1:8000/status/" in text
    assert f"http://127.0.0.1:8000/portal/incidents/{world['ours'].pk}/" in text
    assert "carl.contact (Stadtwerke Nord), carl.contact@example.org" in text
    assert not re.search(r"\bP[1-5]\b|Priorit", text)
    for secret in FORBIDDEN_IN_NOTICES:
        assert secret not in text, secret


def test_notice_in_english_uses_the_organisations_time_zone(client, customer_contact, world):
    customer = customer_contact.customer
    customer.time_zone = "America/New_York"
    customer.save()
    client.force_login(customer_contact)
    text = notice(client, world["ours"], "en")
    assert text.startswith(f"Service disruption: {PUBLIC_TITLE}\n")
    assert "What is affected?\nNetzportal Nord, E-Rechnung\n" in text
    assert "The services are currently unavailable." in text
    assert WORKAROUND in text
    assert "by 12 March 2026, 09:30 (EDT) at the latest" in text
    assert not re.search(r"\bP[1-5]\b|[Pp]riorit", text)
    for secret in FORBIDDEN_IN_NOTICES:
        assert secret not in text, secret


def test_notice_without_workaround_or_next_update_and_after_resolution(
    client, customer_contact, world
):
    ours = world["ours"]
    Incident.objects.filter(pk=ours.pk).update(next_customer_update_at=None, priority=3)
    public_incident_update_post(  # a later update: the workaround is no longer the news
        public_incident=world["face"], actor=None, body="Die Umstellung läuft."
    )
    client.force_login(customer_contact)
    text = notice(client, ours, "de")
    assert "Einen Workaround gibt es noch nicht." in text
    assert "Wir informieren Sie, sobald es Neuigkeiten gibt." in text
    assert "nutzbar, aber eingeschränkt" in text
    english = notice(client, ours, "en")
    assert "There is no workaround yet." in english
    assert "We will let you know as soon as there is news." in english

    Incident.objects.filter(pk=ours.pk).update(workaround=WORKAROUND)
    incident_resolve(incident=Incident.objects.get(pk=ours.pk), actor=None, resolution="Behoben")
    text = notice(client, ours, "de")
    assert text.startswith("Störung behoben: ")
    assert re.search(r"Vom \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr \(CES?T\) bis zum ", text)
    assert "wieder wie gewohnt zur Verfügung" in text
    assert WORKAROUND not in text and "Nächste" not in text and "spätestens" not in text
    assert "Service disruption resolved: " in notice(client, ours, "en")


def test_unknown_language_falls_back_to_the_contacts(client, customer_contact, world):
    client.force_login(customer_contact)
    customer_contact.language = "en"
    customer_contact.save()
    for lang in ("fr", "", "../../etc/passwd"):
        assert notice(client, world["ours"], lang).startswith("Service disruption:")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_notice_pdf(client, customer_contact, world, lang):
    client.force_login(customer_contact)
    response = client.get(reverse("portal:notice_pdf", args=[world["ours"].pk]), {"lang": lang})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    try:
        import io

        from pypdf import PdfReader
    except ImportError:
        return  # pypdf is not a dependency; the text check runs where it happens to be installed
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Netzportal: Anmeldung" in text  # the public title
    assert "Logistik" not in text and "INTERN" not in text and "Anmeldung im Netz" not in text


# --- Subscriptions --------------------------------------------------------------------------


def subscribe(client, **data):
    return client.post(
        reverse("portal:subscriptions"),
        {
            "channel": "email",
            "address": "leitstelle@stadtwerke-nord.example",
            "scope": "customer:stadtwerke-nord",
            "language": "de",
            **data,
        },
    )


def test_add_subscriptions_with_double_opt_in(client, customer_contact, world):
    client.force_login(customer_contact)
    form = client.get(reverse("portal:subscriptions")).content.decode()
    assert 'value="customer:stadtwerke-nord"' in form and 'value="service:netzportal"' in form
    assert 'value="service:e-rechnung"' in form
    assert "service:lager-sued" not in form  # another organisation's service
    assert "service:archiv" not in form  # private: subscribe to the organisation instead

    response = subscribe(client)
    assert response.status_code == 302 and response["Location"] == "/portal/subscriptions/"
    hook_url = "https://hooks.example/status"
    response = subscribe(client, channel="webhook", address=hook_url, scope="service:netzportal")
    assert response.status_code == 302
    email = Subscription.objects.get(channel="email")
    assert email.scope == "customer:stadtwerke-nord" and email.scope_label == "Stadtwerke Nord"
    assert email.user == customer_contact and email.confirmed_at is None
    hook = Subscription.objects.get(channel="webhook")
    assert hook.scope_label == "Netzportal Nord" and hook.user == customer_contact
    confirmations = Notification.objects.filter(template="subscription_confirm")
    assert sorted(confirmations.values_list("address", flat=True)) == [
        "https://hooks.example/status",
        "leitstelle@stadtwerke-nord.example",
    ]
    page = client.get(reverse("portal:subscriptions")).content.decode()
    assert "leitstelle@stadtwerke-nord.example" in page and "waiting for confirmation" in page


@pytest.mark.parametrize(
    "data",
    [
        {"address": "keine-adresse"},
        {"channel": "webhook", "address": "ftp://hooks.example"},
        {"scope": "customer:logistik-sued"},
        {"scope": "service:lager-sued"},
        {"scope": "service:archiv"},
        {"channel": "sms"},
        {"language": "fr"},
    ],
)
def test_bad_subscription_input_gets_a_form_error_and_writes_nothing(
    client, customer_contact, world, data
):
    client.force_login(customer_contact)
    response = subscribe(client, **data)
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert (
        not Subscription.objects.exists()
        and not Notification.objects.filter(template="subscription_confirm").exists()
    )


def test_subscriptions_are_the_organisations_own(
    client, customer_contact, other_customer_contact, world
):
    def make(address, scope, user=None):
        return Subscription.objects.create(
            channel="email", address=address, scope=scope, scope_label=scope, user=user
        )

    ours = make("nord@example.org", "customer:stadtwerke-nord")
    ours_shared = make("nord-rechnung@example.org", "service:e-rechnung", customer_contact)
    theirs = make("sued@example.org", "customer:logistik-sued", other_customer_contact)
    theirs_shared = make("sued-rechnung@example.org", "service:e-rechnung", other_customer_contact)
    public_shared = make("jemand@example.org", "service:e-rechnung")
    client.force_login(customer_contact)
    page = client.get(reverse("portal:subscriptions")).content.decode()
    assert "nord@example.org" in page and "nord-rechnung@example.org" in page
    for other in (theirs, theirs_shared, public_shared):
        assert other.address not in page
        url = reverse("portal:subscription_deactivate", args=[other.pk])
        assert client.post(url).status_code == 404
        other.refresh_from_db()
        assert other.is_active
    for own in (ours, ours_shared):
        url = reverse("portal:subscription_deactivate", args=[own.pk])
        assert client.get(url).status_code == 405
        response = client.post(url)
        assert response.status_code == 302 and response["Location"] == "/portal/subscriptions/"
        own.refresh_from_db()
        assert not own.is_active
    page = client.get(reverse("portal:subscriptions")).content.decode()
    assert "not active" in page


def test_a_running_subscription_of_somebody_else_is_never_taken_over(
    client, customer_contact, world
):
    public = Subscription.objects.create(
        channel="email",
        address="jemand@example.org",
        scope="service:e-rechnung",
        scope_label="E-Rechnung",
        confirmed_at=timezone.now(),
    )
    client.force_login(customer_contact)
    response = subscribe(client, address="jemand@example.org", scope="service:e-rechnung")
    assert response.status_code == 302  # the same answer as for any address: nothing revealed
    public.refresh_from_db()
    assert public.user is None and public.is_active
    client.get(reverse("portal:subscriptions"))  # shows the message "we sent a confirmation"
    assert "jemand@example.org" not in client.get(reverse("portal:subscriptions")).content.decode()


# --- Query counts ---------------------------------------------------------------------------


def _incidents(start: int, stop: int, customer, service):
    for i in range(start, stop):
        incident = IncidentFactory(title=f"Intern {i}", services=[service], customers=[customer])
        public_incident_publish(actor=None, incidents=[incident], title=f"Störung {i}")
        if i % 3 == 0:
            drive(incident, State.RESOLVED)
        elif i % 3 == 1:
            drive(incident, State.WORKAROUND)


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_overview_runs_a_fixed_number_of_queries(client, customer_contact, world):
    client.force_login(customer_contact)
    service, customer = world["own"], customer_contact.customer
    _incidents(0, 5, customer, service)
    few = _count(client, reverse("portal:home"))
    _incidents(5, 50, customer, service)
    many = _count(client, reverse("portal:home"))
    # Open and recently resolved: a fixed few each (public faces loaded with their incidents);
    # the maintenance section one more.
    assert few == many <= 31, (few, many)
    page = client.get(reverse("portal:home")).content.decode()
    assert all(f">Störung {i}</a>" in page for i in range(50))


def test_incident_page_runs_a_fixed_number_of_queries(client, customer_contact, world, manager):
    client.force_login(customer_contact)
    url = reverse("portal:incident", args=[world["ours"].pk])
    few = _count(client, url)
    for i in range(20):
        update_publish(incident=world["ours"], actor=manager, audience="customer", body=f"U{i}")
    many = _count(client, url)
    assert few == many <= 20, (few, many)


def test_the_portal_names_states_in_the_status_pages_words(client, customer_contact, world):
    """Customers read the public status, in the same words as on the status page."""
    from django.utils import translation

    from incidents.statuspage.render import INCIDENT_STATUS_LABELS as PUBLIC

    client.force_login(customer_contact)
    page = client.get(reverse("portal:incident", args=[world["ours"].pk])).content.decode()
    with translation.override("en"):
        assert f"State: {PUBLIC['identified']}" in page and "Escalated" not in page
    client.cookies["django_language"] = "de"
    page = client.get(
        reverse("portal:incident", args=[world["ours"].pk]), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Ursache gefunden" in page and "Eskaliert" not in page
