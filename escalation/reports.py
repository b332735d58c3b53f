"""The monthly SLA report of one customer: per contract, the incidents with their targets and
credits, met/missed counts per priority, availability per service, and the credits owed.

Reads only. A fixed number of queries whatever the number of incidents (contracts with their
services, the customer's services, the incidents with `selectors.with_sla`, the outages); the
arithmetic is the pure modules' (`sla`, `penalties`, `calendars`).

What counts:
- The month runs from midnight on its first day to midnight on the next month's first day, in the
  customer's time zone. An incident belongs to the month it was detected in.
- A credit is `Exposure.accrued` (per-incident cap applied) measured at the end of the month, or
  at `at` when that is earlier. A target whose clock has stopped counts its final service time
  (even when it stopped after the month); one still running counts what had accrued by then, so
  the report of a month changes until its incidents are resolved (`IncidentLine.provisional`).
- Credits owed per contract: the incidents' credits summed, then the month cap
  (`penalties.month_total`); both figures are reported.
- Availability of a service under a contract: 1 - downtime / service time, both counted in the
  contract's service time within the month (up to the time of the report for the current month).
  Downtime is the union of [detected, resolved) of the P1/P2 incidents affecting that service and
  this customer, so overlapping outages count once.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from incidents.models import Customer, Incident, Service

from . import calendars, penalties, selectors
from .models import Contract, SlaClock, Target
from .schedules import InvalidMonth, month_bounds, zone_of  # noqa: F401 (reports.InvalidMonth)
from .sla import TARGET_ORDER, Exposure

OUTAGE_PRIORITIES = (1, 2)  # the priorities whose incidents count as a service's outage
MET, MISSED, RUNNING = "met", "missed", "running"
PERCENT_PLACES = Decimal("0.001")


# --- What the report holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class TargetLine:
    target: str  # response, workaround, restore
    status: str  # met, missed, running
    target_seconds: int
    elapsed_seconds: float  # service time, pauses left out
    paused: bool

    @property
    def overrun_seconds(self) -> float:
        return max(0.0, self.elapsed_seconds - self.target_seconds)


@dataclass(frozen=True)
class IncidentLine:
    incident_id: int
    title: str
    priority: int | None
    detected_at: datetime
    resolved_at: datetime | None
    targets: tuple[TargetLine, ...]
    credit: Decimal  # accrued, after the per-incident cap
    credit_uncapped: Decimal
    provisional: bool  # a clock still ran at the time measured: the credit may grow

    @property
    def credit_capped(self) -> bool:
        return self.credit < self.credit_uncapped

    def target(self, name: str) -> TargetLine | None:
        return next((t for t in self.targets if t.target == name), None)


@dataclass(frozen=True)
class TargetCount:
    met: int = 0
    missed: int = 0
    running: int = 0

    @property
    def total(self) -> int:
        return self.met + self.missed + self.running


@dataclass(frozen=True)
class PriorityLine:
    priority: int | None
    incidents: int
    targets: dict[str, TargetCount]  # target -> counts; every target kind present

    def count(self, target: str) -> TargetCount:
        return self.targets.get(target, TargetCount())


@dataclass(frozen=True)
class ServiceAvailability:
    service_id: int
    name: str
    service_seconds: float
    downtime_seconds: float
    outages: int  # P1/P2 incidents counted
    percent: Decimal | None  # 3 decimals, rounded down; None without service time in the period


@dataclass(frozen=True)
class ContractSection:
    contract_id: int
    name: str
    currency: str
    monthly_fee: Decimal
    calendar_name: str | None  # None: 24/7
    incidents: tuple[IncidentLine, ...]
    priorities: tuple[PriorityLine, ...]
    availability: tuple[ServiceAvailability, ...]
    credits_sum: Decimal  # the per-incident credits summed
    credits_owed: Decimal  # after the month cap
    month_cap: Decimal | None

    @property
    def month_capped(self) -> bool:
        return self.credits_owed < self.credits_sum


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    credits_sum: Decimal
    credits_owed: Decimal


@dataclass(frozen=True)
class SlaReport:
    customer: Customer
    year: int
    month: int
    time_zone: str  # the customer's: the month's boundaries
    period_start: datetime  # aware UTC
    period_end: datetime  # aware UTC, exclusive
    measured_at: datetime  # min(at, period_end): when running clocks were read
    contracts: tuple[ContractSection, ...]
    totals: tuple[CurrencyTotal, ...]  # over all contracts, per currency

    @property
    def complete(self) -> bool:
        """The month is over (figures of incidents still open can still grow)."""
        return self.measured_at >= self.period_end

    @property
    def provisional(self) -> bool:
        return not self.complete or any(
            line.provisional for section in self.contracts for line in section.incidents
        )

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


# --- Month boundaries ----------------------------------------------------------------------------


# zone_of, month_bounds and InvalidMonth live in schedules.py (selectors use them too).


# --- The report ----------------------------------------------------------------------------------


def sla_month_report(
    *, customer: Customer, year: int, month: int, at: datetime | None = None
) -> SlaReport:
    time_zone = zone_of(customer)
    start, end = month_bounds(time_zone, year, month)
    until = max(start, min(at or timezone.now(), end))
    contracts = _contracts(customer, start, end)
    customer_services = list(customer.services.order_by("position", "name"))
    covered = {c.pk: list(c.services.all()) or customer_services for c in contracts}
    incidents = _incidents(contracts, start, until)
    outages = _outages(customer, {s.pk for ss in covered.values() for s in ss}, start, until)

    sections = tuple(
        _section(contract, incidents, covered[contract.pk], outages, start, until)
        for contract in contracts
    )
    return SlaReport(
        customer=customer,
        year=year,
        month=month,
        time_zone=time_zone,
        period_start=start,
        period_end=end,
        measured_at=until,
        contracts=sections,
        totals=_totals(sections),
    )


def _contracts(customer: Customer, start: datetime, end: datetime) -> list[Contract]:
    """Contracts valid (and active) in the month, and any that has clocks of its incidents."""
    zone = ZoneInfo(zone_of(customer))
    first_day = start.astimezone(zone).date()
    last_day = date.fromordinal(end.astimezone(zone).date().toordinal() - 1)
    with_clocks = SlaClock.objects.filter(
        contract__customer=customer, incident__detected_at__gte=start, incident__detected_at__lt=end
    ).values("contract_id")
    valid = (
        Q(is_active=True, valid_from__lte=last_day)
        & (Q(valid_until__isnull=True) | Q(valid_until__gte=first_day))
    ) | Q(pk__in=with_clocks)
    return list(
        Contract.objects.filter(customer=customer)
        .filter(valid)
        .select_related("calendar")
        .prefetch_related("services")
        .order_by("name", "pk")
    )


def _incidents(contracts: Sequence[Contract], start: datetime, until: datetime) -> list[Incident]:
    """The incidents detected in the period with clocks of these contracts, with their clocks,
    contracts, clauses and pauses (`with_sla`): a fixed number of queries."""
    if not contracts or until <= start:
        return []
    return list(
        selectors.with_sla(
            Incident.objects.filter(
                sla_clocks__contract__in=[c.pk for c in contracts],
                detected_at__gte=start,
                detected_at__lt=until,
            ).distinct()
        ).order_by("detected_at", "pk")
    )


def _outages(
    customer: Customer, service_ids: set[int], start: datetime, until: datetime
) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """Per service: [detected, resolved) of the P1/P2 incidents affecting it and the customer
    that overlap the period (one query on the incident-service table)."""
    if not service_ids or until <= start:
        return {}
    rows = (
        Incident.services.through.objects.filter(
            service_id__in=service_ids,
            incident__customers=customer,
            incident__priority__in=OUTAGE_PRIORITIES,
            incident__detected_at__lt=until,
        )
        .filter(Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gt=start))
        .values_list("service_id", "incident_id", "incident__detected_at", "incident__resolved_at")
        .distinct()
    )
    by_service: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for service_id, _incident_id, detected_at, resolved_at in rows:
        by_service[service_id].append((detected_at, resolved_at))
    return by_service


def _section(
    contract: Contract,
    incidents: Iterable[Incident],
    services: Sequence[Service],
    outages: dict[int, list[tuple[datetime, datetime | None]]],
    start: datetime,
    until: datetime,
) -> ContractSection:
    lines = []
    for incident in incidents:
        exposure = next(
            (e for e in selectors.sla_exposure(incident, until) if e.contract_id == contract.pk),
            None,
        )
        if exposure is not None:
            lines.append(_line(incident, exposure))
    total = penalties.month_total(
        [line.credit for line in lines], monthly_fee=contract.monthly_fee, caps=contract.caps()
    )
    cal = contract.calendar_spec()
    return ContractSection(
        contract_id=contract.pk,
        name=contract.name,
        currency=contract.currency,
        monthly_fee=contract.monthly_fee,
        calendar_name=contract.calendar.name if contract.calendar_id else None,
        incidents=tuple(lines),
        priorities=_priorities(lines),
        availability=tuple(
            availability(cal, service, outages.get(service.pk, []), start, until)
            for service in services
        ),
        credits_sum=total.uncapped,
        credits_owed=total.amount,
        month_cap=total.cap,
    )


def _line(incident: Incident, exposure: Exposure) -> IncidentLine:
    targets = tuple(
        TargetLine(
            target=state.target,
            status=MISSED if state.missed else (MET if state.stopped_at else RUNNING),
            target_seconds=state.target_seconds,
            elapsed_seconds=state.elapsed_seconds,
            paused=state.paused,
        )
        for state in exposure.targets
    )
    return IncidentLine(
        incident_id=incident.pk,
        title=incident.title,
        priority=incident.priority,
        detected_at=incident.detected_at,
        resolved_at=incident.resolved_at,
        targets=targets,
        credit=exposure.accrued.amount,
        credit_uncapped=exposure.accrued.uncapped,
        provisional=any(state.stopped_at is None for state in exposure.targets),
    )


def _priorities(lines: Sequence[IncidentLine]) -> tuple[PriorityLine, ...]:
    counts: dict[int | None, dict[str, dict[str, int]]] = {}
    incidents: dict[int | None, int] = defaultdict(int)
    for line in lines:
        incidents[line.priority] += 1
        per_target = counts.setdefault(line.priority, {})
        for target in line.targets:
            tally = per_target.setdefault(target.target, {MET: 0, MISSED: 0, RUNNING: 0})
            tally[target.status] += 1
    return tuple(
        PriorityLine(
            priority=priority,
            incidents=incidents[priority],
            targets={
                target: TargetCount(**counts[priority].get(target, {}))
                for target in sorted(Target.values, key=lambda t: TARGET_ORDER.get(t, 9))
            },
        )
        for priority in sorted(counts, key=lambda p: (p is None, p or 0))
    )


def merge_intervals(
    spans: Iterable[tuple[datetime, datetime | None]], *, start: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    """The spans clipped to [start, until) (an open end lasts until `until`), sorted and merged
    so that overlapping or touching spans become one."""
    clipped = sorted(
        (max(lo, start), min(hi or until, until))
        for lo, hi in spans
        if min(hi or until, until) > max(lo, start)
    )
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in clipped:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def availability(
    cal: calendars.BusinessHours,
    service: Service,
    spans: Sequence[tuple[datetime, datetime | None]],
    start: datetime,
    until: datetime,
) -> ServiceAvailability:
    """One service's availability in [start, until), in the calendar's service time."""
    service_seconds = calendars.open_seconds_between(cal, start, until)
    downtime = sum(
        calendars.open_seconds_between(cal, lo, hi)
        for lo, hi in merge_intervals(spans, start=start, until=until)
    )
    return ServiceAvailability(
        service_id=service.pk,
        name=service.name,
        service_seconds=service_seconds,
        downtime_seconds=downtime,
        outages=sum(1 for lo, hi in spans if min(hi or until, until) > max(lo, start)),
        percent=availability_percent(downtime, service_seconds),
    )


def availability_percent(downtime_seconds: float, service_seconds: float) -> Decimal | None:
    """(1 - downtime / service time) in percent, 3 decimals, rounded down (never up to 100 %)."""
    if service_seconds <= 0:
        return None
    down = Decimal(str(round(downtime_seconds, 6)))
    total = Decimal(str(round(service_seconds, 6)))
    share = max(Decimal(0), 1 - down / total)
    return (share * 100).quantize(PERCENT_PLACES, rounding=ROUND_DOWN)


def _totals(sections: Sequence[ContractSection]) -> tuple[CurrencyTotal, ...]:
    by_currency: dict[str, list[ContractSection]] = defaultdict(list)
    for section in sections:
        by_currency[section.currency].append(section)
    return tuple(
        CurrencyTotal(
            currency=currency,
            credits_sum=penalties.money(sum((s.credits_sum for s in group), penalties.ZERO)),
            credits_owed=penalties.money(sum((s.credits_owed for s in group), penalties.ZERO)),
        )
        for currency, group in sorted(by_currency.items())
    )


def default_month(now: datetime | None = None, time_zone: str | None = None) -> tuple[int, int]:
    """The month before the current one (in `time_zone`, default the active one)."""
    now = now or timezone.now()
    local = now.astimezone(ZoneInfo(time_zone)) if time_zone else timezone.localtime(now)
    return (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
