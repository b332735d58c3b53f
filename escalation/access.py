"""Who may open the console's HTML pages: the two guards every view of the core and of the nested
apps uses, so the rule lives once (a refusal is the 403 page; the API has its own permission
classes)."""

from django.core.exceptions import PermissionDenied

from incidents.selectors import role_of

from .dashboard.selectors import viewer_role


def require_staff(user) -> None:
    """Escalation managers and responders (and superusers); executives and customers never."""
    if role_of(user) != "staff":
        raise PermissionDenied


def require_manager(user) -> None:
    """Escalation managers (and superusers) only: configuration and the manager's decisions."""
    require_staff(user)
    if viewer_role(user) != "manager":
        raise PermissionDenied
