"""The web processes' entry point (gunicorn config.wsgi:application)."""

import gc
import os
import sys
from contextlib import contextmanager

import django
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

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
get_resolver().url_patterns  # noqa: B018 (every view module now, not on the first request)


# Memory: Django and DRF leave reference cycles behind every request (request <-> view, response
# <-> renderer context), which only the garbage collector frees. Left to itself, it scans the
# oldest generation (about 115,000 objects of code, models and settings) only when a quarter as
# many again have piled up, so a worker under load carries some 10-15 MB of dead requests. Here
# what is loaded now is frozen (the collector no longer scans it), and the garbage is collected
# whenever a request ends (about 0.1 ms): everything of the requests before it (the one ending
# is still held by the server). What the first requests load and keep (translations, caches) is
# frozen too, at the start of the 2nd and the 101st, once the previous request is garbage. The
# test client has its own handler and is unaffected.
def _collect_garbage(sender, **kwargs):
    global _requests_served
    gc.collect()
    _requests_served += 1


def _freeze_what_stays(sender, **kwargs):
    if _requests_served in _FREEZE_AFTER:
        gc.collect()
        gc.freeze()


_requests_served = 0
_FREEZE_AFTER = {1, 100}
gc.collect()
gc.freeze()
request_started.connect(_freeze_what_stays, sender=WSGIHandler)
request_finished.connect(_collect_garbage, sender=WSGIHandler)
