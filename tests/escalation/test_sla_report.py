"""The monthly SLA report per customer: its figures are the per-incident figures (credits equal the
live exposure at month end, totals are their sum, the month cap applies once), availability from
the outages, the month's boundaries, the CSV and PDF, who may read it, and bounded queries."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalation import reports, selectors
from escalation.models import Contract, PenaltyClause, SlaTarget
from escalation.report_views import csv_rows, money_text
from escalation.services import (
    incident_acknowledge,
    incident_classify,
    incident_provide_workaround,
    incident_resolve,
)
from incidents.exports import csv_write
from incidents.models import Incident
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db

# November 2026: 30 days, no change of daylight-saving time (that was on 25 October), so in
# Berlin the month runs from 31 Oct 23:00 UTC to 30 Nov 23:00 UTC, 720 hours.
MONTH_START = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
MONTH_END = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
A_AT = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)  # the P1
B_AT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # the P3
AFTER = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # when the report is read


@pytest.fixture(autouse=True)
def _english_pages(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the site's default language is German


@pytest.fixture
def service(db):
    return ServiceFactory(slug="kundenportal", name="Kundenportal")


@pytest.fixture
def contract(customer, service):
    """24/7, EUR 20,000 a month. P1: respond in 15 min, workaround in 60, restore in 120; P3:
    restore in 480. EUR 500 per started hour beyond the restore target; at most EUR 1,200 a
    month."""
    contract = Contract.objects.create(
        customer=customer,
        name="Betrieb Kundenportal",
        monthly_fee=Decimal("20000.00"),
        cap_per_month_amount=Decimal("1200.00"),
        valid_from=date(2026, 1, 1),
    )
    contract.services.add(service)
    SlaTarget.objects.create(
        contract=contract,
        priority=1,
        response_minutes=15,
        workaround_minutes=60,
        restore_minutes=120,
    )
    SlaTarget.objects.create(contract=contract, priority=3, restore_minutes=480)
    PenaltyClause.objects.create(
        contract=contract,
        target="restore",
        form="fixed_per_period",
        amount=Decimal("500"),
        period_minutes=60,
    )
    return contract


def open_incident(service, customer, actor, at, *, impact="high", urgency="high", title=None):
    extra = {"title": title} if title else {}
    with time_machine.travel(at, tick=False):
        incident = IncidentFactory(services=[service], customers=[customer], actor=actor, **extra)
        return incident_classify(incident=incident, actor=actor, impact=impact, urgency=urgency)


def resolve(incident, actor, at):
    with time_machine.travel(at, tick=False):
        return incident_resolve(incident=incident, actor=actor, resolution="Neustart")


@pytest.fixture
def month(contract, service, customer, other_customer, manager):
    """A: P1, acknowledged after 5 min, workaround after 30, resolved after 3 h (restore missed by
    1 h: EUR 500). B: P3, resolved after 10.5 h (missed by 2.5 h: three started hours, EUR 1,500).
    C: P2 inside A's outage (no P2 target: no clocks, but an outage). D: the next month. E: another
    customer's P1 on the same service."""
    a = open_incident(service, customer, manager, A_AT, title="Portal down")
    with time_machine.travel(A_AT + timedelta(minutes=5), tick=False):
        a = incident_acknowledge(incident=a, actor=manager)
    with time_machine.travel(A_AT + timedelta(minutes=30), tick=False):
        a = incident_provide_workaround(incident=a, actor=manager, workaround="Zweiter Knoten")
    c = open_incident(service, customer, manager, A_AT + timedelta(hours=1), urgency="medium")
    resolve(c, manager, A_AT + timedelta(hours=2))
    a = resolve(a, manager, A_AT + timedelta(hours=3))
    b = open_incident(service, customer, manager, B_AT, impact="medium", urgency="medium")
    b = resolve(b, manager, B_AT + timedelta(hours=10, minutes=30))
    d = open_incident(service, customer, manager, datetime(2026, 12, 2, 9, tzinfo=UTC))
    resolve(d, manager, datetime(2026, 12, 2, 15, tzinfo=UTC))
    e = open_incident(service, other_customer, manager, B_AT)
    resolve(e, manager, B_AT + timedelta(hours=5))
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def november(customer, at=AFTER):
    return reports.sla_month_report(customer=customer, year=2026, month=11, at=at)


def accrued(incident, at):
    loaded = selectors.with_sla(Incident.objects.filter(pk=incident.pk)).get()
    (exposure,) = selectors.sla_exposure(loaded, at)
    return exposure.accrued.amount


