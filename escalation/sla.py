"""Pure SLA clock arithmetic: elapsed service time with pauses, and when a share of a target is
reached. No database; calendars come from escalation/calendars.py.

A clock runs from `start` until `stop` (or now), counting only the calendar's open time and
leaving out the pauses (which may overlap; an open pause has no end yet).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from . import calendars, penalties

Pause = tuple[datetime, datetime | None]
WARN_PERCENTS = (50, 75, 90)


def pauses_for(pauses: Iterable, contract) -> list[Pause]:
    """The pauses (SlaPause rows) that hold a contract's clocks: automatic ones always, agreed
    ones where the contract allows pausing (for every contract, or this one)."""
    return [
        (p.started_at, p.ended_at)
        for p in pauses
        if p.automatic or (contract.allows_pauses and p.contract_id in (None, contract.pk))
    ]


def merge_pauses(pauses: Iterable[Pause], *, until: datetime) -> list[tuple[datetime, datetime]]:
    """Sorted, non-overlapping pause intervals; an open pause lasts until `until`."""
    spans = sorted((start, end or until) for start, end in pauses if (end or until) > start)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def elapsed(
    cal: calendars.BusinessHours, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> float:
    """Service seconds in [start, end) outside the pauses; never negative."""
    if end <= start:
        return 0.0
    total = calendars.open_seconds_between(cal, start, end)
    for pause_start, pause_end in merge_pauses(pauses, until=end):
        lo, hi = max(pause_start, start), min(pause_end, end)
        if hi > lo:
            total -= calendars.open_seconds_between(cal, lo, hi)
    return max(0.0, total)


def is_paused(pauses: Sequence[Pause], at: datetime) -> bool:
    return any(start <= at and (end is None or at < end) for start, end in pauses)


def reached_at(
    cal: calendars.BusinessHours,
    start: datetime,
    seconds: float,
    pauses: Sequence[Pause],
    now: datetime,
) -> datetime | None:
    """The instant at which `seconds` of service time have elapsed (or will, assuming no pause
    after `now`); in the past when already reached. None while a pause is open and the share is
    not yet reached (the clock stands still), or when the calendar has no opening in range."""
    cursor, remaining = start, seconds
    try:
        for pause_start, pause_end in [*merge_pauses(pauses, until=now), (None, None)]:
            if pause_start is not None and pause_end <= start:
                continue
            segment_end = pause_start if pause_start is not None else None
            if segment_end is not None and segment_end > cursor:
                available = calendars.open_seconds_between(cal, cursor, segment_end)
                if available >= remaining:
                    return calendars.add_open_time(cal, cursor, remaining)
                remaining -= available
            if pause_start is None:  # after the last pause: the clock runs on
                if is_paused(pauses, now):
                    return None
                return calendars.add_open_time(cal, cursor, remaining)
            cursor = max(cursor, pause_end)
    except ValueError:
        return None
    return None


# --- Exposure: what an incident costs under one contract, now and if restored later ----------

PROJECTION_HOURS = (1, 4)


@dataclass(frozen=True)
class TargetState:
    target: str
    target_seconds: int
    elapsed_seconds: float
    deadline_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None
    paused: bool

    @property
    def target_minutes(self) -> int:
        return self.target_seconds // 60

    @property
    def percent(self) -> float:
        return 100 * self.elapsed_seconds / self.target_seconds if self.target_seconds else 0.0

    @property
    def overrun_seconds(self) -> float:
        return self.elapsed_seconds - self.target_seconds

    @property
    def missed(self) -> bool:
        return self.overrun_seconds > 0


@dataclass(frozen=True)
class Exposure:
    contract_id: int
    contract_name: str
    customer_id: int
    customer_name: str
    currency: str
    monthly_fee: Decimal
    targets: tuple[TargetState, ...]
    accrued: penalties.IncidentPenalty
    if_restored_in: dict[int, penalties.IncidentPenalty]  # hours from now -> penalty

    @property
    def in_1h(self) -> penalties.IncidentPenalty:
        return self.if_restored_in[1]

    @property
    def in_4h(self) -> penalties.IncidentPenalty:
        return self.if_restored_in[4]


def contract_exposure(*, contract, clocks, pauses: Sequence[Pause], priority, at: datetime):
    """The exposure of one incident under one contract, from its clock rows (no queries: the
    contract's calendar, customer and clauses must be loaded)."""
    cal = contract.calendar_spec()
    clauses = [clause.as_spec() for clause in contract.clauses.all()]

    def overruns(until: datetime) -> dict[str, float]:
        return {
            clock.target: elapsed(cal, clock.started_at, clock.stopped_at or until, pauses)
            - clock.target_seconds
            for clock in clocks
        }

    def cost(until: datetime) -> penalties.IncidentPenalty:
        return penalties.incident_penalty(
            clauses,
            overruns(until),
            priority=priority,
            monthly_fee=contract.monthly_fee,
            caps=contract.caps(),
        )

    targets = tuple(
        TargetState(
            target=clock.target,
            target_seconds=clock.target_seconds,
            elapsed_seconds=elapsed(cal, clock.started_at, clock.stopped_at or at, pauses),
            deadline_at=clock.deadline_at,
            stopped_at=clock.stopped_at,
            breached_at=clock.breached_at,
            paused=clock.stopped_at is None and is_paused(pauses, at),
        )
        for clock in sorted(clocks, key=lambda c: TARGET_ORDER.get(c.target, 9))
    )
    return Exposure(
        contract_id=contract.pk,
        contract_name=contract.name,
        customer_id=contract.customer_id,
        customer_name=contract.customer.name,
        currency=contract.currency,
        monthly_fee=contract.monthly_fee,
        targets=targets,
        accrued=cost(at),
        if_restored_in={h: cost(at + timedelta(hours=h)) for h in PROJECTION_HOURS},
    )


TARGET_ORDER = {"response": 0, "workaround": 1, "restore": 2}
