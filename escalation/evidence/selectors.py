"""Reads of the evidence app, scoped to who may see them (here and nowhere else).

Dossiers: escalation managers and executives every incident's, responders those of the incidents
they may read (escalation.selectors.incidents_readable_by), customer contacts none (the dossier
is the provider's record: internal updates, contracts, penalties). The handbook: staff and
executives; customers never.
"""

from django.db.models import QuerySet

from escalation.selectors import incidents_readable_by, with_sla
from incidents.models import Incident, User
from incidents.selectors import role_of


def may_read_evidence(user: User) -> bool:
    """Staff (managers, responders) and executives; customer contacts and everybody else not."""
    return role_of(user) in ("staff", "executive")


def dossier_incidents_for(user: User) -> QuerySet[Incident]:
    if not may_read_evidence(user):
        return Incident.objects.none()
    incidents = incidents_readable_by(user).select_related("created_by")
    return with_sla(incidents)


def reads_full_dossier(user: User) -> bool:
    """The team reads everything; executives not the team's internal updates."""
    return role_of(user) == "staff"
