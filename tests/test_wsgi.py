"""The web processes' entry point: what a gunicorn worker loads (its memory is a budget)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import sys
import config.wsgi
from django.urls import get_resolver
get_resolver().url_patterns  # every view module, as on the first request
from rest_framework import compat
unused = {"requests", "markdown", "pygments", "httpx", "weasyprint", "apprise"} & set(sys.modules)
assert not unused, unused
assert compat.requests is compat.markdown is compat.pygments is None
import requests  # hidden from DRF only: anybody else still gets it
print("ok")
"""


def test_a_web_worker_loads_no_http_client_markup_or_pdf_library():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(ROOT / "var")}
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
