"""The deadline rules of regulatory reports (escalation/regulatory/deadlines.py), pinned against
the regulations' texts: NIS2 Art. 23(4), DORA Art. 19 with its RTS, GDPR Art. 33(1)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from escalation.regulatory.deadlines import (
    AWARE,
    CLASSIFIED,
    PREVIOUS,
    Rule,
    add_months,
    deadline,
    format_remaining,
    reminder_times,
)

BERLIN = ZoneInfo("Europe/Berlin")

NIS2_EARLY_WARNING = Rule(anchor=AWARE, hours=24)
NIS2_NOTIFICATION = Rule(anchor=AWARE, hours=72)
NIS2_FINAL = Rule(anchor=PREVIOUS, months=1)
DORA_INITIAL = Rule(anchor=CLASSIFIED, hours=4, cap_hours_from_aware=24)
DORA_INTERMEDIATE = Rule(anchor=PREVIOUS, hours=72)
DORA_FINAL = Rule(anchor=PREVIOUS, months=1)
GDPR_NOTIFICATION = Rule(anchor=AWARE, hours=72)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_nis2_early_warning_24_hours_and_notification_72_hours_from_awareness():
    aware = berlin(2026, 6, 10, 9, 15)
    assert deadline(NIS2_EARLY_WARNING, anchors={AWARE: aware}) == berlin(2026, 6, 11, 9, 15)
    assert deadline(NIS2_NOTIFICATION, anchors={AWARE: aware}) == berlin(2026, 6, 13, 9, 15)


def test_nis2_final_report_one_calendar_month_after_the_notification():
    notified = berlin(2026, 6, 12, 17, 40)
    assert deadline(NIS2_FINAL, anchors={PREVIOUS: notified}) == berlin(2026, 7, 12, 17, 40)


def test_gdpr_72_hours_from_awareness():
    aware = berlin(2026, 12, 30, 22, 0)
    assert deadline(GDPR_NOTIFICATION, anchors={AWARE: aware}) == berlin(2027, 1, 2, 22, 0)


def test_dora_initial_4_hours_from_classification_when_that_is_earlier():
    aware = berlin(2026, 6, 10, 8, 0)
    classified = berlin(2026, 6, 10, 11, 0)
    due = deadline(DORA_INITIAL, anchors={AWARE: aware, CLASSIFIED: classified})
    assert due == berlin(2026, 6, 10, 15, 0)


def test_dora_initial_no_later_than_24_hours_from_awareness():
    aware = berlin(2026, 6, 10, 8, 0)
    classified = berlin(2026, 6, 11, 6, 0)  # 22 h after becoming aware: 4 h more would be 26 h
    due = deadline(DORA_INITIAL, anchors={AWARE: aware, CLASSIFIED: classified})
    assert due == berlin(2026, 6, 11, 8, 0)


def test_dora_initial_classified_after_24_hours_is_already_due():
    aware = berlin(2026, 6, 10, 8, 0)
    classified = berlin(2026, 6, 12, 8, 0)
    due = deadline(DORA_INITIAL, anchors={AWARE: aware, CLASSIFIED: classified})
    assert due == berlin(2026, 6, 11, 8, 0) < classified


def test_dora_initial_waits_for_the_classification():
    assert deadline(DORA_INITIAL, anchors={AWARE: berlin(2026, 6, 10, 8, 0)}) is None


def test_dora_intermediate_72_hours_after_the_initial_and_final_a_month_after_it():
    initial = berlin(2026, 6, 10, 14, 0)
    assert deadline(DORA_INTERMEDIATE, anchors={PREVIOUS: initial}) == berlin(2026, 6, 13, 14, 0)
    intermediate = berlin(2026, 6, 13, 12, 0)
    assert deadline(DORA_FINAL, anchors={PREVIOUS: intermediate}) == berlin(2026, 7, 13, 12, 0)


def test_hours_are_elapsed_time_across_spring_forward():
    # Europe/Berlin: 29 March 2026, 02:00 CET -> 03:00 CEST
    aware = berlin(2026, 3, 28, 12, 0)
    due = deadline(NIS2_EARLY_WARNING, anchors={AWARE: aware})
    assert due - aware == timedelta(hours=24)
    assert due.astimezone(BERLIN).hour == 13  # the wall clock moved on by 25 hours


def test_hours_are_elapsed_time_across_fall_back():
    # Europe/Berlin: 25 October 2026, 03:00 CEST -> 02:00 CET
    aware = berlin(2026, 10, 24, 12, 0)
    due = deadline(NIS2_NOTIFICATION, anchors={AWARE: aware})
    assert due - aware == timedelta(hours=72)
    assert due.astimezone(BERLIN).hour == 11  # the wall clock moved on by 71 hours


def test_month_keeps_the_wall_clock_time_across_daylight_saving():
    notified = berlin(2026, 3, 10, 9, 0)  # CET (+01:00)
    due = add_months(notified, 1)
    assert due.astimezone(BERLIN) == berlin(2026, 4, 10, 9, 0)  # CEST (+02:00)
    assert due - notified == timedelta(days=31, hours=-1)


def test_month_end_clamps_to_the_last_day():
    assert add_months(berlin(2026, 1, 31, 10, 0), 1) == berlin(2026, 2, 28, 10, 0)
    assert add_months(berlin(2028, 1, 31, 10, 0), 1) == berlin(2028, 2, 29, 10, 0)
    assert add_months(berlin(2026, 12, 15, 10, 0), 1) == berlin(2027, 1, 15, 10, 0)


def test_month_uses_the_legal_time_zone_not_utc():
    # 31 May 23:30 in Berlin is still 31 May 21:30 UTC; in Berlin, one month later is 30 June
    notified = berlin(2026, 5, 31, 23, 30)
    assert add_months(notified, 1) == berlin(2026, 6, 30, 23, 30)
    # 1 March 00:30 in Berlin is 28 February in UTC: the month runs from the Berlin date
    notified = berlin(2026, 3, 1, 0, 30)
    assert add_months(notified, 1) == berlin(2026, 4, 1, 0, 30)


def test_month_landing_on_the_missing_hour_moves_forward():
    # Europe/Berlin: 28 March 2027, 02:00 CET -> 03:00 CEST; 02:30 does not exist that day
    due = add_months(berlin(2027, 2, 28, 2, 30), 1)
    assert due == berlin(2027, 3, 28, 3, 30)
    assert due == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_month_landing_on_the_doubled_hour_takes_the_first():
    due = add_months(berlin(2026, 9, 25, 2, 30), 1)
    assert due == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, not 02:30 CET


def test_reminders_at_half_and_four_fifths_then_on_breach():
    start = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    due = start + timedelta(hours=24)
    assert reminder_times(start, due) == [
        start + timedelta(hours=12),
        start + timedelta(hours=19, minutes=12),
        due,
    ]
    assert reminder_times(due, start) == [start]  # already over: only the breach


def test_format_remaining():
    assert format_remaining(timedelta(hours=3, minutes=10, seconds=59)) == (0, 3, 10)
    assert format_remaining(timedelta(days=-2, hours=1)) == (1, 23, 0)


@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2030, 12, 31),
        timezones=st.sampled_from([UTC, BERLIN]),
        allow_imaginary=False,
    ),
    st.sampled_from([4, 24, 72]),
)
def test_hour_rules_are_elapsed_hours_whatever_the_zone(aware, hours):
    due = deadline(Rule(anchor=AWARE, hours=hours), anchors={AWARE: aware})
    assert due - aware == timedelta(hours=hours)


@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    )
)
def test_a_month_later_is_the_same_or_last_day_of_the_next_month_in_berlin(start):
    due = add_months(start, 1)
    local_start, local_due = start.astimezone(BERLIN), due.astimezone(BERLIN)
    assert (local_due.year * 12 + local_due.month) - (
        local_start.year * 12 + local_start.month
    ) == 1
    assert local_due.day == local_start.day or local_due.day < local_start.day
    assert timedelta(days=27) < due - start < timedelta(days=32)


@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    st.integers(min_value=0, max_value=30 * 60),
)
def test_dora_initial_is_never_later_than_24_hours_nor_4_hours_after_classification(aware, minutes):
    classified = aware + timedelta(minutes=minutes)
    due = deadline(DORA_INITIAL, anchors={AWARE: aware, CLASSIFIED: classified})
    assert due <= aware + timedelta(hours=24)
    assert due <= classified + timedelta(hours=4)
    assert due in (aware + timedelta(hours=24), classified + timedelta(hours=4))
