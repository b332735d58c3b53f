"""Fixtures the security tests borrow from the suites of the features they attack."""

from tests.escalation.test_sla_report import contract, service  # noqa: F401
