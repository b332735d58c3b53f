"""What the public page shows, derived from the incident record (incidents/statuspage/build.py):
statuses by priority, workaround and override, private services, uptime, redaction, queries."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.services import (
    incident_classify,
    incident_escalate,
    incident_provide_workaround,
    incident_resolve,
)
from escalation.services.matrix import update_publish
from escalation.services.public import public_incident_publish
from incidents.services import incident_create, update_post
from incidents.statuspage.build import Redactor, build, customer_names
from tests.factories import ServiceFactory

from .conftest import open_incident

pytestmark = pytest.mark.django_db

# A Wednesday in winter (CET, UTC+1), so days and months are easy to count.
T0 = datetime(2026, 3, 11, 11, 0, tzinfo=UTC)


def by_name(page):
    return {c.name: c for c in page.components}


@pytest.mark.parametrize(
    ("impact", "urgency", "status", "indicator"),
    [
        ("high", "high", "major_outage", "critical"),  # P1
        ("high", "medium", "partial_outage", "major"),  # P2
        ("medium", "medium", "degraded_performance", "minor"),  # P3
        ("medium", "low", "degraded_performance", "minor"),  # P4
        ("low", "low", "degraded_performance", "minor"),  # P5
    ],
)
def test_priority_decides_the_status(world, manager, impact, urgency, status, indicator):
    open_incident(manager, [world.portal], impact=impact, urgency=urgency)
    page = build()
    components = by_name(page)
    assert components["Customer portal"].status == status
    assert components["Web shop"].status == "operational"
    assert page.status == status
    assert page.indicator == indicator
    [group] = [g for g in page.groups if g.name == "Portals"]
    assert group.status == status


def test_nothing_open_means_all_operational(world):
    page = build()
    assert {c.status for c in page.components} == {"operational"}
    assert page.indicator == "none"
    assert page.open_incidents == []


def test_the_worst_open_incident_counts_and_a_workaround_lowers_it(world, manager):
    p1 = open_incident(manager, [world.portal, world.shop], publish=True)
    open_incident(manager, [world.shop], impact="high", urgency="medium")  # P2
    components = by_name(build())
    assert components["Customer portal"].status == "major_outage"
    assert components["Web shop"].status == "major_outage"
    incident_provide_workaround(incident=p1, actor=manager, workaround="Hotline takes orders")
    page = build()
    components = by_name(page)
    assert components["Customer portal"].status == "degraded_performance"
    assert components["Web shop"].status == "partial_outage"  # the P2 is now the worst
    [p1_public] = [i for i in page.open_incidents if i.impact == "critical"]
    assert p1_public.status == "identified"
    assert p1_public.effect == "degraded_performance"


def test_an_override_replaces_the_derived_status(world, manager):
    open_incident(manager, [world.portal])
    world.api.status_override = "under_maintenance"
    world.api.save()
    world.portal.status_override = "operational"
    world.portal.save()
    page = build()
    components = by_name(page)
    assert components["Public API"].status == "under_maintenance"
    assert components["Customer portal"].status == "operational"
    assert components["Customer portal"].derived_status == "major_outage"
    assert page.indicator == "maintenance"


def test_unclassified_and_private_only_incidents_are_not_public(world, manager):
    incident_create(actor=manager, title="Just detected", services=[world.portal])
    open_incident(manager, [world.backup])  # P1, but only on a private service
    page = build()
    assert page.open_incidents == []
    assert {c.status for c in page.components} == {"operational"}
    assert "Secret backup vault" not in by_name(page)


def test_an_incident_names_only_its_public_services(world, manager):
    open_incident(manager, [world.portal, world.backup], publish=True)
    [incident] = build().open_incidents
    assert [c.name for c in incident.components] == ["Customer portal"]


def test_entries_come_from_public_incidents_with_their_public_updates(world, manager):
    incident = open_incident(manager, [world.portal])
    update_post(incident=incident, actor=manager, audience="internal", body="db-7 hangs")
    update_post(incident=incident, actor=manager, audience="executive", body="Board informed")
    assert build().open_incidents == []  # not published: no entry, whatever its priority
    public_incident_publish(
        actor=manager, incidents=[incident], title="Portal langsam", body="Wir prüfen das."
    )
    update_publish(incident=incident, actor=manager, audience="customer", body="We are on it.")
    [public] = build().open_incidents
    assert public.titles == {"de": "Portal langsam", "en": "Portal langsam"}
    assert [(u.kind, u.bodies["en"]) for u in public.updates] == [
        ("update", "We are on it."),
        ("published", "Wir prüfen das."),
    ]
    assert public.updates[0].status == "investigating"


def test_customer_names_are_redacted_from_published_text(world, manager, customer):
    incident = open_incident(manager, [world.portal])
    public_incident_publish(
        actor=manager,
        incidents=[incident],
        title="Stadtwerke Nord meldet Ausfall",
        body="Stadtwerke Nord und STADTWERKE-NORD: bitte nutzen Sie die Hotline.",
    )
    [public] = build().open_incidents
    assert public.titles["de"] == "[…] meldet Ausfall"
    assert public.updates[0].bodies["de"] == "[…] und […]: bitte nutzen Sie die Hotline."


def test_redactor_knows_short_forms_and_keeps_other_words():
    redact = Redactor([("Meridian Assurance SE", "meridian-assurance"), ("ACME", "acme")])
    assert redact("Mail claims@meridian-assurance.example") == "Mail claims@[…].example"
    assert redact("Meridian's hotline; Meridian Assurance and ACME") == (
        "[…]'s hotline; […] and […]"
    )
    assert redact("Assurance is a word") == "Assurance is a word"
    assert Redactor([])("nothing to do") == "nothing to do"


def test_one_rule_recognises_customers_on_the_status_page_and_in_the_portal():
    """customer_names serves both: the status page redacts what the portal would take for
    another organisation's name (a four-letter first word too: "Nova" of "Nova Corp")."""
    customers = [("Nova Corp", "nova"), ("Stadtwerke Süd AG", "stadtwerke-sued")]
    assert Redactor(customers)("Nova reports an outage") == "[…] reports an outage"
    portal = customer_names(customers, keep="Stadtwerke Nord GmbH")  # a Stadtwerke Nord contact
    assert portal.search("Nova meldet einen Ausfall")
    assert portal.search("STADTWERKE SÜD meldet") and portal.search("via stadtwerke-sued")
    assert not portal.search("Stadtwerke melden Störungen")  # a word of their own name
    assert not portal.search("Novartis")  # whole words only
    assert customer_names([], keep="Nova Corp") is None
    # Another organisation's full name counts even when it is a word of one's own, or short.
    own_word = customer_names([("Nova", "nova"), ("O2", "o2")], keep="Acme Nova GmbH")
    assert own_word.search("Nova meldet") and own_word.search("Ausfall bei O2")


