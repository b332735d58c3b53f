"""The console's integrations page: the team reads each integration's grouping rules in words
(never its key), escalation managers change them in a form whose mistakes are field errors (never
a 500, nothing saved), executives and customers are refused as on every console page."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from escalation.models import Integration
from escalation.services.integrations import integration_create
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

LIST = "/console/integrations/"


@pytest.fixture
def client():
    """In English unless a request asks for German (the product's default language)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def zabbix():
    integration = integration_create(
        kind=Integration.Kind.EVENTS_V2,
        service=ServiceFactory(slug="portal", name="Kundenportal"),
        name="Zabbix",
    )
    Integration.objects.filter(pk=integration.pk).update(
        last_event_at=datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    )
    integration.refresh_from_db()
    return integration


@pytest.fixture
def prometheus():
    integration = integration_create(
        kind=Integration.Kind.ALERTMANAGER,
        service=ServiceFactory(slug="mail", name="E-Mail"),
        name="Prometheus",
    )
    Integration.objects.filter(pk=integration.pk).update(
        group_labels=["alertname", "instance"], group_window=30, flap_window=10
    )
    integration.refresh_from_db()
    return integration


def edit_url(integration) -> str:
    return f"/console/integrations/{integration.pk}/"


def rules_of(integration) -> tuple:
    integration.refresh_from_db()
    return (
        integration.group_labels,
        integration.group_window,
        integration.flap_window,
        integration.resolve_on_resolved,
    )


VALID = {"group_labels": "alertname", "group_window": "0", "flap_window": "0"}


def test_the_manager_reads_every_integration_with_its_rules_in_words(
    client, manager, zabbix, prometheus
):
    manager.time_zone = "Europe/Berlin"
    manager.save(update_fields=["time_zone"])
    client.force_login(manager)
    page = client.get(LIST)
    body = page.content.decode()
    assert page.status_code == 200
    assert f'href="{LIST}"' in body  # the console's navigation links here
    for text in (
        "Zabbix",
        "Events API v2 (PagerDuty-compatible)",
        "Kundenportal",
        "Prometheus",
        "Prometheus Alertmanager webhook",
        "E-Mail",
        "One incident per alert · resolves with its alert",
        "Group by: alertname, instance · window 30 min · flapping 10 min · "
        "resolves with its last alert",
        "no event yet",  # Prometheus
    ):
        assert text in body, text
    # The last event in the reader's own time zone (12:00 UTC is 13:00 in Berlin in January).
    assert '<time datetime="2026-01-15T13:00:00+01:00">' in body
    assert f'href="{edit_url(zabbix)}"' in body and f'href="{edit_url(prometheus)}"' in body
    for key in (zabbix.key, prometheus.key):
        assert key not in body  # the sender's credential


def test_rules_in_words_say_what_is_off_too(client, manager, zabbix):
    Integration.objects.filter(pk=zabbix.pk).update(
        group_labels=["source"], group_window=0, flap_window=5, resolve_on_resolved=False
    )
    client.force_login(manager)
    body = client.get(LIST).content.decode()
    assert (
        "Group by: source · window: while open · flapping 5 min · "
        "stays open when its alerts resolve"
    ) in body


def test_the_list_takes_a_fixed_number_of_queries(
    client, manager, zabbix, django_assert_max_num_queries
):
    client.force_login(manager)
    client.get(LIST)  # warm caches (session, permissions)
    for n in range(20):
        integration_create(kind="alertmanager", service=ServiceFactory(), name=f"AM {n}")
    with django_assert_max_num_queries(12):
        assert client.get(LIST).status_code == 200


def test_a_responder_reads_the_list_without_edit_links_and_may_not_edit(client, responder, zabbix):
    client.force_login(responder)
    body = client.get(LIST).content.decode()
    assert "Zabbix" in body and "One incident per alert" in body
    assert edit_url(zabbix) not in body and zabbix.key not in body
    before = rules_of(zabbix)
    assert client.get(edit_url(zabbix)).status_code == 403
    assert client.post(edit_url(zabbix), VALID).status_code == 403
    assert rules_of(zabbix) == before


@pytest.mark.parametrize("who", ["executive", "customer_contact"])
def test_executives_and_customers_are_refused(client, request, who, zabbix):
    client.force_login(request.getfixturevalue(who))
    before = rules_of(zabbix)
    for url in (LIST, edit_url(zabbix)):
        page = client.get(url)
        assert page.status_code == 403 and zabbix.key not in page.content.decode()
    assert client.post(edit_url(zabbix), VALID).status_code == 403
    assert rules_of(zabbix) == before


def test_anonymous_users_sign_in_first(client, zabbix):
    for url in (LIST, edit_url(zabbix)):
        page = client.get(url)
        assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    page = client.post(edit_url(zabbix), VALID)
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert rules_of(zabbix) == ([], 0, 0, True)


def test_the_manager_changes_the_rules(client, manager, prometheus):
    client.force_login(manager)
    form = client.get(edit_url(prometheus))
    body = form.content.decode()
    assert form.status_code == 200 and prometheus.key not in body
    assert 'value="alertname, instance"' in body and 'value="30"' in body
    answer = client.post(
        edit_url(prometheus),
        {"group_labels": " cluster ,, alertname, ", "group_window": "60", "flap_window": "0"},
        follow=True,
    )
    assert answer.redirect_chain == [(LIST, 302)]
    assert "The grouping rules of Prometheus were saved." in answer.content.decode()
    assert rules_of(prometheus) == (["cluster", "alertname"], 60, 0, False)  # box not ticked
    answer = client.post(
        edit_url(prometheus),
        {
            "group_labels": " , ",
            "group_window": "0",
            "flap_window": "0",
            "resolve_on_resolved": "on",
        },
    )
    assert answer.status_code == 302
    assert rules_of(prometheus) == ([], 0, 0, True)  # no grouping: one incident per alert


def test_the_limits_themselves_are_accepted(client, manager, zabbix):
    client.force_login(manager)
    names = [f"label{n}" for n in range(Integration.MAX_GROUP_LABELS - 1)] + ["x" * 100]
    answer = client.post(
        edit_url(zabbix),
        {"group_labels": ",".join(names), "group_window": "10080", "flap_window": "10080"},
    )
    assert answer.status_code == 302
    assert rules_of(zabbix) == (names, 10080, 10080, False)


BAD = {
    "twice": ({"group_labels": "alertname, instance, alertname"}, "group_labels", "more than once"),
    "too many": (
        {"group_labels": ",".join(f"l{n}" for n in range(11))},
        "group_labels",
        "At most 10 names (11 given)",
    ),
    "too long": ({"group_labels": "a" * 101}, "group_labels", "at most 100 characters"),
    "nul": ({"group_labels": "alert\x00name"}, "group_labels", "Null characters are not allowed"),
    "negative window": ({"group_window": "-1"}, "group_window", "greater than or equal to 0"),
    "window past a week": ({"group_window": "10081"}, "group_window", "At most 10080 minutes"),
    "huge flapping window": (
        {"flap_window": "99999999999999999999999"},
        "flap_window",
        "At most 10080 minutes",
    ),
    "negative flapping window": ({"flap_window": "-5"}, "flap_window", "greater than or equal"),
    "not a number": ({"group_window": "30min"}, "group_window", "Enter a whole number"),
    "a superscript digit": ({"flap_window": "\u00b2"}, "flap_window", "Enter a whole number"),
    "no window": ({"group_window": ""}, "group_window", "This field is required"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_mistake_is_a_field_error_and_nothing_is_saved(client, manager, prometheus, case):
    data, field, message = BAD[case]
    before = rules_of(prometheus)
    client.force_login(manager)
    answer = client.post(edit_url(prometheus), {**VALID, "resolve_on_resolved": "on", **data})
    assert answer.status_code == 400
    assert message in " ".join(answer.context["form"].errors[field])
    body = answer.content.decode()
    assert f'id="id_{field}_error"' in body and message in body
    assert prometheus.key not in body
    assert rules_of(prometheus) == before


def test_an_empty_form_changes_nothing(client, manager, prometheus):
    before = rules_of(prometheus)
    client.force_login(manager)
    answer = client.post(edit_url(prometheus), {})
    assert answer.status_code == 400 and set(answer.context["form"].errors) == {
        "group_window",
        "flap_window",
    }
    assert rules_of(prometheus) == before


def test_an_integration_that_does_not_exist_is_a_404(client, manager):
    client.force_login(manager)
    assert client.get("/console/integrations/987654/").status_code == 404
    assert client.post("/console/integrations/987654/", VALID).status_code == 404


def test_the_page_and_its_errors_in_german(client, manager, prometheus):
    client.force_login(manager)
    body = client.get(LIST, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    for text in (
        "Integrationen",
        "Letztes Ereignis",
        "Gruppierungsregeln",
        "Gruppiert nach: alertname, instance · Fenster 30 min · Flapping 10 min · "
        "wird mit seinem letzten Alarm gelöst",
        "noch kein Ereignis",
        "Prometheus-Alertmanager-Webhook",
        "Bearbeiten",
    ):
        assert text in body, text
    form = client.get(edit_url(prometheus), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    for text in ("Gruppieren nach", "Gruppierungsfenster (Minuten)", "Flapping-Fenster (Minuten)"):
        assert text in form, text
    answer = client.post(
        edit_url(prometheus),
        {"group_labels": "a, a", "group_window": "20000", "flap_window": "0"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    body = answer.content.decode()
    assert answer.status_code == 400
    assert "Jeder Name höchstens einmal (mehrfach: a)." in body
    assert "Höchstens 10080 Minuten (eine Woche)." in body
    answer = client.post(edit_url(prometheus), VALID, HTTP_ACCEPT_LANGUAGE="de", follow=True)
    assert "Die Gruppierungsregeln von Prometheus sind gespeichert." in answer.content.decode()
