"""The environment docker-compose.yml gives the web service, for `check --deploy` in CI and tests.

Reads the compose file's `x-app` environment and fills `${NAME:-default}` / `${NAME:?message}` /
`${NAME}` the way compose does, from this process's environment; the two required secrets get
throwaway values (a random SECRET_KEY of production length). No Docker needed.

    python -m tests.security.compose_env     # runs manage.py check --deploy --fail-level WARNING
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:(?P<op>:-|:\?|-|\?)(?P<arg>[^}]*))?\}")


def compose_env(environ: dict | None = None) -> dict[str, str]:
    environ = dict(os.environ if environ is None else environ)
    environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    environ.setdefault("POSTGRES_PASSWORD", secrets.token_hex(12))

    def fill(match: re.Match) -> str:
        value = environ.get(match["name"])
        if match["op"] in (":-", ":?") and not value:
            if match["op"] == ":?":
                raise KeyError(f"{match['name']}: {match['arg']}")
            return match["arg"]
        return value if value is not None else (match["arg"] or "")

    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    template = spec["x-app"]["environment"]
    return {key: _VARIABLE.sub(fill, str(value)) for key, value in template.items()}


def check_deploy() -> subprocess.CompletedProcess:
    """`manage.py check --deploy --fail-level WARNING` with exactly compose's environment (plus
    PATH, and VAR_DIR/STATIC_ROOT/STATUS_PAGE_DIR under a scratch folder: no /app here)."""
    import tempfile

    scratch = tempfile.mkdtemp(prefix="check-deploy-")
    env = {
        **compose_env({k: v for k, v in os.environ.items() if k not in ("SECRET_KEY",)}),
        "PATH": os.environ.get("PATH", ""),
        "VAR_DIR": scratch,
        "STATIC_ROOT": f"{scratch}/static",
        "STATUS_PAGE_DIR": f"{scratch}/status",
    }
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


if __name__ == "__main__":
    result = check_deploy()
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    sys.exit(result.returncode)
