"""The framework floor for bench/statuspage.py: a bare Django view (no middleware, no apps, no
database) that returns the bytes of one file, under gunicorn like the app. Not part of the product.

    STATUSPAGE_FLOOR_FILE=var/status/index.de.html \\
        gunicorn --chdir bench statuspage_floor:application -b 127.0.0.1:8011 -w 2
"""

import os
from pathlib import Path

import django
from django.conf import settings

BODY = Path(os.environ["STATUSPAGE_FLOOR_FILE"]).read_bytes()

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="bench-floor-not-secret",  # noqa: S106
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_I18N=False,
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402


def page(request):
    return HttpResponse(BODY, content_type="text/html; charset=utf-8")


urlpatterns = [path("status/", page)]
application = get_wsgi_application()
