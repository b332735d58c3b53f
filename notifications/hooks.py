"""What other apps tell delivery, and hear from it: small registries filled in their
AppConfig.ready. `notifications` imports nothing of ours; an app that cares (escalation) registers
here, so the dependency points one way (escalation -> notifications).

- delivery problems: called with each message that failed (first time) or went dead, after its
  row was updated (escalation records it on the incident's timeline and alerts the manager);
- subscription scopes: what anyone may subscribe to, as (scope, label) pairs (the public services).
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

_problem_handlers: list[Callable] = []
_scope_providers: list[Callable[[], list[tuple[str, str]]]] = []


def delivery_problem_register(handler: Callable) -> None:
    """`handler(notification=...)` hears of every failed or dead message."""
    if handler not in _problem_handlers:
        _problem_handlers.append(handler)


def delivery_problems_report(notifications) -> None:
    """Tell the registered handlers; one handler's error neither stops the others nor the worker
    (the row is already recorded; the admin shows it)."""
    for notification in notifications:
        for handler in _problem_handlers:
            try:
                handler(notification=notification)
            except Exception:
                logger.exception("delivery problem handler failed for %s", notification.pk)


def subscription_scopes_register(provider: Callable[[], list[tuple[str, str]]]) -> None:
    if provider not in _scope_providers:
        _scope_providers.append(provider)


def subscription_scopes() -> list[tuple[str, str]]:
    """Every (scope, label) a subscriber may choose, from the registered providers."""
    return [scope for provider in _scope_providers for scope in provider()]
