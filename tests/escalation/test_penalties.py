"""Penalty arithmetic from realistic contract clauses: forms, tiers, caps, rounding, bad input.

Every expected amount is computed by hand in the comment next to its row; money is Decimal and
rounded to cents, half up, once per clause (after multiplying the unit by the started periods).
"""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.penalties import (
    FEE_PERCENT_PER_BREACH,
    FEE_PERCENT_PER_PERIOD,
    FIXED_PER_BREACH,
    FIXED_PER_PERIOD,
    FORMS,
    PER_PERIOD,
    Caps,
    Clause,
    clause_charge,
    incident_penalty,
    money,
    month_total,
    periods_started,
    room_in_month,
)

PROPERTY = settings(max_examples=150, deadline=None)
MINUTE = 60
HOUR = 3600
FEE = Decimal("30000.00")  # a monthly service fee of EUR 30,000
ODD_FEE = Decimal("12345.67")


def eur(value: str) -> Decimal:
    return Decimal(value)


# Realistic clauses, one per row of the tables below.
EUR_500_PER_HOUR = Clause(FIXED_PER_PERIOD, amount=eur("500"))
ONE_THIRTIETH_PER_HALF_HOUR = Clause(
    FEE_PERCENT_PER_PERIOD, fee_percent=eur("3.333333"), period_minutes=30
)
EUR_2500_PER_MISSED_RESPONSE = Clause(FIXED_PER_BREACH, target="response", amount=eur("2500"))
EUR_1000_BEYOND_15_MIN = Clause(FIXED_PER_BREACH, amount=eur("1000"), from_minutes=15)
EUR_1000_PER_HOUR_AFTER_4_H = Clause(FIXED_PER_PERIOD, amount=eur("1000"), from_minutes=240)


# --- money -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(500, "500.00", id="int"),
        pytest.param("0.005", "0.01", id="half-a-cent-rounds-up"),
        pytest.param("0.004999", "0.00", id="just-below-half-rounds-down"),
        pytest.param("2.675", "2.68", id="exact-decimal-half-up"),  # float 2.675 would give 2.67
        pytest.param("-0.005", "-0.01", id="negative-half-away-from-zero"),
        pytest.param(Decimal("999.9999"), "1000.00", id="carries-into-the-euros"),
    ],
)
def test_money_rounds_to_cents_half_up(value, expected):
    assert money(value) == Decimal(expected)
    assert money(value).as_tuple().exponent == -2


def test_money_refuses_floats():
    with pytest.raises(TypeError, match="never float"):
        money(2.675)


