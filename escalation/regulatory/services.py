"""Writes of regulatory reporting. Every one locks the incident (so its timeline stays a chain),
changes the rows, records the timeline entry and re-plans the incident's report clocks, in one
transaction. Resolving or closing an incident never touches these clocks: a report falls due
whatever the incident's state."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from escalation import roles
from incidents.exceptions import ApplicationError, InvalidInput
from incidents.models import Incident
from incidents.services import actor_label, incident_lock, timeline_record
from notifications.services import notification_enqueue

from . import deadlines
from .drafts import draft_render
from .models import Assessment, Awareness, Regime, Report
from .selectors import aware_at as aware_at_of
from .selectors import regimes_for

EV_AWARE = "regulatory_aware_set"
EV_ASSESSED = "regulatory_assessed"
EV_SUBMITTED = "regulatory_report_submitted"
EV_REFERENCE = "regulatory_reference_added"
EV_MISSED = "regulatory_deadline_missed"

Decision = Assessment.Decision
State = Report.State


class ReportFrozen(ApplicationError):
    """A submitted report is evidence: it no longer changes."""

    code = "report_frozen"
    http_status = 409


class ReportNotDue(ApplicationError):
    """The report's period has not started (its preceding report is not submitted yet), or the
    assessment no longer requires it."""

    code = "report_not_due"
    http_status = 409


# --- Planning the clocks -----------------------------------------------------------------------


def reports_plan(*, incident: Incident, now: datetime) -> list[Report]:
    """Bring the incident's reports in line with its assessments (caller holds incident_lock):
    a reportable assessment gets one report per report type of its regime (rule copied, draft
    prefilled); each unsubmitted one runs from its anchor or waits for it; a report no longer
    required is cancelled. Submitted reports are never touched."""
    aware = aware_at_of(incident)
    planned = []
    for assessment in incident.regulatory_assessments.select_related("regime"):
        existing = {r.report_type_id: r for r in assessment.reports.all()}
        if assessment.decision != Decision.REPORTABLE:
            for report in existing.values():
                if report.state != State.SUBMITTED:
                    _save_plan(report, state=State.CANCELLED, start=None, due=None)
            continue
        previous_submitted = None
        for report_type in assessment.regime.report_types.order_by("position"):
            report = existing.get(report_type.pk)
            if report is None:
                report = Report.objects.create(
                    assessment=assessment,
                    report_type=report_type,
                    position=report_type.position,
                    rule=report_type.rule(),
                )
                report.text = draft_render(report, language="de", now=now)
                report.text_en = draft_render(report, language="en", now=now)
                report.save(update_fields=["text", "text_en"])
            if report.state == State.SUBMITTED:
                previous_submitted = report.submitted_at
                planned.append(report)
                continue
            anchors = {
                deadlines.AWARE: aware,
                deadlines.CLASSIFIED: assessment.decided_at,
                deadlines.PREVIOUS: previous_submitted,
            }
            rule = report.deadline_rule()
            due = deadlines.deadline(rule, anchors=anchors)
            if due is None:
                _save_plan(report, state=State.WAITING, start=None, due=None)
            else:
                _save_plan(report, state=State.RUNNING, start=anchors[rule.anchor], due=due)
            previous_submitted = None
            planned.append(report)
    return planned


def _save_plan(report: Report, *, state: str, start, due) -> None:
    report.state, report.started_at, report.due_at = state, start, due
    if state == State.RUNNING:
        times = deadlines.reminder_times(start, due)
        report.next_alert_at = (
            times[report.alerts_sent] if report.alerts_sent < len(times) else None
        )
    else:
        report.next_alert_at = None
    report.save(update_fields=["state", "started_at", "due_at", "next_alert_at", "updated_at"])


# --- Awareness and assessment ------------------------------------------------------------------


AWARE_BEFORE_DETECTION_DAYS = 30


@transaction.atomic
def awareness_set(*, incident: Incident, actor, aware_at: datetime, reason: str) -> Awareness:
    """Change when we became aware (the start of most periods): only with a reason, recorded on
    the timeline; running clocks move with it."""
    if not reason.strip():
        raise InvalidInput(_("Say why the moment of becoming aware changes."), field="reason")
    now = timezone.now()
    if aware_at > now:
        raise InvalidInput(_("Becoming aware cannot lie in the future."), field="aware_at")
    incident = incident_lock(incident)
    # Nobody becomes aware of an incident long before it was detected: a slip of the year (or a
    # date from another century) would start every period in the past.
    if aware_at < incident.detected_at - timedelta(days=AWARE_BEFORE_DETECTION_DAYS):
        raise InvalidInput(
            _("Becoming aware lies at most %(days)d days before the incident was detected.")
            % {"days": AWARE_BEFORE_DETECTION_DAYS},
            field="aware_at",
        )
    before = aware_at_of(incident)
    awareness, _created = Awareness.objects.update_or_create(
        incident=incident, defaults={"aware_at": aware_at, "recorded_by": actor}
    )
    timeline_record(
        incident=incident,
        kind=EV_AWARE,
        actor=actor,
        data={"from": before.isoformat(), "to": aware_at.isoformat(), "reason": reason.strip()},
    )
    reports_plan(incident=incident, now=now)
    return awareness


@transaction.atomic
def assessment_decide(
    *,
    incident: Incident,
    regime: Regime,
    actor,
    decision: str,
    reason: str,
    checks: dict | None = None,
    personal_data: bool | None = None,
    users_affected: int | None = None,
) -> Assessment:
    """Decide whether the incident is reportable under `regime` (by whom, why), on the timeline.
    A reportable decision starts the regime's report clocks; withdrawing it cancels those not
    submitted. The moment a regime first becomes reportable is its classification time (DORA's
    "classified as major")."""
    if decision not in (Decision.REPORTABLE, Decision.NOT_REPORTABLE):
        raise InvalidInput(_("Decide: reportable or not reportable."), field="decision")
    if not reason.strip():
        raise InvalidInput(_("Say why."), field="reason")
    now = timezone.now()
    incident = incident_lock(incident)
    if not regimes_for(incident).filter(pk=regime.pk).exists():
        raise InvalidInput(_("This regime does not cover this incident."), field="regime")
    if not Awareness.objects.filter(incident=incident).exists():
        Awareness.objects.create(
            incident=incident, aware_at=incident.detected_at, recorded_by=actor
        )
    keys = {c.get("key") for c in regime.criteria}
    assessment, _created = Assessment.objects.get_or_create(incident=incident, regime=regime)
    before = assessment.decision
    assessment.decision = decision
    assessment.checks = {k: bool(v) for k, v in (checks or {}).items() if k in keys}
    assessment.personal_data = personal_data
    assessment.users_affected = users_affected
    assessment.reason = reason.strip()
    assessment.decided_by = actor
    if decision != before:
        assessment.decided_at = now
    assessment.save()
    timeline_record(
        incident=incident,
        kind=EV_ASSESSED,
        actor=actor,
        from_state=before,
        to_state=decision,
        data={
            "regime": regime.code,
            "regime_name": regime.name,
            "reason": assessment.reason,
            "checks": assessment.checks,
            "personal_data": personal_data,
        },
    )
    reports_plan(incident=incident, now=now)
    return assessment


# --- Reports -----------------------------------------------------------------------------------


def _lock_report(report: Report) -> tuple[Incident, Report]:
    incident_id = Report.objects.values_list("assessment__incident_id", flat=True).get(pk=report.pk)
    incident = incident_lock(incident_id)
    report = (
        Report.objects.select_for_update(of=("self",))
        .select_related("assessment__regime", "report_type")
        .get(pk=report.pk)
    )
    return incident, report


@transaction.atomic
def report_draft_save(*, report: Report, actor, text: str, text_en: str) -> Report:
    """Save the edited draft (German and English); refused once submitted."""
    _incident, report = _lock_report(report)
    if report.is_frozen:
        raise ReportFrozen(_("This report was submitted; it can no longer be changed."))
    report.text, report.text_en = text, text_en
    report.save(update_fields=["text", "text_en", "updated_at"])
    return report


@transaction.atomic
def report_redraft(*, report: Report, actor) -> Report:
    """Fill the draft anew from the record as it is now (overwrites edits); refused once
    submitted. A report's draft is first filled when the assessment creates it, which for a final
    report can be weeks before the workaround and the cause are known."""
    _incident, report = _lock_report(report)
    if report.is_frozen:
        raise ReportFrozen(_("This report was submitted; it can no longer be changed."))
    now = timezone.now()
    report.text = draft_render(report, language="de", now=now)
    report.text_en = draft_render(report, language="en", now=now)
    report.save(update_fields=["text", "text_en", "updated_at"])
    return report


@transaction.atomic
def report_submit(
    *, report: Report, actor, submitted_at: datetime | None = None, reference: str = ""
) -> Report:
    """Record that the report was submitted to the authority (when, by whom, its reference):
    its clock stops, its text freezes, and the next report's period starts."""
    now = timezone.now()
    submitted_at = submitted_at or now
    if submitted_at > now:
        raise InvalidInput(_("A report cannot be submitted in the future."), field="submitted_at")
    incident, report = _lock_report(report)
    if report.is_frozen:
        raise ReportFrozen(_("This report was submitted already."))
    if report.state != State.RUNNING:
        raise ReportNotDue(_("This report is not due: submit the report before it first."))
    report.state, report.next_alert_at = State.SUBMITTED, None
    report.submitted_at, report.submitted_by = submitted_at, actor
    report.submitted_by_label = actor_label(actor)
    report.reference = reference.strip()
    report.save()
    timeline_record(
        incident=incident,
        kind=EV_SUBMITTED,
        actor=actor,
        data={
            "regime": report.assessment.regime.code,
            "report": report.report_type.name_en,
            "submitted_at": submitted_at.isoformat(),
            "due_at": report.due_at.isoformat() if report.due_at else None,
            "late": bool(report.due_at and submitted_at > report.due_at),
            "reference": report.reference,
        },
    )
    reports_plan(incident=incident, now=now)
    return report