def test_history_holds_resolved_incidents_of_90_days_newest_first(world, manager):
    with time_machine.travel(T0 - timedelta(days=120), tick=False):
        old = open_incident(manager, [world.portal], publish=True)
        incident_resolve(incident=old, actor=manager, resolution="Fixed")
    stamps = []
    for days in (30, 2):
        with time_machine.travel(T0 - timedelta(days=days), tick=False):
            incident = open_incident(manager, [world.shop], publish=True)
            incident_resolve(incident=incident, actor=manager, resolution="Fixed")
            stamps.append(incident.detected_at)
    with time_machine.travel(T0, tick=False):
        page = build()
    assert [i.started_at for i in page.history] == sorted(stamps, reverse=True)
    assert all(i.status == "resolved" for i in page.history)
    assert [i.started_at for i in page.recent] == [stamps[1]]  # resolved in the last 7 days


def test_uptime_weights_major_and_partial_outages(world, manager):
    # P1 on the portal for 6 hours on 10 March (a 24-hour day in Berlin): 75 % that day.
    start = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        p1 = open_incident(manager, [world.portal], detected_at=start)
    with time_machine.travel(start + timedelta(hours=6), tick=False):
        incident_resolve(incident=p1, actor=manager, resolution="Fixed")
    # P2 on the shop for 10 hours the same day: 0.3 * 10 h = 3 h down, 87.5 %.
    with time_machine.travel(start, tick=False):
        p2 = open_incident(manager, [world.shop], impact="high", urgency="medium")
    with time_machine.travel(start + timedelta(hours=10), tick=False):
        incident_resolve(incident=p2, actor=manager, resolution="Fixed")
    # P3 on the API for the whole day: degraded, no downtime, but the bar says so.
    with time_machine.travel(start, tick=False):
        p3 = open_incident(manager, [world.api], impact="medium", urgency="medium")
    with time_machine.travel(start + timedelta(hours=14), tick=False):
        incident_resolve(incident=p3, actor=manager, resolution="Fixed")

    with time_machine.travel(T0, tick=False):
        page = build()
    components = by_name(page)
    day = {d.day.isoformat(): d for d in components["Customer portal"].days}
    assert len(components["Customer portal"].days) == 90
    assert day["2026-03-10"].uptime == pytest.approx(75.0)
    assert day["2026-03-10"].worst == "major_outage"
    assert day["2026-03-09"].uptime == 100.0
    shop = {d.day.isoformat(): d for d in components["Web shop"].days}["2026-03-10"]
    assert shop.uptime == pytest.approx(87.5)
    assert shop.worst == "partial_outage"
    api = {d.day.isoformat(): d for d in components["Public API"].days}["2026-03-10"]
    assert (api.uptime, api.worst) == (100.0, "degraded_performance")
    # 90 days ending today at 12:00 CET (11:00 UTC): 89.5 days measured, 6 hours down.
    measured_hours = 89 * 24 + 12
    assert components["Customer portal"].uptime == pytest.approx(100 * (1 - 6 / measured_hours))
    # Months: January, February, March (so far: 10 days and 12 hours).
    assert [m.first.isoformat() for m in components["Customer portal"].months] == [
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
    ]
    assert [m.uptime for m in components["Customer portal"].months][:2] == [100.0, 100.0]
    assert components["Customer portal"].months[2].uptime == pytest.approx(
        100 * (1 - 6 / (10 * 24 + 12))
    )


