"""Writes of post-incident reviews and corrective actions: each one use case in one transaction,
with its timeline entry on the incident (the review's steps, the actions' outcomes) and its
messages through the outbox."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from escalation.selectors import address_for, managers_on_duty
from incidents.exceptions import ApplicationError, InvalidInput, PermissionDenied
from incidents.models import Incident, User
from incidents.services import incident_lock, timeline_record
from notifications.services import notification_enqueue

from . import selectors
from .models import TEXT_FIELDS, Action, Review

# Timeline kinds of this app (shown under these names on the console's timeline).
EV_DRAFTED = "review_drafted"
EV_SUBMITTED = "review_submitted"
EV_SENT_BACK = "review_sent_back"
EV_APPROVED = "review_approved"
EV_ACTION_ADDED = "action_added"
EV_ACTION_DONE = "action_done"
EV_ACTION_CHECKED = "action_checked"
EV_ACTION_CANCELLED = "action_cancelled"

# A reminder this many days before an action's due date; the overdue notice the day after it.
# Both go out at this local hour, in the product's time zone.
REMIND_BEFORE = timedelta(days=3)
REMIND_HOUR = time(9)


class ReviewStateError(ApplicationError):
    """The review is not in a state that allows this (e.g. it is approved, so frozen)."""

    code = "review_state"
    http_status = 409


class FourEyes(ApplicationError):
    """The approver must be a second person: not the review's author, not who submitted it."""

    code = "four_eyes"
    http_status = 403


class ActionStateError(ApplicationError):
    code = "action_state"
    http_status = 409


def _require_manager(actor: User | None) -> None:
    if actor is None or not selectors.may_write(actor):
        raise PermissionDenied(_("Only escalation managers may do this."))


def _record(review: Review, kind: str, actor, data: dict) -> None:
    incident = incident_lock(review.incident_id)
    timeline_record(incident=incident, kind=kind, actor=actor, data=data)


# --- Reviews ------------------------------------------------------------------------------------


def _draft_texts(incident: Incident) -> dict:
    """The first draft, from the record (the person edits it). An old free-text review (the field
    closing used to require) becomes the summary."""
    services = ", ".join(incident.services.values_list("name", flat=True))
    customers = ", ".join(incident.customers.values_list("name", flat=True))
    summary = incident.review.strip() or "\n\n".join(
        part for part in (incident.title, incident.description.strip()) if part
    )
    impact = []
    if services:
        impact.append(_("Affected services: %(services)s.") % {"services": services})
    if customers:
        impact.append(_("Affected customers: %(customers)s.") % {"customers": customers})
    return {
        "summary": summary,
        "customer_impact": " ".join(impact),
        "business_impact": "",
        "root_cause": "",
        "contributing_factors": "",
        "went_well": incident.workaround.strip(),
        "went_badly": "",
    }


def _review_create(locked: Incident, actor: User | None) -> Review:
    existing = Review.objects.filter(incident=locked).first()
    if existing is not None:
        return existing
    review = Review.objects.create(
        incident=locked,
        author=actor,
        key_moments=selectors.proposed_moments(locked),
        **_draft_texts(locked),
    )
    timeline_record(incident=locked, kind=EV_DRAFTED, actor=actor, data={"review": review.pk})
    return review


@transaction.atomic
def review_draft(*, incident: Incident, actor: User) -> Review:
    """Draft the incident's review from its record (idempotent: an existing review is
    returned)."""
    _require_manager(actor)
    return _review_create(incident_lock(incident), actor)


def review_draft_on_resolve(incident, action: str, actor, from_state: str) -> None:
    """A transition listener (escalation.hooks), inside the step's transaction on the locked
    incident: resolving an escalated incident drafts its review (by the product), so the
    escalation manager finds it ready to edit. It records on the caller's instance, which keeps
    the chain's head for the entries the step appends after it."""
    if action == "resolve" and incident.escalated_at is not None:
        _review_create(incident, None)


