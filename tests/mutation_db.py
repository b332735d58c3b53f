"""pytest plugin for the mutation check (.ci/mutation/check.py), loaded there with
`-p tests.mutation_db --reuse-db`: every test session (one per mutant) starts from a copy of a
migrated SQLite template instead of migrating a fresh test database, which would cost ~4 s of
the ~0.5 s a mutant's tests take. Does nothing unless MUTATION_DB_TEMPLATE is set."""

import os
import shutil
import tempfile
from pathlib import Path

_private: Path | None = None


def pytest_configure(config):
    global _private
    template = os.environ.get("MUTATION_DB_TEMPLATE")
    if not template:
        return
    from django.conf import settings

    # One copy per process: mutants run in forked processes, two at a time.
    _private = Path(tempfile.gettempdir()) / f"mutation-db-{os.getpid()}.sqlite3"
    shutil.copyfile(template, _private)
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(_private)


def pytest_unconfigure(config):
    if _private is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{_private}{suffix}").unlink(missing_ok=True)
