"""KPIs for 7/30/90 days from a small hand-made data set with known timestamps, driven through the
workflow services at fixed times (so the `*_at` fields are set exactly as in production)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from escalation.dashboard import charts, selectors
from escalation.services import (
    incident_acknowledge,
    incident_provide_workaround,
    incident_resolve,
)
from incidents.models import Incident, State
from tests.factories import IncidentFactory, drive

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def _incident(*, title, detected, priority, ack=None, workaround=None, resolved=None):
    """Detected at `detected`; acknowledged, workaround and resolved after the given spans."""
    with time_machine.travel(detected, tick=False):
        incident = IncidentFactory(title=title, detected_at=detected)
        incident = drive(incident, State.ESCALATED if workaround else State.CLASSIFIED)
    steps = [
        (ack, lambda i: incident_acknowledge(incident=i, actor=None)),
        (workaround, lambda i: incident_provide_workaround(incident=i, actor=None, workaround="B")),
        (resolved, lambda i: incident_resolve(incident=i, actor=None, resolution="Behoben")),
    ]
    for span, step in sorted((s for s in steps if s[0] is not None), key=lambda s: s[0]):
        with time_machine.travel(detected + span, tick=False):
            incident = step(incident)
    Incident.objects.filter(pk=incident.pk).update(priority=priority)
    return incident


@pytest.fixture
def data_set(db):
    # A: 2 days ago, P1: acknowledged after 10 min, workaround after 1 h, resolved after 3 h.
    _incident(
        title="A", detected=NOW - 2 * 24 * HOUR, priority=1, ack=10 * MIN, workaround=HOUR,
        resolved=3 * HOUR,
    )  # fmt: skip
    # B: 20 days ago, P2: acknowledged after 20 min, resolved after 5 h, no workaround.
    _incident(title="B", detected=NOW - 20 * 24 * HOUR, priority=2, ack=20 * MIN, resolved=5 * HOUR)
    # C: 60 days ago, P2: acknowledged after 30 min, workaround after 2 h, resolved after 9 h.
    _incident(
        title="C", detected=NOW - 60 * 24 * HOUR, priority=2, ack=30 * MIN, workaround=2 * HOUR,
        resolved=9 * HOUR,
    )  # fmt: skip
    # D: 1 day ago, P3, still open and not acknowledged: counted, but in no mean.
    _incident(title="D", detected=NOW - 24 * HOUR, priority=3)
    # E: 120 days ago, outside every window.
    _incident(title="E", detected=NOW - 120 * 24 * HOUR, priority=1, ack=100 * MIN)


EXPECTED = {
    7: {"by": [1, 0, 1, 0, 0], "mtta": 10 * MIN, "mttw": HOUR, "mttr": 3 * HOUR},
    30: {"by": [1, 1, 1, 0, 0], "mtta": 15 * MIN, "mttw": HOUR, "mttr": 4 * HOUR},
    90: {
        "by": [1, 2, 1, 0, 0],
        "mtta": 20 * MIN,
        "mttw": 90 * MIN,
        "mttr": timedelta(hours=5, minutes=40),  # (3 + 5 + 9) h / 3
    },
}


@pytest.mark.parametrize("days", [7, 30, 90])
def test_kpis_for_each_window_are_exact(data_set, days, django_assert_num_queries):
    with django_assert_num_queries(1):
        kpis = selectors.kpis(days=days, now=NOW)
    expected = EXPECTED[days]
    assert [n for _p, n in kpis["by_priority"]] == expected["by"]
    assert kpis["total"] == sum(expected["by"])
    assert kpis["mtta"] == expected["mtta"]
    assert kpis["mttw"] == expected["mttw"]
    assert kpis["mttr"] == expected["mttr"]
    assert kpis["acknowledged"] == sum(expected["by"]) - 1  # D is not acknowledged


def test_an_empty_window_has_no_means(db):
    kpis = selectors.kpis(days=7, now=NOW)
    assert kpis["total"] == 0 and kpis["mtta"] is None and kpis["mttr"] is None
    assert charts.duration(kpis["mtta"]) == "–"


def test_incidents_per_day_and_per_week(data_set, django_assert_num_queries):
    with django_assert_num_queries(1):
        unit, days = selectors.incidents_per_period(days=30, now=NOW)
    assert unit == "day" and len(days) == 31  # both ends of the window are calendar days
    assert sum(n for _d, n in days) == 3  # A, B and D
    assert dict(days)[(NOW - 24 * HOUR).date()] == 1
    assert dict(days)[(NOW - 2 * 24 * HOUR).date()] == 1
    unit, weeks = selectors.incidents_per_period(days=90, now=NOW)
    assert unit == "week" and all(day.weekday() == 0 for day, _n in weeks)
    assert sum(n for _d, n in weeks) == 4 and len(weeks) == 14


@pytest.mark.parametrize("days", [7, 30, 90])
def test_dashboard_shows_the_figures_and_accessible_charts(client, executive, data_set, days):
    client.force_login(executive)
    with time_machine.travel(NOW + MIN, tick=False):
        page = client.get(reverse("dashboard:index"), {"days": days}).content.decode()
    expected = EXPECTED[days]
    assert charts.duration(expected["mtta"]) in page
    assert charts.duration(expected["mttr"]) in page
    assert page.count('role="img"') == 5 and "aria-label=" in page  # counts; MTTA, MTTW, MTTR
    by_priority = ", ".join(f"P{p}: {n}" for p, n in zip(range(1, 6), expected["by"], strict=True))
    assert f"Incidents by priority, last {days} days. {by_priority}" in page
    for p, n in zip(range(1, 6), expected["by"], strict=True):
        assert f'<tr><th scope="row">P{p}</th><td>{n}</td></tr>' in page
    assert "<script" not in page.split("</head>", 1)[1]  # no chart library, no inline script


def test_duration_formatting():
    assert charts.duration(timedelta(minutes=5, seconds=59)) == "5 min"
    assert charts.duration(timedelta(hours=5, minutes=40)) == "5 h 40 min"
    assert charts.duration(timedelta(days=3, hours=2)) == "3 d 2 h"
    now = NOW
    assert charts.time_to(now + 12 * MIN, now) == "in 12 min"
    assert charts.time_to(now - 5 * MIN, now) == "overdue by 5 min"


def test_bar_chart_geometry_is_not_localised():
    chart = charts.bar_chart(title="T", items=[("P1", 2, "#000"), ("P2", 1, "#000")])
    assert [b.height for b in chart.bars] == ["170.0", "85.0"]
    assert all("," not in b.x for b in chart.bars)
    many = charts.bar_chart(title="T", items=[(str(i), i, "#000") for i in range(31)])
    assert not many.show_values and sum(b.show_label for b in many.bars) <= charts.MAX_LABELS
    few_labels = charts.bar_chart(
        title="T", items=[(str(i), i, "#000") for i in range(31)], max_labels=8
    )
    assert sum(b.show_label for b in few_labels.bars) <= 8


def test_kpis_are_computed_at_most_every_few_seconds_per_window(client, executive, escalation):
    """The live partial polls every 15 s per open dashboard: the 7/30/90-day aggregates come
    from the shared cache for DASHBOARD_KPI_SECONDS, the open escalations never do."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(executive)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    first = queries("/dashboard/live/?days=90")
    again = queries("/dashboard/live/?days=90")
    assert len(again) == len(first) - 3  # the aggregate, per-week counts, previous period
    assert not any("AVG(" in sql.upper() for sql in again)
    other_window = queries("/dashboard/live/?days=7")
    assert len(other_window) == len(first)