@transaction.atomic
def report_reference_set(*, report: Report, actor, reference: str) -> Report:
    """Attach the authority's reference to a submitted report that has none yet."""
    if not reference.strip():
        raise InvalidInput(_("Enter the authority's reference."), field="reference")
    incident, report = _lock_report(report)
    if not report.is_frozen:
        raise ReportNotDue(_("Mark the report submitted first."))
    if report.reference:
        raise ReportFrozen(_("This report has its reference already."))
    report.reference = reference.strip()
    report.save(update_fields=["reference", "updated_at"])
    timeline_record(
        incident=incident,
        kind=EV_REFERENCE,
        actor=actor,
        data={"report": report.report_type.name_en, "reference": report.reference},
    )
    return report


# --- Reminders (the beat task regulatory_tick) -------------------------------------------------

STAGES = ("half", "four_fifths", "breach")


def reminders_fire(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send every due reminder (each report claimed with skip_locked on PostgreSQL and handled in
    its own transaction, so two ticks never send one twice); returns how many fired."""
    now = now or timezone.now()
    fired = 0
    while fired < limit:
        with transaction.atomic():
            due = Report.objects.filter(state=State.RUNNING, next_alert_at__lte=now).order_by(
                "next_alert_at", "pk"
            )
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            report_id = due.values_list("pk", flat=True).first()
            if report_id is None:
                break
            report_remind(report=Report(pk=report_id), now=now)
            fired += 1
    return fired


def report_remind(*, report: Report, now: datetime) -> Report:
    """Send the report's next reminder (50 %, 80 %, breach) to the escalation manager and the
    regime's named people through the outbox; the breach also goes on the timeline."""
    incident, report = _lock_report(report)
    if report.state != State.RUNNING or report.next_alert_at is None or report.next_alert_at > now:
        return report
    times = deadlines.reminder_times(report.started_at, report.due_at)
    # only the latest reminder due: after an outage of the tick, "80 %" makes "50 %" moot
    index = report.alerts_sent
    while index + 1 < len(times) and times[index + 1] <= now:
        index += 1
    stage = STAGES[index + len(STAGES) - len(times)]  # a period already over has only "breach"
    _send_reminder(incident=incident, report=report, stage=stage)
    if stage == "breach":
        report.breached_at = report.due_at
        timeline_record(
            incident=incident,
            kind=EV_MISSED,
            actor=None,
            data={
                "regime": report.assessment.regime.code,
                "report": report.report_type.name_en,
                "due_at": report.due_at.isoformat(),
            },
        )
    report.alerts_sent = index + 1
    report.next_alert_at = times[report.alerts_sent] if report.alerts_sent < len(times) else None
    report.save(update_fields=["alerts_sent", "next_alert_at", "breached_at", "updated_at"])
    return report


def _recipients(incident: Incident, regime: Regime) -> list[tuple]:
    """(user or None, address, language): the incident's commander, or every escalation manager
    if it has none; the regime's named people and addresses. One message per address."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    people = (
        [incident.commander]
        if incident.commander_id and incident.commander.email
        else list(users.filter(groups__name=roles.ESCALATION_MANAGER))
    )
    people += list(regime.notify.filter(is_active=True).exclude(email=""))
    seen, recipients = set(), []
    for person in people:
        if person.email.lower() not in seen:
            seen.add(person.email.lower())
            recipients.append((person, person.email, person.language or "de"))
    for address in regime.addresses():
        if address.lower() not in seen:
            seen.add(address.lower())
            recipients.append((None, address, settings.LANGUAGE_CODE[:2]))
    return recipients


def _send_reminder(*, incident: Incident, report: Report, stage: str) -> None:
    regime = report.assessment.regime
    url = settings.BASE_URL + reverse("regulatory:incident", args=[incident.pk])
    for user, address, language in _recipients(incident, regime):
        notification_enqueue(
            dedup_key=f"regulatory:{report.pk}:{stage}:{int(report.due_at.timestamp())}:{address}",
            channel="email",
            address=address,
            recipient=user,
            language=language,
            template="regulatory_reminder",
            subject=f"regulatory:{report.pk}",
            context={
                "stage": stage,
                "incident_id": incident.pk,
                "title": incident.title,
                "regime": regime.name,
                "authority": regime.authority,
                "report_de": report.report_type.name,
                "report_en": report.report_type.name_en,
                "due_at": report.due_at.isoformat(),
                "incident_url": url,
                "recipient_name": user.display_name if user else "",
            },
        )
