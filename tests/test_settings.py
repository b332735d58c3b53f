"""Settings come from the environment, with safe defaults. Each case runs in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "options": db.get("OPTIONS", {}), "debug": settings.DEBUG, "hosts": settings.ALLOWED_HOSTS,
    "tz": settings.TIME_ZONE, "broker": settings.CELERY_BROKER_URL,
    "broker_options": settings.CELERY_BROKER_TRANSPORT_OPTIONS, "secret": settings.SECRET_KEY,
    "email": [settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS],
}))
"""


def probe(tmp_path: Path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)}, **env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_default(tmp_path):
    s = probe(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "db.sqlite3")
    assert "journal_mode=WAL" in s["options"]["init_command"]
    assert s["options"]["transaction_mode"] == "IMMEDIATE"
    assert s["debug"] is False
    assert s["tz"] == "Europe/Berlin"
    assert s["hosts"] == ["127.0.0.1", "localhost", "[::1]"]
    assert s["broker"] == "safefs://"  # config/safefs.py
    folder = s["broker_options"]["data_folder_in"]
    assert folder == s["broker_options"]["data_folder_out"]


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first, second = probe(tmp_path)["secret"], probe(tmp_path)["secret"]
    assert first == second and len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("debug", ["true", "1", "yes"])
def test_production_values_from_environment(tmp_path, debug):
    s = probe(
        tmp_path,
        DATABASE_URL="postgres://em:pw@db.internal:5433/escalation",
        REDIS_URL="redis://cache.internal:6379/2",
        SECRET_KEY="x" * 60,
        DEBUG=debug,
        ALLOWED_HOSTS="status.example.org, console.example.org",
        TIME_ZONE="Europe/Vienna",
        EMAIL_HOST="smtp.example.org",
        EMAIL_PORT="587",
        EMAIL_USE_TLS="true",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["name"], s["host"]) == ("escalation", "db.internal")
    assert s["broker"] == "redis://cache.internal:6379/2"
    assert s["secret"] == "x" * 60
    assert s["debug"] is True
    assert s["hosts"] == ["status.example.org", "console.example.org"]
    assert s["tz"] == "Europe/Vienna"
    assert s["email"] == ["smtp.example.org", 587, True]
    assert not (tmp_path / "secret_key").exists()


def test_a_var_dir_that_does_not_exist_yet_is_created(tmp_path):
    """`VAR_DIR=/somewhere/new make run` with SECRET_KEY set: SQLite can open its file."""
    var = tmp_path / "not" / "yet"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(var), SECRET_KEY="x" * 50)
    script = "import django; django.setup(); from django.db import connection; connection.cursor()"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert (var / "db.sqlite3").exists()