# --- The figures ---------------------------------------------------------------------------------


def test_month_boundaries_are_the_customers_midnights(customer):
    assert reports.month_bounds("Europe/Berlin", 2026, 11) == (MONTH_START, MONTH_END)
    assert reports.month_bounds("Europe/Berlin", 2026, 12)[1] == datetime(
        2026, 12, 31, 23, tzinfo=UTC
    )
    for year, month in [(2026, 0), (2026, 13), (0, 1), (9999, 12)]:
        with pytest.raises(reports.InvalidMonth):
            reports.month_bounds("Europe/Berlin", year, month)


def test_credits_are_the_exposure_at_month_end_and_totals_their_sum(month, contract, customer):
    report = november(customer)
    (section,) = report.contracts
    lines = {line.incident_id: line for line in section.incidents}
    assert set(lines) == {month["a"].pk, month["b"].pk}  # not C (no clocks), D (December), E
    for key in ("a", "b"):
        assert lines[month[key].pk].credit == accrued(month[key], MONTH_END)
    assert lines[month["a"].pk].credit == Decimal("500.00")
    assert lines[month["b"].pk].credit == Decimal("1500.00")
    assert section.credits_sum == sum(line.credit for line in section.incidents)
    assert section.credits_sum == Decimal("2000.00")
    assert section.month_cap == Decimal("1200.00")
    assert section.credits_owed == min(section.credits_sum, section.month_cap)
    assert section.month_capped
    assert [(t.currency, t.credits_sum, t.credits_owed) for t in report.totals] == [
        ("EUR", Decimal("2000.00"), Decimal("1200.00"))
    ]
    assert report.complete and not report.provisional


def test_targets_met_and_missed_per_priority(month, customer):
    (section,) = november(customer).contracts
    by_priority = {p.priority: p for p in section.priorities}
    assert set(by_priority) == {1, 3}
    p1, p3 = by_priority[1], by_priority[3]
    assert p1.incidents == 1 and p3.incidents == 1
    assert p1.count("response") == reports.TargetCount(met=1)
    assert p1.count("workaround") == reports.TargetCount(met=1)
    assert p1.count("restore") == reports.TargetCount(missed=1)
    assert p3.count("response").total == 0
    assert p3.count("restore") == reports.TargetCount(missed=1)
    a = next(line for line in section.incidents if line.priority == 1)
    restore = a.target("restore")
    assert restore.status == "missed" and restore.elapsed_seconds == 3 * 3600
    assert restore.overrun_seconds == 3600


def test_availability_counts_overlapping_outages_once(month, customer):
    (section,) = november(customer).contracts
    (portal,) = section.availability
    assert portal.service_seconds == 720 * 3600
    assert portal.downtime_seconds == 3 * 3600  # A (3 h) with C inside it; not B (P3), D or E
    assert portal.outages == 2
    assert portal.percent == Decimal("99.583")  # 1 - 3/720


def test_availability_arithmetic():
    start, until = MONTH_START, MONTH_END
    spans = [
        (start - timedelta(hours=2), start + timedelta(hours=1)),  # from October: 1 h counts
        (start + timedelta(hours=10), start + timedelta(hours=12)),
        (start + timedelta(hours=11), start + timedelta(hours=13)),  # overlaps: 10-13 is 3 h
        (until - timedelta(hours=1), None),  # still open: until the end of the month
    ]
    merged = reports.merge_intervals(spans, start=start, until=until)
    assert sum((hi - lo).total_seconds() for lo, hi in merged) == 5 * 3600
    assert reports.availability_percent(0, 720 * 3600) == Decimal("100.000")
    assert reports.availability_percent(1, 720 * 3600) == Decimal("99.999")  # never rounded up
    assert reports.availability_percent(10, 0) is None


def test_an_open_incident_counts_what_accrued_so_far(contract, service, customer, manager):
    b = open_incident(service, customer, manager, B_AT, impact="medium", urgency="medium")
    at = B_AT + timedelta(hours=9, minutes=30)  # 1.5 h beyond the 8-hour target: two hours
    report = november(customer, at=at)
    (section,) = report.contracts
    (line,) = section.incidents
    assert line.incident_id == b.pk and line.provisional
    assert line.target("restore").status == "missed"
    assert line.credit == Decimal("1000.00") == accrued(b, at)
    assert not report.complete and report.provisional
    assert report.measured_at == at
    # in the next month the open incident still counts what had accrued by the end of November
    late = november(customer, at=datetime(2026, 12, 20, tzinfo=UTC))
    (section,) = late.contracts
    assert section.incidents[0].credit == accrued(b, MONTH_END) == Decimal("123500.00")
    assert section.credits_owed == Decimal("1200.00")  # the month cap