# --- one clause --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "overrun", "fee", "units", "expected"),
    [
        # EUR 500 per started hour beyond the restore target.
        pytest.param(EUR_500_PER_HOUR, -120, FEE, 0, "0.00", id="500/h-met-early"),  # met
        pytest.param(EUR_500_PER_HOUR, 0, FEE, 0, "0.00", id="500/h-0s"),  # on time: 0 x 500
        pytest.param(EUR_500_PER_HOUR, 1, FEE, 1, "500.00", id="500/h-1s"),  # ceil(1/3600)=1
        pytest.param(EUR_500_PER_HOUR, HOUR, FEE, 1, "500.00", id="500/h-1h"),  # ceil(1)=1
        pytest.param(EUR_500_PER_HOUR, HOUR + 1, FEE, 2, "1000.00", id="500/h-1h1s"),  # 2 x 500
        pytest.param(EUR_500_PER_HOUR, 2.5 * HOUR, FEE, 3, "1500.00", id="500/h-2.5h"),  # 3 x 500
        pytest.param(EUR_500_PER_HOUR, HOUR + 1e-6, FEE, 2, "1000.00", id="500/h-1h-and-1us"),
        # 1/30 of the monthly fee (3.333333 %) per started 30 minutes, fee EUR 30,000:
        # unit = 30000 x 3.333333 / 100 = 999.9999.
        pytest.param(
            ONE_THIRTIETH_PER_HALF_HOUR, MINUTE, FEE, 1, "1000.00", id="1/30-1min"
        ),  # 1 x 999.9999 = 999.9999 -> 1000.00
        pytest.param(
            ONE_THIRTIETH_PER_HALF_HOUR, 30 * MINUTE, FEE, 1, "1000.00", id="1/30-30min"
        ),  # ceil(30/30) = 1 -> 999.9999 -> 1000.00
        pytest.param(
            ONE_THIRTIETH_PER_HALF_HOUR, 31 * MINUTE, FEE, 2, "2000.00", id="1/30-31min"
        ),  # ceil(31/30) = 2 -> 2 x 999.9999 = 1999.9998 -> 2000.00
        pytest.param(
            ONE_THIRTIETH_PER_HALF_HOUR, 2 * HOUR, FEE, 4, "4000.00", id="1/30-2h"
        ),  # 4 x 999.9999 = 3999.9996 -> 4000.00
        # Same clause, fee EUR 12,345.67: unit = 12345.67 x 3.333333 / 100 = 411.5222921811.
        pytest.param(
            ONE_THIRTIETH_PER_HALF_HOUR, 61 * MINUTE, ODD_FEE, 3, "1234.57", id="1/30-round-last"
        ),  # ceil(61/30) = 3 -> 1234.5668765433 -> 1234.57 (rounding the unit first: 3 x 411.52
        # = 1234.56, so this row fails if the code rounds before multiplying)
        # Per breach: EUR 2,500 once when the response target is missed, however long.
        pytest.param(EUR_2500_PER_MISSED_RESPONSE, 0, FEE, 0, "0.00", id="2500/breach-on-time"),
        pytest.param(EUR_2500_PER_MISSED_RESPONSE, 1, FEE, 1, "2500.00", id="2500/breach-1s"),
        pytest.param(
            EUR_2500_PER_MISSED_RESPONSE, 30 * HOUR, FEE, 1, "2500.00", id="2500/breach-30h"
        ),  # once, not per hour
        # Per breach, only beyond a 15-minute grace: window (15, open).
        pytest.param(EUR_1000_BEYOND_15_MIN, 15 * MINUTE, FEE, 0, "0.00", id="grace-15min"),
        pytest.param(
            EUR_1000_BEYOND_15_MIN, 15 * MINUTE + 1, FEE, 1, "1000.00", id="grace-15min-1s"
        ),
        # Per period in the window (240, open): only the part beyond 4 h counts.
        pytest.param(EUR_1000_PER_HOUR_AFTER_4_H, 4 * HOUR, FEE, 0, "0.00", id="after-4h-at-4h"),
        pytest.param(
            EUR_1000_PER_HOUR_AFTER_4_H, 4 * HOUR + 1, FEE, 1, "1000.00", id="after-4h-4h1s"
        ),  # 1 s inside the window -> 1 started hour
        pytest.param(
            EUR_1000_PER_HOUR_AFTER_4_H, 6.5 * HOUR, FEE, 3, "3000.00", id="after-4h-6.5h"
        ),  # 2.5 h inside -> 3 started hours x 1000
        # A fee clause with a fee of zero costs nothing (a pilot contract without a fee).
        pytest.param(ONE_THIRTIETH_PER_HALF_HOUR, HOUR, Decimal(0), 2, "0.00", id="fee-zero"),
    ],
)
def test_clause_charge(clause, overrun, fee, units, expected):
    charge = clause_charge(clause, overrun, fee)
    assert charge.units == units
    assert charge.amount == Decimal(expected)
    assert charge.clause is clause


@pytest.mark.parametrize(
    ("overrun", "expected"),
    [
        pytest.param(-1, 0, id="met"),
        pytest.param(0, 0, id="on-time"),
        pytest.param(240 * MINUTE, 0, id="at-from"),  # nothing inside (240, 480]
        pytest.param(240 * MINUTE + 1, 1, id="just-inside"),
        pytest.param(300 * MINUTE, 1, id="one-period"),  # 60 min inside
        pytest.param(300 * MINUTE + 1, 2, id="second-period-started"),
        pytest.param(480 * MINUTE, 4, id="at-until"),  # 240 min inside = 4 periods
        pytest.param(100 * HOUR, 4, id="far-beyond-until"),  # only (240, 480] counts
    ],
)
def test_periods_started_counts_only_inside_the_window(overrun, expected):
    clause = Clause(FIXED_PER_PERIOD, amount=eur("1"), from_minutes=240, until_minutes=480)
    assert periods_started(overrun, clause) == expected


# --- tiers: several clauses on the same target -------------------------------------------------

