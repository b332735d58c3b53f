"""The executive dashboard: who may see it, what it shows, that it is read-only, and that it runs a
bounded number of queries whatever the number of incidents."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from escalation.models import Question
from incidents.models import Incident, IncidentEvent, State, Update
from notifications.models import Notification
from tests.factories import IncidentFactory, drive

from .conftest import make_escalation

pytestmark = pytest.mark.django_db

DASHBOARD_URLS = ["dashboard:index", "dashboard:live"]


@pytest.mark.parametrize("url_name", DASHBOARD_URLS)
@pytest.mark.parametrize(
    ("who", "status"),
    [("executive", 200), ("manager", 200), ("responder", 403), ("customer_contact", 403)],
)
def test_dashboard_is_for_executives_and_managers(client, request, url_name, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(url_name)).status_code == status


@pytest.mark.parametrize("url_name", [*DASHBOARD_URLS, "dashboard:ask"])
def test_anonymous_goes_to_login(client, url_name):
    method = client.post if url_name == "dashboard:ask" else client.get
    response = method(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_superuser_may_view(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "x")
    client.force_login(admin)
    assert client.get(reverse("dashboard:index")).status_code == 200


def _state_snapshot():
    return (
        list(Incident.objects.order_by("pk").values_list("pk", "state", "updated_at")),
        IncidentEvent.objects.count(),
        Update.objects.count(),
        Notification.objects.count(),
        Question.objects.count(),
    )


@pytest.mark.parametrize("who", ["executive", "manager"])
def test_every_dashboard_url_refuses_writes_and_nothing_changes(client, request, who, escalation):
    client.force_login(request.getfixturevalue(who))
    before = _state_snapshot()
    for url_name in DASHBOARD_URLS:
        url = reverse(url_name)
        for method in (client.post, client.put, client.patch, client.delete):
            assert method(url, {"state": "resolved"}).status_code == 405, (url_name, method)
    ask = reverse("dashboard:ask")
    for method in (client.get, client.put, client.patch, client.delete):
        assert method(ask).status_code == 405
    assert _state_snapshot() == before


def test_responders_and_customers_cannot_ask(client, responder, customer_contact, escalation):
    for person in (responder, customer_contact):
        client.force_login(person)
        response = client.post(reverse("dashboard:ask"), {"text": "Wann geht es wieder?"})
        assert response.status_code == 403
    assert (
        not Question.objects.exists()
        and not Notification.objects.filter(template="question_asked").exists()
    )


def test_question_post_is_csrf_protected(executive, escalation):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(executive)
    response = browser.post(reverse("dashboard:ask"), {"text": "Ohne Token?"})
    assert response.status_code == 403 and not Question.objects.exists()
    page = browser.get(reverse("dashboard:index")).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_dashboard_shows_open_escalations_only_most_urgent_first(client, executive, manager):
    low = make_escalation(title="Niedrig eskaliert", commander=manager)
    high = make_escalation(title="Hoch eskaliert", commander=manager)
    Incident.objects.filter(pk=low.pk).update(priority=4)
    Incident.objects.filter(pk=high.pk).update(priority=1)
    drive(IncidentFactory(title="Nur klassifiziert"), State.CLASSIFIED)  # open, not escalated
    drive(IncidentFactory(title="Schon erledigt"), State.RESOLVED)  # escalated, closed now
    client.force_login(executive)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert page.index("Hoch eskaliert") < page.index("Niedrig eskaliert")
    assert "Nur klassifiziert" not in page and "Schon erledigt" not in page
    assert "2 open escalations" in page


def test_dashboard_row_shows_what_executives_need(client, executive, escalation):
    client.force_login(executive)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert "Newest for executives: Rechenzentrum Nord" in page
    assert "Older: Rechenzentrum" not in page  # only the latest executive update
    assert "Team only" not in page  # internal updates never reach the dashboard
    assert escalation.customers.get().name in page
    assert "mara.manager" in page  # the commander
    assert "<td>Escalated</td>" in page  # the state's label, translated
    assert "in 2" in page  # next update in 24-25 min
    assert "/console/" not in page.split("<main>", 1)[1].split("</main>")[0]  # no team links


def test_state_label_is_translated(client, executive, escalation):
    client.force_login(executive)
    page = client.get(reverse("dashboard:index"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<td>Eskaliert</td>" in page


def test_page_has_no_control_that_writes_except_the_question_form(client, executive, escalation):
    client.force_login(executive)
    page = client.get(reverse("dashboard:index")).content.decode()
    main = page.split("<main>", 1)[1]
    assert main.count('method="post"') == 1
    assert f'action="{reverse("dashboard:ask")}"' in main
    assert "hx-post" not in page and "hx-put" not in page and "hx-delete" not in page


def test_live_partial_polls_and_renders_without_layout(client, executive, escalation):
    client.force_login(executive)
    page = client.get(reverse("dashboard:index") + "?days=7").content.decode()
    assert 'hx-get="/dashboard/live/?days=7"' in page and 'hx-trigger="every 15s"' in page
    fragment = client.get(reverse("dashboard:live") + "?days=7", HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in text and "<form" not in text
    assert "Newest for executives" in text and "last 7 days" in text


def test_live_partial_shows_new_updates(client, executive, escalation):
    client.force_login(executive)
    Update.objects.create(
        incident=escalation,
        audience="executive",
        body="Ganz neu: Netz stabil",
        created_at=timezone.now() + timedelta(minutes=1),
    )
    assert "Ganz neu: Netz stabil" in client.get(reverse("dashboard:live")).content.decode()


@pytest.mark.parametrize(("days", "shown"), [("7", 7), ("90", 90), ("x", 30), ("45", 30), ("", 30)])
def test_window_parameter_falls_back_to_30(client, executive, days, shown):
    client.force_login(executive)
    page = client.get(reverse("dashboard:index"), {"days": days}).content.decode()
    assert f"Key figures, last {shown} days" in page


def test_manager_sees_the_open_question_count_in_the_navigation(client, manager, executive):
    Question.objects.create(asked_by=executive, text="Eins?")
    client.force_login(manager)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert reverse("console:questions") in page and "Questions (1 open)" in page
    board = client.get(reverse("console:board")).content.decode()
    assert "Questions (1 open)" in board


def test_executive_sees_no_queue_link(client, executive):
    client.force_login(executive)
    assert (
        reverse("console:questions") not in client.get(reverse("dashboard:index")).content.decode()
    )


def test_exposure_slot_is_empty_until_someone_fills_it(client, executive, escalation):
    client.force_login(executive)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert 'data-slot="exposure"' not in page


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# The core's queries, and those of the nested apps' sections (escalation.hooks.dashboard_sections):
# problems 2 (open problems per state, recurring disruptions), reviews 2 (approved reviews,
# overdue actions), regulatory 1 (deadlines due), continuity 1 (open incidents' levels; no
# business processes in this world).
MAX_QUERIES = 10 + 2 + 2 + 1 + 1


@pytest.mark.parametrize("url_name", DASHBOARD_URLS)
def test_query_count_is_bounded_whatever_the_data_size(
    client, executive, manager, url_name, django_assert_max_num_queries
):
    for i in range(5):
        make_escalation(title=f"Klein {i}", commander=manager)
    client.force_login(executive)
    url = reverse(url_name)
    for days in (7, 30, 90):
        with django_assert_max_num_queries(MAX_QUERIES):
            client.get(url, {"days": days})
    small = _queries_for(client, url)
    for i in range(45):
        make_escalation(title=f"Gross {i}", commander=manager)
    for i in range(5):
        Question.objects.create(asked_by=executive, text=f"Frage {i}", answer="Antwort")
    with django_assert_max_num_queries(MAX_QUERIES):
        page = client.get(url).content.decode()
    assert "50 open escalations" in page
    assert _queries_for(client, url) == small


def test_the_dashboard_leads_with_money_levels_and_trend(client, executive, manager):
    make_escalation(title="Kopf", commander=manager)
    client.force_login(executive)
    page = client.get(reverse("dashboard:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    headline = page[page.index('id="h-headline"') : page.index('id="h-escalations"')]
    assert "Penalty exposure now" in headline and "Open escalations by level" in headline
    assert "Against the 30 days before" in headline and "before: 0" in headline
    assert "Mean time to acknowledge (minutes)" in page  # charts over time, not only counts
