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


COLLECT = """
import gc, io, sys, weakref
import config.wsgi
assert gc.get_freeze_count() > 50_000, gc.get_freeze_count()  # code, models, views: frozen


class Node:
    pass


gc.disable()  # only the collection at the end of the request may free it
node = Node()
node.self = node
dead = weakref.ref(node)
del node
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/no-such-page/", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
           "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
status = []
response = config.wsgi.application(environ, lambda s, headers, exc=None: status.append(s))
b"".join(response)
assert dead() is not None, "collected before the response was finished"
response.close()  # what the WSGI server does once the body is sent
assert dead() is None, "the request's garbage outlived it"
print(status[0])
"""


def test_a_web_worker_collects_each_requests_garbage_when_the_request_ends():
    """The worker's memory stays flat under load: what the first requests left behind is not
    left for the collector's rare full passes (config/wsgi.py)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(ROOT / "var")}
    result = subprocess.run(
        [sys.executable, "-c", COLLECT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "404 Not Found"