def test_a_contract_not_in_force_is_left_out(contract, customer):
    contract.valid_from = date(2026, 12, 1)
    contract.save()
    assert november(customer).contracts == ()


# --- HTML, CSV, PDF ------------------------------------------------------------------------------


def url(name, customer, month="2026-11"):
    year, mm = month.split("-")
    return reverse(f"console:{name}", args=[customer.slug, year, mm])


def test_html_shows_the_figures(month, customer, manager, client):
    client.force_login(manager)
    with time_machine.travel(AFTER, tick=False):
        response = client.get(url("sla_report", customer))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Portal down" in html
    assert "€2,000.00" in html and "€1,200.00" in html and "€500.00" in html
    assert "99.583" in html
    assert month["d"].title not in html and month["e"].title not in html


def test_amounts_in_german(month, customer, manager, client):
    client.force_login(manager)
    with time_machine.travel(AFTER, tick=False):
        response = client.get(url("sla_report", customer), HTTP_ACCEPT_LANGUAGE="de")
    html = response.content.decode()
    assert "1.200,00\u00a0€" in html and "2.000,00\u00a0€" in html
    assert "99,583" in html


def test_money_text_is_decimal_and_localised(settings):
    from django.utils import translation

    with translation.override("de"):
        assert money_text(Decimal("1234.56"), "EUR") == "1.234,56\u00a0€"
        assert money_text(Decimal("1234.5"), "CHF") == "1.234,50\u00a0CHF"
    with translation.override("en"):
        assert money_text(Decimal("1234.56"), "EUR") == "€1,234.56"
        assert money_text(Decimal("1234.56"), "CHF") == "CHF\u00a01,234.56"


def test_csv_totals_row_equals_the_report_total(month, customer, manager, client):
    client.force_login(manager)
    with time_machine.travel(AFTER, tick=False):
        response = client.get(url("sla_report_csv", customer))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "sla-report-stadtwerke-nord-2026-11.csv" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    header, *incident_rows, total = rows
    credit, owed = header.index("Credit"), header.index("Credits owed (month cap applied)")
    assert len(incident_rows) == 2
    assert total[header.index("Title")] == "Total"
    assert Decimal(total[credit]) == sum(Decimal(r[credit]) for r in incident_rows)
    (section,) = november(customer).contracts
    assert Decimal(total[credit]) == section.credits_sum == Decimal("2000.00")
    assert Decimal(total[owed]) == section.credits_owed == Decimal("1200.00")


def test_csv_text_never_runs_as_a_formula(contract, service, customer, manager):
    open_incident(service, customer, manager, A_AT, title="=HYPERLINK(1)")
    out = io.StringIO()
    csv_write(out, csv_rows(november(customer)))
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1][rows[0].index("Title")] == "'=HYPERLINK(1)"


def test_pdf(month, customer, executive, client):
    client.force_login(executive)
    with time_machine.travel(AFTER, tick=False):
        response = client.get(url("sla_report_pdf", customer))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


# --- Who may read --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sla_report", "sla_report_csv", "sla_report_pdf"])
def test_access(
    name,
    contract,
    customer,
    other_customer,
    manager,
    executive,
    responder,
    customer_contact,
    other_customer_contact,
    client,
):
    target = url(name, customer)
    with time_machine.travel(AFTER, tick=False):
        anonymous = client.get(target)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        for person, status in [
            (manager, 200),
            (executive, 200),
            (customer_contact, 200),
            (other_customer_contact, 404),
            (responder, 403),
        ]:
            client.force_login(person)
            assert client.get(target).status_code == status, person.username
        client.force_login(other_customer_contact)  # their own organisation: no contract, fine
        assert client.get(url(name, other_customer)).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/console/reports/stadtwerke-nord/2026-13/",
        "/console/reports/stadtwerke-nord/2026-00/",
        "/console/reports/stadtwerke-nord/0000-01/",
        "/console/reports/stadtwerke-nord/2026-1/",
        "/console/reports/stadtwerke-nord/2027-01/",  # not begun yet
        "/console/reports/stadtwerke-nord/2026-11.xls",
        "/console/reports/nobody/2026-11/",
        "/console/reports/nobody/2026-11.csv",
    ],
)
def test_bad_months_and_customers_are_404(path, contract, manager, client):
    client.force_login(manager)
    with time_machine.travel(AFTER, tick=False):
        assert client.get(path).status_code == 404


