"""Pure penalty arithmetic: contract clauses, caps and money. No database, no floats for money.

The forms found in German/EU IT service contracts, in any combination:

- ``fixed_per_period``: a fixed amount per *started* period beyond the target
  (EUR 500 per started hour);
- ``fee_percent_per_period``: a share of the monthly fee per started period
  (1/30 of the fee = 3.333333 % per started 30 minutes);
- ``fixed_per_breach`` / ``fee_percent_per_breach``: once per missed target.

Tiers by breach length: a per-period clause counts only the part of the overrun that lies in
(from, until] minutes beyond the target; a per-breach clause applies when the overrun lies in
(from, until]. So "EUR 500 per started hour for the first 4 hours, EUR 1,000 per started hour after
that" is two clauses with windows (0, 240] and (240, open).

Caps apply per incident (an amount and/or a share of the monthly fee: the lower one wins) and per
month over all incidents of the contract. Amounts are rounded to cents, half up, per clause.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

FIXED_PER_PERIOD = "fixed_per_period"
FEE_PERCENT_PER_PERIOD = "fee_percent_per_period"
FIXED_PER_BREACH = "fixed_per_breach"
FEE_PERCENT_PER_BREACH = "fee_percent_per_breach"
FORMS = (FIXED_PER_PERIOD, FEE_PERCENT_PER_PERIOD, FIXED_PER_BREACH, FEE_PERCENT_PER_BREACH)
PER_PERIOD = (FIXED_PER_PERIOD, FEE_PERCENT_PER_PERIOD)


def money(value: Decimal | int | str) -> Decimal:
    """Round to cents, half up (the commercial rounding contracts mean)."""
    if isinstance(value, float):
        raise TypeError("money is Decimal, never float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Clause:
    form: str
    target: str = "restore"  # response, workaround or restore
    amount: Decimal = ZERO  # fixed forms
    fee_percent: Decimal = ZERO  # fee forms: percent of the monthly fee
    period_minutes: int = 60  # per-period forms
    from_minutes: int = 0  # tier window, minutes beyond the target
    until_minutes: int | None = None
    priority: int | None = None  # None: every priority
    ref: int | None = None  # the stored clause's id, to name it in a report

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ValueError(f"unknown penalty form: {self.form}")
        if self.period_minutes <= 0:
            raise ValueError("period_minutes must be positive")
        if self.until_minutes is not None and self.until_minutes <= self.from_minutes:
            raise ValueError("a tier must end after it starts")
        for name in ("amount", "fee_percent"):
            if isinstance(getattr(self, name), float):
                raise TypeError(f"{name} is Decimal, never float")

    def applies_to(self, target: str, priority: int | None) -> bool:
        return self.target == target and (self.priority is None or self.priority == priority)

    def unit(self, monthly_fee: Decimal) -> Decimal:
        """What one period (or one breach) costs."""
        if self.form in (FIXED_PER_PERIOD, FIXED_PER_BREACH):
            return Decimal(self.amount)
        return Decimal(monthly_fee) * Decimal(self.fee_percent) / Decimal(100)

    def describe(self) -> str:
        """A short English description for logs and the admin (the UI translates its own)."""
        if self.form in (FIXED_PER_PERIOD, FIXED_PER_BREACH):
            what = f"{money(self.amount)}"
        else:
            what = f"{self.fee_percent.normalize():f}% of the monthly fee"
        per = f"per started {self.period_minutes} min" if self.form in PER_PERIOD else "per breach"
        window = ""
        if self.from_minutes or self.until_minutes is not None:
            until = f"{self.until_minutes}" if self.until_minutes is not None else "…"
            window = f" ({self.from_minutes}–{until} min beyond target)"
        return f"{self.target}: {what} {per}{window}"


@dataclass(frozen=True)
class Caps:
    per_incident_amount: Decimal | None = None
    per_incident_percent: Decimal | None = None
    per_month_amount: Decimal | None = None
    per_month_percent: Decimal | None = None

    def per_incident(self, monthly_fee: Decimal) -> Decimal | None:
        return _lowest(self.per_incident_amount, self.per_incident_percent, monthly_fee)

    def per_month(self, monthly_fee: Decimal) -> Decimal | None:
        return _lowest(self.per_month_amount, self.per_month_percent, monthly_fee)


def _lowest(amount: Decimal | None, percent: Decimal | None, fee: Decimal) -> Decimal | None:
    limits = []
    if amount is not None:
        limits.append(money(amount))
    if percent is not None:
        limits.append(money(Decimal(fee) * Decimal(percent) / Decimal(100)))
    return min(limits) if limits else None


@dataclass(frozen=True)
class Charge:
    """What one clause costs for one overrun."""

    clause: Clause
    units: int  # started periods, or 1 for a per-breach clause that applies
    amount: Decimal


def periods_started(overrun_seconds: float, clause: Clause) -> int:
    """Started periods of the overrun inside the clause's tier window (0 when on time)."""
    start = clause.from_minutes * 60
    end = math.inf if clause.until_minutes is None else clause.until_minutes * 60
    inside = min(overrun_seconds, end) - start
    if inside <= 0:
        return 0
    return math.ceil(inside / (clause.period_minutes * 60))