def test_uptime_counts_overlaps_once_and_a_workaround_as_degraded(world, manager):
    start = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        a = open_incident(manager, [world.portal], detected_at=start)
        b = open_incident(manager, [world.portal], detected_at=start)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        incident_provide_workaround(incident=a, actor=manager, workaround="Hotline")
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        incident_resolve(incident=b, actor=manager, resolution="Fixed")
    with time_machine.travel(start + timedelta(hours=8), tick=False):
        incident_resolve(incident=a, actor=manager, resolution="Fixed")
    with time_machine.travel(T0, tick=False):
        page = build()
    day = {d.day.isoformat(): d for d in by_name(page)["Customer portal"].days}["2026-03-10"]
    # Down from 08:00 to 11:00 (b until 11:00; a only until its workaround at 10:00).
    assert day.uptime == pytest.approx(100 * (1 - 3 / 24))


def test_an_open_incident_counts_until_now_and_days_follow_berlin_time(world, manager):
    # Detected 23:30 UTC = 00:30 CET on 11 March: 11 March in Berlin, not 10 March.
    start = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        open_incident(manager, [world.portal], detected_at=start)
    with time_machine.travel(T0, tick=False):  # 12:00 CET
        page = build()
    days = {d.day.isoformat(): d for d in by_name(page)["Customer portal"].days}
    assert days["2026-03-10"].uptime == 100.0
    # 11 March so far: 12 hours measured, 11.5 of them down.
    assert days["2026-03-11"].uptime == pytest.approx(100 * (1 - 11.5 / 12))
    assert page.days[-1].isoformat() == "2026-03-11"


