"""The import graph keeps its layers and has no cycles (the contracts in pyproject.toml, checked by
import-linter; imports inside functions count). CI also runs `lint-imports` on its own."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_delivery_problems_reach_the_escalation_process_through_its_hook():
    """notifications imports nothing of ours: escalation registers itself in AppConfig.ready."""
    from escalation.models import Clock
    from escalation.services import clocks, delivery, workflow
    from notifications import hooks

    assert delivery.delivery_problem in hooks._problem_handlers
    assert clocks._HANDLERS[Clock.Kind.CLASSIFY] is workflow.incident_classify_from_clock
    assert hooks._scope_providers
