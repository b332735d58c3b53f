"""One state, one name per audience (DESIGN.md, "Words"). The team and executives read the
internal states (State's labels: Erkannt ... Workaround aktiv ... Gelöst); customers, subscribers
and the public only ever read the four public statuses. Every customer-facing surface (status
page, portal, customer and subscriber mail) names a state through `public_status_label`.
"Workaround" is the German word too (tests/test_glossary.py lists the words it replaces).
"""

from .models import PublicStatus, State

INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED = (
    PublicStatus.INVESTIGATING.value,
    PublicStatus.IDENTIFIED.value,
    PublicStatus.MONITORING.value,
    PublicStatus.RESOLVED.value,
)
# The words themselves are PublicStatus's labels (the public status a person sets on a public
# incident): one definition for the status page, the portal, customer mail and the API.
PUBLIC_STATUS_LABELS = {status.value: status.label for status in PublicStatus}
# Until a person sets a public status: what an internal state means for customers.
PUBLIC_STATUS_OF_STATE = {
    State.DETECTED: INVESTIGATING,
    State.CLASSIFIED: INVESTIGATING,
    State.ESCALATED: INVESTIGATING,
    State.WORKAROUND: IDENTIFIED,
    State.RESOLVED: RESOLVED,
    State.CLOSED: RESOLVED,
}


def public_status_of(state: str) -> str:
    """The public status (investigating, identified, monitoring, resolved) of an internal state
    or a public status."""
    if state in PUBLIC_STATUS_LABELS:
        return state
    return PUBLIC_STATUS_OF_STATE.get(state, INVESTIGATING)


def public_status_label(state: str) -> str:
    """The one word customers read for an internal state or a public status, in the active
    language."""
    return str(PUBLIC_STATUS_LABELS[public_status_of(state)])
