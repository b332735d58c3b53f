"""Domain errors. The API maps ApplicationError subclasses to 4xx answers; views to error pages."""

from collections.abc import Iterable


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
        allowed_text = ", ".join(self.allowed) or "none"
        message = (
            f"Transition '{transition}' is not allowed from state '{current_state}'"
            f"{': ' + reason if reason else ''}. Allowed now: {allowed_text}."
        )
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