# EUR 500 per started hour for the first 4 hours, EUR 1,000 per started hour after that.
HOURLY_TIERS = (
    Clause(FIXED_PER_PERIOD, amount=eur("500"), until_minutes=240, ref=1),
    Clause(FIXED_PER_PERIOD, amount=eur("1000"), from_minutes=240, ref=2),
)

# 5 % of the fee if restore is missed by up to 1 h, 10 % up to 4 h, 20 % beyond.
BREACH_TIERS = (
    Clause(FEE_PERCENT_PER_BREACH, fee_percent=eur("5"), until_minutes=60, ref=1),
    Clause(
        FEE_PERCENT_PER_BREACH, fee_percent=eur("10"), from_minutes=60, until_minutes=240, ref=2
    ),
    Clause(FEE_PERCENT_PER_BREACH, fee_percent=eur("20"), from_minutes=240, ref=3),
)


@pytest.mark.parametrize(
    ("clauses", "overrun", "refs", "expected"),
    [
        pytest.param(HOURLY_TIERS, 0, [], "0.00", id="hourly-on-time"),
        pytest.param(HOURLY_TIERS, 30 * MINUTE, [1], "500.00", id="hourly-30min"),  # 1 x 500
        pytest.param(HOURLY_TIERS, 4 * HOUR, [1], "2000.00", id="hourly-4h"),  # 4 x 500 + 0
        pytest.param(
            HOURLY_TIERS, 4 * HOUR + 1, [1, 2], "3000.00", id="hourly-4h1s"
        ),  # 4 x 500 + 1 x 1000
        pytest.param(HOURLY_TIERS, 5 * HOUR, [1, 2], "3000.00", id="hourly-5h"),  # 4x500 + 1x1000
        pytest.param(
            HOURLY_TIERS, 10 * HOUR, [1, 2], "8000.00", id="hourly-10h"
        ),  # 4 x 500 + 6 x 1000 = 2000 + 6000
        # Fee EUR 30,000: 5 % = 1500, 10 % = 3000, 20 % = 6000; exactly one step applies.
        pytest.param(BREACH_TIERS, 0, [], "0.00", id="steps-on-time"),
        pytest.param(BREACH_TIERS, 30 * MINUTE, [1], "1500.00", id="steps-30min"),  # (0, 60]
        pytest.param(BREACH_TIERS, 60 * MINUTE, [1], "1500.00", id="steps-60min"),  # 60 in (0, 60]
        pytest.param(BREACH_TIERS, 61 * MINUTE, [2], "3000.00", id="steps-61min"),  # (60, 240]
        pytest.param(BREACH_TIERS, 240 * MINUTE, [2], "3000.00", id="steps-4h"),  # 240 in (60,240]
        pytest.param(BREACH_TIERS, 241 * MINUTE, [3], "6000.00", id="steps-241min"),  # (240, open)
        pytest.param(BREACH_TIERS, 10 * HOUR, [3], "6000.00", id="steps-10h"),  # 20 % of 30000
    ],
)
def test_tiers(clauses, overrun, refs, expected):
    penalty = incident_penalty(clauses, {"restore": overrun}, priority=2, monthly_fee=FEE)
    assert [charge.clause.ref for charge in penalty.charges] == refs
    assert penalty.uncapped == penalty.amount == Decimal(expected)
    assert penalty.cap is None
    assert not penalty.capped


# --- which clauses apply -----------------------------------------------------------------------

CONTRACT = (
    # P1 only: EUR 1,000 once when the response target is missed.
    Clause(FIXED_PER_BREACH, target="response", amount=eur("1000"), priority=1, ref=10),
    # Every priority: EUR 500 per started hour beyond the restore target.
    Clause(FIXED_PER_PERIOD, target="restore", amount=eur("500"), ref=20),
    # P1 only: 5 % of the monthly fee once when the restore target is missed.
    Clause(FEE_PERCENT_PER_BREACH, target="restore", fee_percent=eur("5"), priority=1, ref=30),
    # Every priority: EUR 250 per started hour beyond the workaround target.
    Clause(FIXED_PER_PERIOD, target="workaround", amount=eur("250"), ref=40),
)


