"""Assessing, planning, submitting and freezing regulatory reports (escalation/regulatory)."""

from datetime import timedelta

import pytest
import time_machine

from escalation.regulatory.models import Assessment, Regime, Report
from escalation.regulatory.selectors import regimes_for, reports_for
from escalation.regulatory.services import (
    EV_ASSESSED,
    EV_AWARE,
    EV_SUBMITTED,
    ReportFrozen,
    ReportNotDue,
    assessment_decide,
    awareness_set,
    report_draft_save,
    report_reference_set,
    report_submit,
)
from incidents.exceptions import InvalidInput
from incidents.models import State
from tests.factories import IncidentFactory, drive

from .conftest import AWARE

pytestmark = pytest.mark.django_db
REPORTABLE = Assessment.Decision.REPORTABLE


def _reports(incident) -> dict[str, Report]:
    return {f"{r.assessment.regime.code}.{r.report_type.code}": r for r in reports_for(incident)}


def test_seeded_regimes_have_the_regulations_deadlines(regimes):
    rules = {
        f"{t.regime.code}.{t.code}": (t.anchor, t.hours, t.months, t.cap_hours_from_aware)
        for r in regimes.values()
        for t in r.report_types.all()
    }
    assert rules == {
        "nis2.early_warning": ("aware", 24, 0, None),
        "nis2.notification": ("aware", 72, 0, None),
        "nis2.final": ("previous", 0, 1, None),
        "dora.initial": ("classified", 4, 0, 24),
        "dora.intermediate": ("previous", 72, 0, None),
        "dora.final": ("previous", 0, 1, None),
        "gdpr.notification": ("aware", 72, 0, None),
    }


def test_regimes_cover_every_incident_or_the_named_customers(incident, regimes, manager):
    assert {r.code for r in regimes_for(incident)} == {"nis2", "dora", "gdpr"}
    other = IncidentFactory(actor=manager)
    assert {r.code for r in regimes_for(other)} == {"nis2", "gdpr"}
    with pytest.raises(InvalidInput):
        assessment_decide(
            incident=other, regime=regimes["dora"], actor=manager, decision=REPORTABLE, reason="x"
        )


@time_machine.travel(AWARE + timedelta(hours=2), tick=False)
def test_nis2_significant_starts_early_warning_and_notification(incident, regimes, manager):
    assessment_decide(
        incident=incident,
        regime=regimes["nis2"],
        actor=manager,
        decision=REPORTABLE,
        reason="Online-Banking 2 h ganz ausgefallen",
        checks={"unavailable_30min": True, "unknown": True},
    )
    reports = _reports(incident)
    assert reports["nis2.early_warning"].state == Report.State.RUNNING
    assert reports["nis2.early_warning"].due_at == AWARE + timedelta(hours=24)
    assert reports["nis2.notification"].due_at == AWARE + timedelta(hours=72)
    assert reports["nis2.final"].state == Report.State.WAITING
    assert reports["nis2.final"].due_at is None
    assessment = incident.regulatory_assessments.get()
    assert assessment.checks == {"unavailable_30min": True}  # unknown criteria are dropped
    event = incident.events.get(kind=EV_ASSESSED)
    assert (event.from_state, event.to_state) == ("open", "reportable")
    assert event.data["reason"] == "Online-Banking 2 h ganz ausgefallen"
    assert "Online-Banking" in reports["nis2.early_warning"].text
    assert "Early warning" in reports["nis2.early_warning"].text_en


def test_dora_initial_runs_from_classification_capped_at_24_hours(incident, regimes, manager):
    with time_machine.travel(AWARE + timedelta(hours=21), tick=False):
        assessment_decide(
            incident=incident,
            regime=regimes["dora"],
            actor=manager,
            decision=REPORTABLE,
            reason="major: clients",
        )
    initial = _reports(incident)["dora.initial"]
    assert initial.started_at == AWARE + timedelta(hours=21)
    assert initial.due_at == AWARE + timedelta(hours=24)  # not 25 h
    assert _reports(incident)["dora.intermediate"].state == Report.State.WAITING


@time_machine.travel(AWARE + timedelta(hours=3), tick=False)
def test_submitting_stops_the_clock_freezes_and_starts_the_next(incident, regimes, manager):
    assessment_decide(
        incident=incident, regime=regimes["nis2"], actor=manager, decision=REPORTABLE, reason="x"
    )
    reports = _reports(incident)
    with pytest.raises(ReportNotDue):
        report_submit(report=reports["nis2.final"], actor=manager)
    report_draft_save(
        report=reports["nis2.early_warning"], actor=manager, text="Frühwarnung", text_en="EW"
    )
    report_submit(report=reports["nis2.early_warning"], actor=manager, reference="")
    early = Report.objects.get(pk=reports["nis2.early_warning"].pk)
    assert (early.state, early.next_alert_at, early.text) == ("submitted", None, "Frühwarnung")
    assert early.submitted_by_label == "mara.manager (mara.manager)"
    with pytest.raises(ReportFrozen):
        report_draft_save(report=early, actor=manager, text="changed", text_en="changed")
    with pytest.raises(ReportFrozen):
        report_submit(report=early, actor=manager)
    report_reference_set(report=early, actor=manager, reference="BSI-2026-0042")
    with pytest.raises(ReportFrozen):
        report_reference_set(report=early, actor=manager, reference="other")
    assert Report.objects.get(pk=early.pk).reference == "BSI-2026-0042"

    submitted_at = AWARE + timedelta(hours=2, minutes=30)
    report_submit(report=reports["nis2.notification"], actor=manager, submitted_at=submitted_at)
    final = Report.objects.get(pk=reports["nis2.final"].pk)
    assert final.state == Report.State.RUNNING
    assert final.started_at == submitted_at
    assert final.due_at == submitted_at + timedelta(days=30)  # 10 June -> 10 July
    assert incident.events.filter(kind=EV_SUBMITTED).count() == 2


