"""The web processes' entry point (gunicorn config.wsgi:application)."""

import os
import sys
from contextlib import contextmanager

import django
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


@contextmanager
def _hidden(*names: str):
    """Make `import name` fail while the block runs, for modules not imported yet."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # an ImportError for anyone importing it now
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


# DRF imports requests, markdown and pygments whenever they are installed (apprise and the test
# tools bring them), for its browsable API, docstring rendering and test client; the API here
# renders JSON only. Without them every web worker is about 7 MB smaller. Only DRF's import is
# affected: a later `import requests` (say in a worker process) works as usual. DRF is imported
# here after the apps are set up and before the middleware (which imports the API) is loaded.
django.setup(set_prefix=False)
with _hidden("requests", "markdown", "pygments"):
    import rest_framework.compat  # noqa: E402, F401
    import rest_framework.test  # noqa: E402, F401

application = get_wsgi_application()