@pytest.mark.parametrize(
    ("priority", "overruns", "refs", "expected"),
    [
        pytest.param(
            1,
            {"response": 10 * MINUTE, "restore": 90 * MINUTE},
            [10, 20, 30],
            "3500.00",
            id="p1-response-and-restore-missed",
        ),  # 1000 + 2 x 500 + 5 % x 30000 = 1000 + 1000 + 1500
        pytest.param(
            2,
            {"response": 10 * MINUTE, "restore": 90 * MINUTE},
            [20],
            "1000.00",
            id="p2-ignores-p1-clauses",
        ),  # only the every-priority restore clause: 2 x 500
        pytest.param(
            None,
            {"response": 10 * MINUTE, "restore": 90 * MINUTE},
            [20],
            "1000.00",
            id="no-priority-only-general-clauses",
        ),
        pytest.param(
            1,
            {"response": -5 * MINUTE, "restore": 90 * MINUTE},
            [20, 30],
            "2500.00",
            id="p1-response-met",
        ),  # 2 x 500 + 1500
        pytest.param(
            1, {"response": 10 * MINUTE}, [10], "1000.00", id="p1-restore-not-yet-missed"
        ),  # a missing target is not (yet) missed
        pytest.param(
            1, {"restore": 10 * MINUTE}, [20, 30], "2000.00", id="response-clause-ignored"
        ),  # the response clause does not charge for a restore overrun: 500 + 1500
        pytest.param(2, {"workaround": 3 * HOUR}, [40], "750.00", id="workaround-only"),  # 3 x 250
        pytest.param(
            1, {"response": 0, "workaround": -HOUR, "restore": -1}, [], "0.00", id="all-met"
        ),
        pytest.param(1, {}, [], "0.00", id="no-targets"),
    ],
)
def test_incident_penalty_picks_clauses_by_target_and_priority(priority, overruns, refs, expected):
    penalty = incident_penalty(CONTRACT, overruns, priority=priority, monthly_fee=FEE)
    assert [charge.clause.ref for charge in penalty.charges] == refs
    assert penalty.amount == Decimal(expected)


def test_incident_penalty_rounds_per_clause_then_adds():
    # Two clauses of 1/300 of the fee each (0.333333 %), fee EUR 10,000:
    # unit = 10000 x 0.333333 / 100 = 33.3333 -> 33.33 per clause; 33.33 + 33.33 = 66.66.
    # (Adding first would give 66.6666 -> 66.67.)
    clauses = [
        Clause(FEE_PERCENT_PER_BREACH, target="response", fee_percent=eur("0.333333")),
        Clause(FEE_PERCENT_PER_BREACH, target="restore", fee_percent=eur("0.333333")),
    ]
    penalty = incident_penalty(
        clauses, {"response": 1, "restore": 1}, priority=1, monthly_fee=Decimal("10000")
    )
    assert [charge.amount for charge in penalty.charges] == [eur("33.33"), eur("33.33")]
    assert penalty.amount == eur("66.66")


# --- caps --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caps", "fee", "expected"),
    [
        pytest.param(Caps(), FEE, None, id="none"),
        pytest.param(Caps(per_incident_amount=eur("5000")), FEE, "5000.00", id="amount"),
        pytest.param(
            Caps(per_incident_percent=eur("10")), FEE, "3000.00", id="percent"
        ),  # 10 % x 30000
        pytest.param(
            Caps(per_incident_amount=eur("5000"), per_incident_percent=eur("10")),
            FEE,
            "3000.00",
            id="both-percent-lower",
        ),  # min(5000, 3000)
        pytest.param(
            Caps(per_incident_amount=eur("2000"), per_incident_percent=eur("10")),
            FEE,
            "2000.00",
            id="both-amount-lower",
        ),  # min(2000, 3000)
        pytest.param(
            Caps(per_incident_percent=eur("7.5")), ODD_FEE, "925.93", id="percent-rounded"
        ),  # 12345.67 x 7.5 / 100 = 925.92525 -> 925.93
        pytest.param(
            Caps(per_month_amount=eur("1"), per_month_percent=eur("1")),
            FEE,
            None,
            id="month-caps-are-not-incident-caps",
        ),
    ],
)
def test_per_incident_cap(caps, fee, expected):
    assert caps.per_incident(fee) == (None if expected is None else Decimal(expected))


