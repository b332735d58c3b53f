"""config.settings without StatusPageMiddleware (the request goes through sessions, auth, locale
and the rest to the view), for variant (a') of bench/statuspage.py. Not a product configuration.

config/settings.py is loaded from its file (importing it as config.settings would run
config/__init__.py, whose Celery app reads the settings this module is still defining)."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_escalation_settings", Path(__file__).resolve().parent.parent / "config" / "settings.py"
)
_settings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_settings)
globals().update({name: value for name, value in vars(_settings).items() if name.isupper()})

MIDDLEWARE = [
    m for m in _settings.MIDDLEWARE if m != "incidents.statuspage.middleware.StatusPageMiddleware"
]
