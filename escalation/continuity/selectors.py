"""Reads of business continuity: per audience (scoping lives here and nowhere else), and the
recovery objectives of an incident (which processes it affects, their deadlines, the level the
objectives call for)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet

from incidents.models import Incident, State, User
from incidents.selectors import role_of

from .models import (
    LEVEL_ORDER,
    BusinessProcess,
    IncidentLevel,
    Level,
    Runbook,
    RunbookVersion,
    Workaround,
)

WARN_PERCENTS = (50, 80, 100)  # of the RTO and of the MTPD; 100 is the breach


def processes_for(user: User) -> QuerySet[BusinessProcess]:
    """Staff and executives see every process; a customer contact their organisation's own."""
    processes = BusinessProcess.objects.select_related("owner").prefetch_related(
        "customers", "services"
    )
    role = role_of(user)
    if role in ("staff", "executive"):
        return processes
    if role == "customer":
        return processes.filter(customers=user.customer_id, is_active=True).distinct()
    return processes.none()


def runbooks_for(user: User) -> QuerySet[Runbook]:
    """Runbooks are the team's instructions: staff and executives read them, customers never."""
    runbooks = Runbook.objects.select_related("process", "service")
    if role_of(user) in ("staff", "executive"):
        return runbooks
    return runbooks.none()


def runbook_current(runbook: Runbook) -> RunbookVersion | None:
    return runbook.versions.filter(number=runbook.version).first()


def affected_processes(incident: Incident) -> list[BusinessProcess]:
    """The active processes that depend on one of the incident's services."""
    return list(
        BusinessProcess.objects.filter(is_active=True, services__in=incident.services.all())
        .distinct()
        .prefetch_related("customers", "services")
        .order_by("name", "pk")
    )


def runbooks_offered(incident: Incident, processes: list[BusinessProcess]) -> list[Runbook]:
    """Active runbooks of the affected processes and of the incident's services, each with its
    current version prefetched (as `current`)."""
    from django.db.models import Q

    runbooks = (
        Runbook.objects.filter(is_active=True, version__gt=0)
        .filter(Q(process__in=processes) | Q(service__in=incident.services.all()))
        .select_related("process", "service")
        .prefetch_related(Prefetch("versions", to_attr="all_versions"))
        .distinct()
        .order_by("title", "pk")
    )
    found = []
    for runbook in runbooks:
        runbook.current = next(
            (v for v in runbook.all_versions if v.number == runbook.version), None
        )
        found.append(runbook)
    return found


@dataclass
class Deadline:
    process: BusinessProcess
    rto_minutes: int
    mtpd_minutes: int
    rto_at: datetime
    mtpd_at: datetime

    def state(self, now: datetime) -> str:
        """ok, rto_breached or mtpd_breached."""
        if now >= self.mtpd_at:
            return "mtpd_breached"
        return "rto_breached" if now >= self.rto_at else "ok"


def deadlines(incident: Incident, processes: list[BusinessProcess]) -> list[Deadline]:
    """Each process's RTO and MTPD deadline, counted from the incident's detection."""
    found = []
    for process in processes:
        rto, mtpd = process.objectives_for(incident.priority)
        found.append(
            Deadline(
                process=process,
                rto_minutes=rto,
                mtpd_minutes=mtpd,
                rto_at=incident.detected_at + timedelta(minutes=rto),
                mtpd_at=incident.detected_at + timedelta(minutes=mtpd),
            )
        )
    return found


def recovered(incident: Incident) -> bool:
    """The processes run again: a workaround is in place, or the incident is over."""
    return incident.state not in (State.DETECTED, State.CLASSIFIED, State.ESCALATED)


def level_derived(incident: Incident, found: list[Deadline], now: datetime) -> str:
    """The level the recovery objectives call for (BSI 200-4): a process past its RTO with no
    workaround is an emergency (its MTPD is at risk: it will be exceeded unless recovery starts
    now), past its MTPD a crisis; otherwise, and once a workaround is in place, a disruption."""
    if recovered(incident) or not found:
        return Level.DISRUPTION
    states = {d.state(now) for d in found}
    if "mtpd_breached" in states:
        return Level.CRISIS
    if "rto_breached" in states:
        return Level.EMERGENCY
    return Level.DISRUPTION


def level_rank(level: str) -> int:
    return LEVEL_ORDER.index(level)


def level_of(incident: Incident) -> IncidentLevel | None:
    return IncidentLevel.objects.filter(incident=incident).select_related("set_by").first()


def workaround_current(incident: Incident) -> Workaround | None:
    return (
        Workaround.objects.filter(incident=incident)
        .select_related("runbook_version__runbook", "decided_by")
        .prefetch_related("concessions__customer", "concessions__recorded_by")
        .first()
    )