@pytest.mark.parametrize(
    ("caps", "amount", "capped"),
    [
        # EUR 500 per started hour, restore missed by 10 h: 10 x 500 = 5000 uncapped.
        pytest.param(Caps(), "5000.00", False, id="no-cap"),
        pytest.param(Caps(per_incident_amount=eur("4000")), "4000.00", True, id="amount-cap"),
        pytest.param(
            Caps(per_incident_percent=eur("10")), "3000.00", True, id="percent-cap"
        ),  # 10 % x 30000 = 3000 < 5000
        pytest.param(
            Caps(per_incident_amount=eur("4000"), per_incident_percent=eur("10")),
            "3000.00",
            True,
            id="both-lower-wins",
        ),
        pytest.param(Caps(per_incident_amount=eur("6000")), "5000.00", False, id="cap-not-hit"),
        pytest.param(Caps(per_incident_amount=eur("5000")), "5000.00", False, id="cap-exactly"),
        pytest.param(
            Caps(per_month_amount=eur("100")), "5000.00", False, id="month-cap-not-applied-here"
        ),
    ],
)
def test_incident_penalty_under_caps(caps, amount, capped):
    penalty = incident_penalty(
        [EUR_500_PER_HOUR], {"restore": 10 * HOUR}, priority=1, monthly_fee=FEE, caps=caps
    )
    assert penalty.uncapped == eur("5000.00")
    assert penalty.amount == Decimal(amount)
    assert penalty.capped is capped
    assert penalty.cap == caps.per_incident(FEE)


# At most 50 % of the monthly fee per month (EUR 15,000 at a fee of EUR 30,000).
HALF_FEE_A_MONTH = Caps(per_month_percent=eur("50"))


@pytest.mark.parametrize(
    ("caps", "amounts", "uncapped", "amount"),
    [
        pytest.param(Caps(), [], "0.00", "0.00", id="no-incidents"),
        pytest.param(
            Caps(), ["3000", "4000", "9000"], "16000.00", "16000.00", id="no-cap"
        ),  # 3000 + 4000 + 9000
        pytest.param(
            HALF_FEE_A_MONTH, ["3000", "4000", "5000"], "12000.00", "12000.00", id="under-50%"
        ),  # 12000 <= 15000
        pytest.param(
            HALF_FEE_A_MONTH, ["3000", "4000", "8000"], "15000.00", "15000.00", id="at-50%"
        ),
        pytest.param(
            HALF_FEE_A_MONTH, ["3000", "4000", "9000"], "16000.00", "15000.00", id="over-50%"
        ),  # min(16000, 50 % x 30000)
        pytest.param(
            Caps(per_month_amount=eur("10000")),
            ["3000", "4000", "9000"],
            "16000.00",
            "10000.00",
            id="amount-cap",
        ),
        pytest.param(
            Caps(per_month_amount=eur("20000"), per_month_percent=eur("50")),
            ["3000", "4000", "9000"],
            "16000.00",
            "15000.00",
            id="both-percent-lower",
        ),  # min(16000, 20000, 15000)
        pytest.param(
            Caps(per_month_amount=eur("10000"), per_month_percent=eur("50")),
            ["3000", "4000", "9000"],
            "16000.00",
            "10000.00",
            id="both-amount-lower",
        ),  # min(16000, 10000, 15000)
        pytest.param(
            Caps(), ["0.004", "0.004"], "0.01", "0.01", id="sum-then-round"
        ),  # 0.008 -> 0.01
        pytest.param(
            Caps(per_incident_amount=eur("1")),
            ["3000"],
            "3000.00",
            "3000.00",
            id="incident-caps-are-not-month-caps",
        ),
    ],
)
def test_month_total(caps, amounts, uncapped, amount):
    total = month_total([Decimal(a) for a in amounts], monthly_fee=FEE, caps=caps)
    assert total.uncapped == Decimal(uncapped)
    assert total.amount == Decimal(amount)
    assert total.capped is (total.amount < total.uncapped)
    assert total.capped is (uncapped != amount)
    assert total.cap == caps.per_month(FEE)


@pytest.mark.parametrize(
    ("caps", "already", "expected"),
    [
        pytest.param(Caps(), "99999", None, id="no-cap"),
        pytest.param(HALF_FEE_A_MONTH, "0", "15000.00", id="empty-month"),
        pytest.param(HALF_FEE_A_MONTH, "12000", "3000.00", id="some-room"),  # 15000 - 12000
        pytest.param(HALF_FEE_A_MONTH, "15000", "0.00", id="full"),
        pytest.param(HALF_FEE_A_MONTH, "16000", "0.00", id="over-never-negative"),
        pytest.param(
            HALF_FEE_A_MONTH, "14999.995", "0.00", id="already-rounded-half-up"
        ),  # 14999.995 -> 15000.00 -> no room
        pytest.param(
            Caps(per_month_amount=eur("10000"), per_month_percent=eur("50")),
            "2500.50",
            "7499.50",
            id="lower-cap",
        ),  # 10000 - 2500.50
    ],
)
def test_room_in_month(caps, already, expected):
    room = room_in_month(Decimal(already), monthly_fee=FEE, caps=caps)
    assert room == (None if expected is None else Decimal(expected))