@time_machine.travel(AWARE + timedelta(hours=1), tick=False)
def test_submitting_in_the_future_is_refused(incident, regimes, manager):
    assessment_decide(
        incident=incident, regime=regimes["gdpr"], actor=manager, decision=REPORTABLE, reason="x"
    )
    report = _reports(incident)["gdpr.notification"]
    with pytest.raises(InvalidInput):
        report_submit(report=report, actor=manager, submitted_at=AWARE + timedelta(hours=2))
    assert Report.objects.get(pk=report.pk).state == Report.State.RUNNING


@time_machine.travel(AWARE + timedelta(hours=5), tick=False)
def test_not_reportable_cancels_what_is_not_submitted(incident, regimes, manager):
    assessment_decide(
        incident=incident, regime=regimes["gdpr"], actor=manager, decision=REPORTABLE, reason="x"
    )
    assessment_decide(
        incident=incident,
        regime=regimes["gdpr"],
        actor=manager,
        decision=Assessment.Decision.NOT_REPORTABLE,
        reason="no personal data after all",
        personal_data=False,
    )
    assert list(reports_for(incident)) == []
    assert Report.objects.get().state == Report.State.CANCELLED


@time_machine.travel(AWARE + timedelta(hours=5), tick=False)
def test_awareness_changes_only_with_a_reason_and_moves_the_clocks(incident, regimes, manager):
    assessment_decide(
        incident=incident, regime=regimes["gdpr"], actor=manager, decision=REPORTABLE, reason="x"
    )
    with pytest.raises(InvalidInput):
        awareness_set(incident=incident, actor=manager, aware_at=AWARE, reason=" ")
    with pytest.raises(InvalidInput):
        awareness_set(
            incident=incident, actor=manager, aware_at=AWARE + timedelta(days=1), reason="x"
        )
    later = AWARE + timedelta(hours=1)
    awareness_set(
        incident=incident, actor=manager, aware_at=later, reason="Alarm erst um 9 Uhr gesehen"
    )
    assert _reports(incident)["gdpr.notification"].due_at == later + timedelta(hours=72)
    event = incident.events.get(kind=EV_AWARE)
    assert event.data["reason"] == "Alarm erst um 9 Uhr gesehen"
    assert event.data["from"] == AWARE.isoformat()


def test_resolving_and_closing_keep_the_clocks(incident, regimes, manager):
    with time_machine.travel(AWARE + timedelta(hours=1), tick=False):
        assessment_decide(
            incident=incident,
            regime=regimes["nis2"],
            actor=manager,
            decision=REPORTABLE,
            reason="x",
        )
        drive(incident, State.CLOSED, actor=manager)
    running = [r for r in reports_for(incident) if r.state == Report.State.RUNNING]
    assert len(running) == 2
    assert all(r.next_alert_at for r in running)


def test_inactive_regimes_cover_nothing(incident):
    Regime.objects.update(is_active=False)
    assert list(regimes_for(incident)) == []


def test_demo_data_assesses_the_most_severe_open_incident_once(incident, manager):
    from escalation.regulatory.demo import regulatory_demo

    drive(incident, State.CLASSIFIED, actor=manager)
    regulatory_demo()
    regulatory_demo()
    assert incident.regulatory_assessments.get().decision == REPORTABLE
    assert len([r for r in reports_for(incident) if r.state == Report.State.RUNNING]) == 2


@time_machine.travel(AWARE + timedelta(hours=3), tick=False)
def test_redraft_takes_what_is_known_now_until_submitted(incident, regimes, manager):
    from escalation.regulatory.services import report_redraft

    assessment_decide(
        incident=incident, regime=regimes["nis2"], actor=manager, decision=REPORTABLE, reason="x"
    )
    report = _reports(incident)["nis2.early_warning"]
    assert "Zweites Rechenzentrum" not in report.text
    drive(incident, State.WORKAROUND, actor=manager)
    report = report_redraft(report=report, actor=manager)
    assert "Zweites Rechenzentrum übernimmt" in report.text
    report_submit(report=report, actor=manager)
    with pytest.raises(ReportFrozen):
        report_redraft(report=report, actor=manager)