def test_reclassification_changes_the_effect(world, manager):
    incident = open_incident(manager, [world.portal], impact="medium", urgency="medium")
    incident_escalate(incident=incident, actor=manager, reason="VIP")
    assert by_name(build())["Customer portal"].status == "degraded_performance"
    incident_classify(incident=incident, actor=manager, impact="high", urgency="high")
    assert by_name(build())["Customer portal"].status == "major_outage"


def test_one_build_runs_the_same_queries_whatever_the_size(
    world, manager, django_assert_num_queries
):
    open_incident(manager, [world.portal], publish=True)
    with django_assert_num_queries(8):
        build()
    services = [ServiceFactory(slug=f"extra-{n}", group=world.portal.group) for n in range(8)]
    for n in range(12):
        incident = open_incident(
            manager, services[n % 8 : n % 8 + 2] + [world.backup], publish=True
        )
        update_publish(incident=incident, actor=manager, audience="customer", body=f"Update {n}")
        if n % 2:
            incident_resolve(incident=incident, actor=manager, resolution="Fixed")
    with django_assert_num_queries(8):
        page = build()
    assert len(page.components) == 12
    assert len(page.open_incidents) == 7
    assert len(page.history) == 6


def test_an_outage_over_several_days_and_the_short_day_of_dst(world, manager):
    # From 8 March 12:00 CET to 10 March 12:00 CET: half, none, half of those days.
    start = datetime(2026, 3, 8, 11, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        long = open_incident(manager, [world.portal], detected_at=start)
    with time_machine.travel(start + timedelta(days=2), tick=False):
        incident_resolve(incident=long, actor=manager, resolution="Fixed")
    # Two hours of P1 on 29 March 2026, the day clocks go forward: a 23-hour day in Berlin.
    dst = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    with time_machine.travel(dst, tick=False):
        short = open_incident(manager, [world.shop], detected_at=dst)
    with time_machine.travel(dst + timedelta(hours=2), tick=False):
        incident_resolve(incident=short, actor=manager, resolution="Fixed")
    with time_machine.travel(datetime(2026, 4, 2, 10, 0, tzinfo=UTC), tick=False):
        page = build()
    portal = {d.day.isoformat(): d.uptime for d in by_name(page)["Customer portal"].days}
    assert [portal[f"2026-03-{n:02}"] for n in (7, 8, 9, 10, 11)] == pytest.approx(
        [100.0, 50.0, 0.0, 50.0, 100.0]
    )
    shop = {d.day.isoformat(): d.uptime for d in by_name(page)["Web shop"].days}
    assert shop["2026-03-29"] == pytest.approx(100 * (1 - 2 / 23))


def _down_seconds_by_definition(pieces):
    """The definition, stretch by stretch: at every moment the worst active piece counts."""
    from incidents.statuspage.build import DOWNTIME_WEIGHT

    points = sorted({p for s, e, _ in pieces for p in (s, e)})
    down = 0.0
    for a, b in zip(points, points[1:], strict=False):
        weight = max(
            (DOWNTIME_WEIGHT[eff] for s, e, eff in pieces if s <= a and e >= b), default=0.0
        )
        down += weight * (b - a).total_seconds()
    return down


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 86_400),
            st.integers(0, 86_400),
            st.sampled_from(["major_outage", "partial_outage", "degraded_performance"]),
        ),
        max_size=12,
    )
)
def test_down_seconds_is_the_worst_piece_at_every_moment(raw):
    from datetime import UTC, datetime, timedelta

    from incidents.statuspage.build import _down_seconds

    day = datetime(2026, 3, 29, tzinfo=UTC)
    pieces = [
        (day + timedelta(seconds=min(a, b)), day + timedelta(seconds=max(a, b)), effect)
        for a, b, effect in raw
    ]
    assert _down_seconds(pieces) == pytest.approx(_down_seconds_by_definition(pieces))