# --- invalid clauses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"form": FIXED_PER_PERIOD, "amount": 500.0}, TypeError, id="float-amount"),
        pytest.param(
            {"form": FEE_PERCENT_PER_PERIOD, "fee_percent": 3.333333}, TypeError, id="float-pct"
        ),
        pytest.param({"form": "per_day"}, ValueError, id="unknown-form"),
        pytest.param({"form": ""}, ValueError, id="empty-form"),
        pytest.param({"form": FIXED_PER_PERIOD, "period_minutes": 0}, ValueError, id="period-0"),
        pytest.param(
            {"form": FIXED_PER_PERIOD, "period_minutes": -30}, ValueError, id="period-negative"
        ),
        pytest.param(
            {"form": FIXED_PER_BREACH, "from_minutes": 60, "until_minutes": 60},
            ValueError,
            id="until-equals-from",
        ),
        pytest.param(
            {"form": FIXED_PER_PERIOD, "from_minutes": 240, "until_minutes": 60},
            ValueError,
            id="until-before-from",
        ),
        pytest.param({"form": FIXED_PER_PERIOD, "until_minutes": 0}, ValueError, id="until-zero"),
    ],
)
def test_invalid_clauses_are_refused(kwargs, error):
    with pytest.raises(error):
        Clause(**kwargs)


def test_valid_edge_clauses_are_accepted():
    Clause(FIXED_PER_PERIOD, period_minutes=1, from_minutes=0, until_minutes=1)
    Clause(FEE_PERCENT_PER_BREACH, fee_percent=eur("100"), from_minutes=240, until_minutes=None)


# --- description -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        pytest.param(EUR_500_PER_HOUR, "restore: 500.00 per started 60 min", id="fixed-period"),
        pytest.param(
            ONE_THIRTIETH_PER_HALF_HOUR,
            "restore: 3.333333% of the monthly fee per started 30 min",
            id="fee-period",
        ),
        pytest.param(
            BREACH_TIERS[1],
            "restore: 10% of the monthly fee per breach (60–240 min beyond target)",
            id="fee-breach-10%",
        ),
        pytest.param(
            # As the model hands it over: DecimalField(decimal_places=6).
            Clause(FEE_PERCENT_PER_BREACH, fee_percent=Decimal("20.000000"), from_minutes=240),
            "restore: 20% of the monthly fee per breach (240–… min beyond target)",
            id="fee-breach-20%-stored",
        ),
        pytest.param(
            Clause(FEE_PERCENT_PER_PERIOD, fee_percent=Decimal("5.500000"), period_minutes=30),
            "restore: 5.5% of the monthly fee per started 30 min",
            id="fee-period-5.5%-stored",
        ),
        pytest.param(
            EUR_2500_PER_MISSED_RESPONSE, "response: 2500.00 per breach", id="fixed-breach"
        ),
    ],
)
def test_describe(clause, expected):
    assert clause.describe() == expected


# --- properties --------------------------------------------------------------------------------

decimals = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)
percents = st.decimals(min_value=0, max_value=100, places=6, allow_nan=False)
fees = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False)
overruns = st.floats(min_value=-7 * 86400, max_value=60 * 86400, allow_nan=False)


any_form = st.sampled_from(FORMS)


@st.composite
def clauses(draw, forms=any_form):
    from_minutes = draw(st.integers(0, 600))
    until = draw(st.none() | st.integers(from_minutes + 1, from_minutes + 2000))
    return Clause(
        draw(forms),
        target=draw(st.sampled_from(["response", "workaround", "restore"])),
        amount=draw(decimals),
        fee_percent=draw(percents),
        period_minutes=draw(st.integers(1, 240)),
        from_minutes=from_minutes,
        until_minutes=until,
        priority=draw(st.none() | st.integers(1, 4)),
    )


per_period_clauses = clauses(forms=st.sampled_from(PER_PERIOD))


