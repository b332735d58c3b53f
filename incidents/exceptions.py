"""Domain errors. The API maps ApplicationError subclasses to 4xx answers; views to error pages."""

from collections.abc import Iterable

from django.utils.translation import gettext as _


class ApplicationError(Exception):
    """A domain rule was violated. `code` is stable for machines; the message is for people."""

    code = "application_error"
    http_status = 400

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class TransitionNotAllowed(ApplicationError):
    """The incident's current state (or a condition) forbids this transition. Nothing changed."""

    code = "transition_not_allowed"
    http_status = 409

    def __init__(
        self,
        *,
        transition: str,
        current_state: str,
        allowed: Iterable[str],
        reason: str = "",
    ) -> None:
        self.transition = transition
        self.current_state = current_state
        self.allowed = sorted(allowed)
        from .models import ACTION_LABELS, State

        state_label = State(current_state).label if current_state in State.values else current_state
        params = {
            "transition": ACTION_LABELS.get(transition, transition),
            "state": state_label,
            "reason": reason,
            "allowed": ", ".join(str(ACTION_LABELS.get(a, a)) for a in self.allowed) or _("none"),
        }
        if reason:
            message = _(
                "'%(transition)s' is not possible in state '%(state)s': %(reason)s. "
                "Possible now: %(allowed)s."
            )
        else:
            message = _(
                "'%(transition)s' is not possible in state '%(state)s'. Possible now: %(allowed)s."
            )
        message = message % params
        super().__init__(
            message,
            extra={
                "transition": transition,
                "current_state": current_state,
                "allowed_transitions": self.allowed,
            },
        )


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    http_status = 403


class TimelineTampered(ApplicationError):
    code = "timeline_tampered"
    http_status = 500


class InvalidInput(ApplicationError):
    """Input a service cannot act on (the serializer or form should have caught it first)."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, extra={"errors": {field: [message]}} if field else None)
        self.field = field


class LinkInvalid(ApplicationError):
    code = "link_invalid"
    http_status = 400


class LinkExpired(ApplicationError):
    code = "link_expired"
    http_status = 410


class LinkUsed(ApplicationError):
    code = "link_used"
    http_status = 410


class AlreadyPublished(ApplicationError):
    """An incident has an open public face already: update it, or link more incidents to it."""

    code = "already_published"
    http_status = 409


class NoPublicFace(ApplicationError):
    """Customers hear of an incident only through its public face, and it has none yet."""

    code = "no_public_face"
    http_status = 409