def clause_charge(clause: Clause, overrun_seconds: float, monthly_fee: Decimal) -> Charge:
    """The charge of one clause for a target missed by `overrun_seconds` (<= 0: met, nothing)."""
    if overrun_seconds <= 0:
        units = 0
    elif clause.form in PER_PERIOD:
        units = periods_started(overrun_seconds, clause)
    else:
        above = overrun_seconds > clause.from_minutes * 60
        below = clause.until_minutes is None or overrun_seconds <= clause.until_minutes * 60
        units = 1 if above and below else 0
    return Charge(clause, units, money(clause.unit(monthly_fee) * units))


@dataclass(frozen=True)
class IncidentPenalty:
    charges: tuple[Charge, ...]
    uncapped: Decimal
    amount: Decimal  # after the per-incident cap
    cap: Decimal | None

    @property
    def capped(self) -> bool:
        return self.amount < self.uncapped


def incident_penalty(
    clauses: Iterable[Clause],
    overruns: Mapping[str, float],
    *,
    priority: int | None,
    monthly_fee: Decimal,
    caps: Caps = Caps(),
) -> IncidentPenalty:
    """The penalty of one incident under one contract.

    `overruns` maps each target (response, workaround, restore) to the seconds of service time
    beyond it; a missing or non-positive value means the target was met (or is not yet missed).
    """
    charges = tuple(
        charge
        for clause in clauses
        if clause.target in overruns and clause.applies_to(clause.target, priority)
        for charge in [clause_charge(clause, overruns[clause.target], monthly_fee)]
        if charge.units
    )
    uncapped = money(sum((c.amount for c in charges), ZERO))
    cap = caps.per_incident(monthly_fee)
    amount = uncapped if cap is None else min(uncapped, cap)
    return IncidentPenalty(charges, uncapped, amount, cap)


@dataclass(frozen=True)
class MonthTotal:
    uncapped: Decimal
    amount: Decimal
    cap: Decimal | None

    @property
    def capped(self) -> bool:
        return self.amount < self.uncapped


def month_total(
    incident_amounts: Sequence[Decimal], *, monthly_fee: Decimal, caps: Caps = Caps()
) -> MonthTotal:
    """The credits owed for one contract and month: the incidents' amounts, under the month cap."""
    uncapped = money(sum(incident_amounts, ZERO))
    cap = caps.per_month(monthly_fee)
    return MonthTotal(uncapped, uncapped if cap is None else min(uncapped, cap), cap)


def room_in_month(already: Decimal, *, monthly_fee: Decimal, caps: Caps = Caps()) -> Decimal | None:
    """How much more the month cap allows after `already` (None: no month cap)."""
    cap = caps.per_month(monthly_fee)
    return None if cap is None else max(ZERO, cap - money(already))
