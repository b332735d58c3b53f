"""BASE_URL (every link in mail, feeds and summary.json) follows HOST/PORT under `make run` unless
it is set. Each case runs in a fresh interpreter, as the settings are read once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = "import django; from django.conf import settings; django.setup(); print(settings.BASE_URL)"


def base_url(tmp_path: Path, **env: str) -> str:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "HOST", "PORT", "BASE_URL"}
    }
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)}, **env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8210"}, "http://127.0.0.1:8210"),
        ({"HOST": "localhost", "PORT": "8210"}, "http://localhost:8210"),
        ({"HOST": "0.0.0.0", "PORT": "9000"}, "http://127.0.0.1:9000"),  # noqa: S104
        ({"HOST": "::1", "PORT": "9000"}, "http://[::1]:9000"),
        ({"PORT": "8210", "BASE_URL": "https://status.example.org/"}, "https://status.example.org"),
    ],
)
def test_base_url_follows_host_and_port_unless_set(tmp_path, env, expected):
    assert base_url(tmp_path, **env) == expected


def test_make_run_passes_host_and_port():
    """The Makefile hands HOST and PORT to the process that loads the settings."""
    makefile = (ROOT / "Makefile").read_text()
    assert "HOST=$(HOST) PORT=$(PORT)" in makefile