@transaction.atomic
def review_edit(*, review: Review, actor: User, key_moments: list | None = None, **texts) -> Review:
    """Change a draft's texts and key moments (a submitted review goes back to draft first; an
    approved one is frozen)."""
    _require_manager(actor)
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.state != Review.State.DRAFT:
        raise ReviewStateError(
            _("Only a draft can be edited; this review is %(state)s.")
            % {"state": review.get_state_display()}
        )
    unknown = set(texts) - set(TEXT_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field."), field=sorted(unknown)[0])
    fields = []
    for name, value in texts.items():
        setattr(review, name, (value or "").strip())
        fields.append(name)
    if key_moments is not None:
        seqs = sorted({int(seq) for seq in key_moments})
        known = set(review.incident.events.filter(seq__in=seqs).values_list("seq", flat=True))
        if set(seqs) - known:
            raise InvalidInput(
                _("Key moments must be entries of the incident's timeline."), field="key_moments"
            )
        review.key_moments = seqs
        fields.append("key_moments")
    if review.author_id is None:
        review.author = actor  # a draft the product made belongs to who first edits it
        fields.append("author")
    review.save(update_fields=[*fields, "updated_at"])
    return review


@transaction.atomic
def review_submit(*, review: Review, actor: User) -> Review:
    _require_manager(actor)
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not can_proceed(review.submit):
        raise ReviewStateError(_("Only a draft can be submitted."))
    missing = [name for name in ("summary", "root_cause") if not getattr(review, name).strip()]
    if missing:
        raise InvalidInput(_("Write the summary and the root cause first."), field=missing[0])
    review.submit(at=timezone.now(), by=actor)
    if review.author_id is None:
        review.author = actor
    review.save(update_fields=["state", "submitted_at", "submitted_by", "author", "updated_at"])
    _record(review, EV_SUBMITTED, actor, {"review": review.pk})
    return review


@transaction.atomic
def review_send_back(*, review: Review, actor: User, reason: str) -> Review:
    """The approver does not approve: the review returns to its author as a draft, with why."""
    _require_manager(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say what is missing."), field="reason")
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not can_proceed(review.send_back):
        raise ReviewStateError(_("Only a submitted review can be sent back."))
    review.send_back(reason=reason)
    review.save(update_fields=["state", "submitted_at", "submitted_by", "return_reason"])
    _record(review, EV_SENT_BACK, actor, {"review": review.pk, "reason": reason})
    return review


@transaction.atomic
def review_approve(*, review: Review, actor: User) -> Review:
    """Four-eyes approval: a second escalation manager (neither the author nor who submitted it)
    approves; the review is frozen from now on and keeps its figures as they are now."""
    _require_manager(actor)
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not can_proceed(review.approve):
        raise ReviewStateError(_("Only a submitted review can be approved."))
    if actor.pk in (review.author_id, review.submitted_by_id):
        raise FourEyes(_("A second person must approve the review, not its author."))
    now = timezone.now()
    review.approve(at=now, by=actor)
    review.figures = selectors.review_figures(review.incident)
    review.save(update_fields=["state", "approved_at", "approved_by", "figures", "updated_at"])
    _record(review, EV_APPROVED, actor, {"review": review.pk, "author": str(review.author)})
    return review


def close_blocker(incident: Incident) -> str | None:
    """escalation.hooks.close_blockers: an escalated incident closes only with an approved
    review."""
    if incident.escalated_at is None:
        return None
    if Review.objects.filter(incident=incident, state=Review.State.APPROVED).exists():
        return None
    return _("the post-incident review is not approved yet")


# --- Actions (CAPA) -----------------------------------------------------------------------------


def _local(day: date) -> datetime:
    return datetime.combine(day, REMIND_HOUR, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _next_due(action: Action) -> datetime | None:
    """When the tick must next look at the action: the reminder before its due date, the overdue
    notice, the effectiveness check; None once nothing is left to do."""
    sent = set(action.reminders_sent)
    if action.state == Action.State.OPEN:
        if "due_soon" not in sent and "overdue" not in sent:
            return _local(action.due_on - REMIND_BEFORE)
        if "overdue" not in sent:
            return _local(action.due_on + timedelta(days=1))
        return None
    if action.state == Action.State.DONE and "check" not in sent:
        return _local(action.check_on)
    return None


def _validate_dates(due_on: date, check_on: date) -> None:
    if check_on < due_on:
        raise InvalidInput(_("The effectiveness check comes after the due date."), field="check_on")


@transaction.atomic
def action_create(
    *,
    actor: User,
    title: str,
    kind: str,
    owner: User,
    due_on: date,
    check_on: date,
    check_kind: str = Action.Check.NO_RECURRENCE,
    check_criterion: str = "",
    description: str = "",
    review: Review | None = None,
    origin=None,
) -> Action:
    """A corrective, preventive or improvement action, from a review (not yet approved: an
    approved review is frozen) or from another record (`origin`, e.g. a problem)."""
    _require_manager(actor)
    _validate_dates(due_on, check_on)
    if review is not None:
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.is_frozen:
            raise ReviewStateError(_("The review is approved: its actions are fixed."))
    action = Action(
        title=title.strip(),
        description=(description or "").strip(),
        kind=kind,
        owner=owner,
        due_on=due_on,
        check_on=check_on,
        check_kind=check_kind,
        check_criterion=(check_criterion or "").strip(),
        review=review,
        origin=origin,
        created_by=actor,
    )
    action.next_due_at = _next_due(action)
    action.save()
    if review is not None:
        _record(review, EV_ACTION_ADDED, actor, _action_data(action))
    return action


def _action_data(action: Action, **extra) -> dict:
    return {
        "action": action.pk,
        "title": action.title,
        "kind": action.kind,
        "owner": str(action.owner),
        "due_on": action.due_on.isoformat(),
        **extra,
    }


def _lock(action: Action) -> Action:
    return Action.objects.select_for_update(of=("self",)).select_related("review").get(pk=action.pk)


@transaction.atomic
def action_complete(*, action: Action, actor: User, note: str) -> Action:
    """The owner (or an escalation manager) reports the action done; its effectiveness is
    checked on its check date."""
    if actor.pk != action.owner_id:
        _require_manager(actor)
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Say what was done."), field="note")
    action = _lock(action)
    if not can_proceed(action.complete):
        raise ActionStateError(_("Only an open action can be completed."))
    action.complete(at=timezone.now(), note=note)
    action.next_due_at = _next_due(action)
    action.save(update_fields=["state", "done_at", "done_note", "next_due_at"])
    if action.review_id:
        _record(action.review, EV_ACTION_DONE, actor, _action_data(action, note=note))
    return action


@transaction.atomic
def action_verdict(*, action: Action, actor: User | None, effective: bool, note: str) -> Action:
    """The effectiveness check's result: by a person (an escalation manager), or by the product
    (actor None) for the "no recurrence" criterion."""
    if actor is not None:
        _require_manager(actor)
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Say how effectiveness was judged."), field="note")
    action = _lock(action)
    step = action.confirm if effective else action.refute
    if not can_proceed(step):
        raise ActionStateError(_("Only a done action can be checked."))
    step(at=timezone.now(), by=actor, note=note)
    action.next_due_at = None
    action.save(update_fields=["state", "checked_at", "checked_by", "check_note", "next_due_at"])
    if action.review_id:
        data = _action_data(action, effective=effective, note=note)
        _record(action.review, EV_ACTION_CHECKED, actor, data)
    return action


@transaction.atomic
def action_cancel(*, action: Action, actor: User, reason: str) -> Action:
    _require_manager(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the action is dropped."), field="reason")
    action = _lock(action)
    if not can_proceed(action.cancel):
        raise ActionStateError(_("This action can no longer be cancelled."))
    action.cancel()
    action.check_note, action.next_due_at = reason, None
    action.save(update_fields=["state", "check_note", "next_due_at"])
    if action.review_id:
        data = _action_data(action, reason=reason)
        _record(action.review, EV_ACTION_CANCELLED, actor, data)
    return action


def _remind(action: Action, kind: str, people) -> int:
    count = 0
    for person in {p.pk: p for p in people if p is not None}.values():
        address = address_for(person, "email")
        if not address:
            continue
        incident = action.review.incident if action.review_id else None
        notification_enqueue(
            dedup_key=f"capa:{action.pk}:{kind}:{person.pk}",
            channel="email",
            address=address,
            template="capa_reminder",
            recipient=person,
            language=person.language,
            context={
                "kind": kind,
                "title": action.title,
                "due_on": action.due_on.isoformat(),
                "check_on": action.check_on.isoformat(),
                "criterion": action.check_criterion or action.get_check_kind_display(),
                "incident_title": incident.title if incident else "",
                "recipient_name": person.display_name,
                "url": f"{settings.BASE_URL}/console/actions/{action.pk}/",
            },
        )
        count += 1
    return count


def _evaluate(action: Action, now: datetime) -> None:
    """The product's own check of "no recurrence": any incident on the same services since the
    action was done?"""
    found = selectors.recurrences(action, until=now)
    if found:
        note = _("Recurred: %(incidents)s") % {
            "incidents": "; ".join(f"#{i.pk} {i.title}" for i in found[:5])
        }
    else:
        note = _("No incident on the same services from %(since)s until %(until)s.") % {
            "since": timezone.localtime(action.done_at).date().isoformat(),
            "until": timezone.localtime(now).date().isoformat(),
        }
    action_verdict(action=action, actor=None, effective=not found, note=note)


@transaction.atomic
def action_due(*, action: Action, now: datetime) -> None:
    """One due row: send the reminder or the overdue notice, or run the effectiveness check.
    Idempotent: what was sent is remembered, and messages carry a stable dedup key."""
    action = _lock(action)
    if action.next_due_at is None or action.next_due_at > now:
        return
    sent = set(action.reminders_sent)
    manager = action.review.author if action.review_id else action.created_by
    if action.state == Action.State.OPEN:
        overdue = now >= _local(action.due_on + timedelta(days=1))
        kind = "overdue" if overdue else "due_soon"
        _remind(action, kind, [action.owner, manager] if overdue else [action.owner])
        sent.add(kind)
    elif action.state == Action.State.DONE:
        sent.add("check")
        if action.check_kind == Action.Check.NO_RECURRENCE and action.review_id:
            action.reminders_sent = sorted(sent)
            action.save(update_fields=["reminders_sent"])
            _evaluate(action, now)
            return
        _remind(action, "check", [manager or action.owner, *managers_on_duty(now)][:2])
    action.reminders_sent = sorted(sent)
    action.next_due_at = _next_due(action)
    action.save(update_fields=["reminders_sent", "next_due_at"])


def actions_tick(*, now: datetime | None = None, limit: int = 200) -> int:
    """Every action due now, each in its own transaction. Two ticks at once may both find a row;
    action_due locks it and looks again, so it is handled once."""
    now = now or timezone.now()
    done = 0
    ids = list(
        Action.objects.filter(next_due_at__lte=now)
        .order_by("next_due_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        action_due(action=Action(pk=pk), now=now)
        done += 1
    return done