def test_report_views_answer_get_only(contract, customer, manager, client):
    client.force_login(manager)
    with time_machine.travel(AFTER, tick=False):
        assert client.post(url("sla_report", customer)).status_code == 405


def test_index_defaults_to_last_month_and_redirects(contract, customer, manager, client):
    client.force_login(manager)
    with time_machine.travel(AFTER, tick=False):
        page = client.get(reverse("console:reports"))
        assert page.status_code == 200
        assert 'value="2026-11"' in page.content.decode()
        assert customer.name in page.content.decode()
        chosen = client.get(
            reverse("console:reports"), {"customer": customer.slug, "month": "2026-11"}
        )
        assert chosen.status_code == 302 and chosen["Location"] == url("sla_report", customer)
        for bad in [
            {"customer": customer.slug, "month": "2026-13"},
            {"customer": "x", "month": "2026-11"},
            {"customer": customer.slug, "month": "soon"},
            {"customer": customer.slug, "month": "2027-02"},
        ]:
            assert client.get(reverse("console:reports"), bad).status_code == 400, bad


def test_form_and_report_agree_when_the_customers_month_has_begun(
    contract, customer, manager, client
):
    """One rule, the customer's midnight: on 31 December 12:00 UTC it is already January in
    Kiritimati (UTC+14) but not in Berlin; the form sends a Kiritimati customer to January's
    report and refuses it for a Berlin one, and the report's URL answers the same."""
    from incidents.models import Customer

    january = {"customer": customer.slug, "month": "2027-01"}
    with time_machine.travel(datetime(2026, 12, 31, 12, tzinfo=UTC), tick=False):
        client.force_login(manager)
        refused = client.get(reverse("console:reports"), january)
        assert refused.status_code == 400 and "has not begun" in refused.content.decode()
        assert client.get(url("sla_report", customer, "2027-01")).status_code == 404
        Customer.objects.filter(pk=customer.pk).update(time_zone="Pacific/Kiritimati")
        chosen = client.get(reverse("console:reports"), january)
        assert chosen.status_code == 302
        assert chosen["Location"] == url("sla_report", customer, "2027-01")
        assert client.get(chosen["Location"]).status_code == 200
        too_far = client.get(reverse("console:reports"), {**january, "month": "9999-12"})
        assert too_far.status_code == 400  # no month after it to end this one: no 500


def test_index_offers_a_customer_contact_only_their_organisation(
    contract, customer, other_customer, other_customer_contact, client
):
    client.force_login(other_customer_contact)
    with time_machine.travel(AFTER, tick=False):
        page = client.get(reverse("console:reports")).content.decode()
        assert other_customer.name in page and customer.name not in page
        sneaky = {"customer": customer.slug, "month": "2026-11"}
        assert client.get(reverse("console:reports"), sneaky).status_code == 400


def test_index_is_closed_to_responders(responder, client):
    client.force_login(responder)
    assert client.get(reverse("console:reports")).status_code == 403


# --- Bounded queries -----------------------------------------------------------------------------


def _incidents(n, service, customer, manager):
    for i in range(n):
        b = open_incident(
            service,
            customer,
            manager,
            B_AT + timedelta(hours=i),
            impact="high" if i % 2 else "medium",
            urgency="high" if i % 2 else "medium",
        )
        if i % 3:
            resolve(b, manager, B_AT + timedelta(hours=i + 9))


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


def test_queries_do_not_grow_with_the_incidents(
    contract, service, customer, manager, client, django_assert_max_num_queries
):
    client.force_login(manager)
    _incidents(2, service, customer, manager)
    with time_machine.travel(AFTER, tick=False):
        few = _count(lambda: november(customer))
        few_html = _count(lambda: client.get(url("sla_report", customer)))
    _incidents(18, service, customer, manager)
    assert len(november(customer).contracts[0].incidents) == 20
    with time_machine.travel(AFTER, tick=False):
        assert _count(lambda: november(customer)) == few
        with django_assert_max_num_queries(few_html):
            response = client.get(url("sla_report", customer))
        assert response.status_code == 200
        with django_assert_max_num_queries(12):
            november(customer)
