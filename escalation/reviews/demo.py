"""Demo data of reviews and actions, used by `manage.py load_demo`: each closed escalated demo
incident gets a review (the old closing text becomes its summary), written by the demo escalation
manager and approved by a second one (four eyes); the data centre failover incident also carries
its corrective actions, one of them done and checked."""

from datetime import timedelta

import time_machine
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from escalation import roles
from escalation.services import incident_close
from incidents.models import Incident, User

from .models import Action, Review
from .services import (
    action_complete,
    action_create,
    review_approve,
    review_draft,
    review_edit,
    review_submit,
)

APPROVER = {
    "username": "manager2",
    "first_name": "Tobias",
    "last_name": "Klein",
    "email": "tobias.klein@escalation.example",
}

# Per demo incident (by title): the review's texts beyond the summary, and its actions as
# (title, kind, days after closing until due, days until the effectiveness check, criterion).
REVIEWS = {
    "Großstörung Kundenportal nach Rechenzentrums-Failover": {
        "customer_impact": "Rund 40.000 Endkunden der Stadtwerke Rheinaue konnten 3 Stunden "
        "lang keine Zählerstände melden und keine Abschläge ändern; die Hotline der Stadtwerke "
        "nahm doppelt so viele Anrufe an wie üblich.",
        "business_impact": "Reaktionszeit und Workaround im SLA, Wiederherstellung knapp "
        "verfehlt; Vertragsstrafe nach Vertrag fällig. Ruf: zwei Beschwerden beim Vorstand der "
        "Stadtwerke.",
        "root_cause": "Die Zertifikatsablage im RZ Nord war nicht Teil der Failover-Checkliste: "
        "nach dem Umschalten lieferte der Load Balancer ein abgelaufenes Zertifikat aus.",
        "contributing_factors": "Kein Monitoring der Zertifikatslaufzeit im passiven "
        "Rechenzentrum; der letzte Failover-Test lag 14 Monate zurück.",
        "went_well": "Wartungsseite mit Hotline und E-Mail-Formular innerhalb von 25 Minuten; "
        "Kundeninformation alle 60 Minuten wie vereinbart.",
        "went_badly": "Die Ursache wurde erst nach 90 Minuten gefunden, weil die Diagnose beim "
        "Portal statt beim Load Balancer begann.",
        "actions": [
            ("Zertifikate zentral im Vault, automatischer Abgleich beider RZ", "corrective",
             10, 100, "Keine Störung dieses Dienstes durch Zertifikate für 90 Tage"),
            ("Failover-Checkliste um Zertifikate und Secrets ergänzen", "preventive",
             5, 40, "Checkliste beim nächsten Failover-Test vollständig abgearbeitet"),
            ("Halbjährlicher Failover-Test mit Protokoll", "improvement",
             60, 150, "Zwei Tests mit Protokoll im Audit-Ordner"),
        ],
    },
}  # fmt: skip


def _approver() -> User:
    user, created = User.objects.get_or_create(
        username=APPROVER["username"],
        defaults={**{k: v for k, v in APPROVER.items() if k != "username"}, "is_staff": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=roles.ESCALATION_MANAGER))
    return user


def demo_close(*, incident: Incident, actor: User, review: str = "") -> Incident:
    """load_demo's "close" step: an escalated incident gets its approved review first (the old
    closing text becomes its summary and root cause, unless the demo has more to say)."""
    incident.refresh_from_db()
    if incident.escalated_at is not None:
        _reviewed(incident, actor, review)
    return incident_close(incident=incident, actor=actor, review=review)


@transaction.atomic
def _reviewed(incident: Incident, author: User, text: str) -> Review:
    spec = REVIEWS.get(incident.title, {})
    pir = review_draft(incident=incident, actor=author)
    if pir.state == Review.State.APPROVED:
        return pir
    texts = {k: v for k, v in spec.items() if k != "actions"}
    texts.setdefault("root_cause", text)
    pir = review_edit(review=pir, actor=author, summary=text or pir.summary, **texts)
    today = timezone.localdate()
    for title, kind, due, check, criterion in spec.get("actions", ()):
        action_create(
            actor=author,
            review=pir,
            title=title,
            kind=kind,
            owner=author,
            due_on=today + timedelta(days=due),
            check_on=today + timedelta(days=check),
            check_criterion=criterion,
        )
    pir = review_submit(review=pir, actor=author)
    return review_approve(review=pir, actor=_approver())


def load(users: dict) -> None:
    """Called at the end of load_demo (idempotent): the preventive action of the failover review
    is done, so the action list shows every state."""
    action = Action.objects.filter(kind=Action.Kind.PREVENTIVE, state=Action.State.OPEN).first()
    if action is None or not action.review_id:
        return
    # Done hours after the incident was closed (the demo's history has its real times).
    closed = action.review.incident.closed_at or timezone.now()
    with time_machine.travel(min(closed + timedelta(hours=3), timezone.now()), tick=False):
        action_complete(
            action=action,
            actor=users["manager"],
            note="Checkliste um Zertifikate, Secrets und DNS-TTL ergänzt; vom Plattform-Team "
            "abgenommen.",
        )