@PROPERTY
@given(clause=per_period_clauses, a=overruns, b=overruns, fee=fees)
def test_per_period_charge_never_decreases_as_the_overrun_grows(clause, a, b, fee):
    shorter, longer = sorted([a, b])
    first = clause_charge(clause, shorter, fee)
    second = clause_charge(clause, longer, fee)
    assert first.units <= second.units
    assert first.amount <= second.amount
    assert Decimal(0) <= first.amount


@PROPERTY
@given(
    amount=decimals,
    period=st.integers(1, 240),
    periods_in_first_tier=st.integers(1, 20),
    overrun=overruns,
)
def test_splitting_a_clause_at_a_period_boundary_changes_nothing(
    amount, period, periods_in_first_tier, overrun
):
    # "EUR x per started period" equals "EUR x per started period up to T, EUR x after" when T is
    # a whole number of periods.
    boundary = period * periods_in_first_tier
    whole = Clause(FIXED_PER_PERIOD, amount=amount, period_minutes=period)
    split = [
        Clause(FIXED_PER_PERIOD, amount=amount, period_minutes=period, until_minutes=boundary),
        Clause(FIXED_PER_PERIOD, amount=amount, period_minutes=period, from_minutes=boundary),
    ]
    expected = clause_charge(whole, overrun, FEE).amount
    got = incident_penalty(split, {"restore": overrun}, priority=1, monthly_fee=FEE).amount
    assert got == expected


@PROPERTY
@given(
    contract=st.lists(clauses(), max_size=6),
    response=overruns,
    restore=overruns,
    priority=st.none() | st.integers(1, 4),
    fee=fees,
    cap_amount=st.none() | decimals,
    cap_percent=st.none() | percents,
)
def test_capped_amount_never_exceeds_cap_or_uncapped(
    contract, response, restore, priority, fee, cap_amount, cap_percent
):
    caps = Caps(per_incident_amount=cap_amount, per_incident_percent=cap_percent)
    penalty = incident_penalty(
        contract,
        {"response": response, "restore": restore},
        priority=priority,
        monthly_fee=fee,
        caps=caps,
    )
    assert Decimal(0) <= penalty.amount <= penalty.uncapped
    assert penalty.uncapped == sum((c.amount for c in penalty.charges), Decimal(0))
    assert all(c.units > 0 for c in penalty.charges)
    if penalty.cap is None:
        assert penalty.amount == penalty.uncapped
        assert not penalty.capped
    else:
        assert penalty.amount <= penalty.cap
        assert penalty.amount == min(penalty.uncapped, penalty.cap)
        assert penalty.capped is (penalty.uncapped > penalty.cap)
    assert penalty.amount == money(penalty.amount)


@PROPERTY
@given(
    amounts=st.lists(decimals, max_size=10),
    fee=fees,
    cap_amount=st.none() | decimals,
    cap_percent=st.none() | percents,
)
def test_month_total_and_room_agree(amounts, fee, cap_amount, cap_percent):
    caps = Caps(per_month_amount=cap_amount, per_month_percent=cap_percent)
    total = month_total(amounts, monthly_fee=fee, caps=caps)
    room = room_in_month(total.uncapped, monthly_fee=fee, caps=caps)
    assert total.amount <= total.uncapped
    if total.cap is None:
        assert room is None
        assert total.amount == total.uncapped
    else:
        assert total.amount <= total.cap
        assert room >= 0
        # What the month charges plus the room left is the cap, full month or not.
        assert total.amount + room == total.cap


def test_a_stored_clause_with_empty_fields_charges_nothing_and_counts_hours():
    """The admin lets amount, percentage and period stay empty (the form decides which one
    matters): an empty amount or percentage charges nothing, an empty period means an hour."""
    from escalation.models import PenaltyClause

    fixed = PenaltyClause(form="fixed_per_period", amount=None, period_minutes=None).as_spec()
    assert fixed.amount == Decimal(0) and fixed.unit(Decimal("9000")) == Decimal(0)
    assert fixed.period_minutes == 60
    assert periods_started(60 * 60 + 1, fixed) == 2  # 61 minutes beyond: two started hours
    share = PenaltyClause(form="fee_percent_per_breach", fee_percent=None).as_spec()
    assert share.fee_percent == Decimal(0) and share.unit(Decimal("9000")) == Decimal(0)
