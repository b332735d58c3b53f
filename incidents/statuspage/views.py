"""Serve the stored status page bytes: no database on a read (see render.py for the writing).

A read is one os.stat of manifest.json: the bytes of every artefact are cached in process memory
until the manifest changes. Only when nothing has been rendered yet does the first read render
(and so use the database). Answers carry ETag, Last-Modified and a short public Cache-Control,
and a matching conditional request gets 304.
"""

import json
import logging
import os
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from .render import (
    JSON_LANGUAGE,
    LANGUAGES,
    MANIFEST,
    ensure_rendered,
    etag_of,
    render_status_page,
)

logger = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
JSON = "application/json"

# URL name -> (path below /status/, stored file, content type). "{lang}" marks a localised one.
ARTEFACTS = {
    "index": ("", "index.{lang}.html", HTML),
    "history": ("history/", "history.{lang}.html", HTML),
    "feed_atom": ("feed.atom", "feed.{lang}.atom", "application/atom+xml; charset=utf-8"),
    "feed_rss": ("feed.rss", "feed.{lang}.rss", "application/rss+xml; charset=utf-8"),
    "api_summary": ("api/v2/summary.json", "api/v2/summary.json", JSON),
    "api_status": ("api/v2/status.json", "api/v2/status.json", JSON),
    "api_components": ("api/v2/components.json", "api/v2/components.json", JSON),
    "api_incidents": ("api/v2/incidents.json", "api/v2/incidents.json", JSON),
    "api_unresolved": (
        "api/v2/incidents/unresolved.json",
        "api/v2/incidents/unresolved.json",
        JSON,
    ),
    "api_maintenances": (
        "api/v2/scheduled-maintenances.json",
        "api/v2/scheduled-maintenances.json",
        JSON,
    ),
    "api_maintenances_upcoming": (
        "api/v2/scheduled-maintenances/upcoming.json",
        "api/v2/scheduled-maintenances/upcoming.json",
        JSON,
    ),
    "api_maintenances_active": (
        "api/v2/scheduled-maintenances/active.json",
        "api/v2/scheduled-maintenances/active.json",
        JSON,
    ),
}
URLS = {name: url for name, (url, _file, _type) in ARTEFACTS.items()}
FEEDS_ASKED_WITH_LANG = {"feed_atom": "feed.{lang}.lang.atom", "feed_rss": "feed.{lang}.lang.rss"}


@dataclass(frozen=True)
class Stored:
    body: bytes
    etag: str
    last_modified: int  # seconds since the epoch
    last_modified_http: str
    length: str


class _Store:
    """The stored files, cached in memory while manifest.json stays the same file."""

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.entries: dict = {}
        self.files: dict[str, Stored] = {}

    def get(self, name: str) -> Stored | None:
        directory = str(settings.STATUS_PAGE_DIR)
        manifest = os.path.join(directory, MANIFEST)
        try:
            stat = os.stat(manifest)
        except FileNotFoundError:
            ensure_rendered()
            stat = os.stat(manifest)
        key = (directory, stat.st_mtime_ns, stat.st_ino, stat.st_size)
        if key != self.key:
            with open(manifest, "rb") as handle:
                entries = json.loads(handle.read()).get("files", {})
            self.key, self.entries, self.files = key, entries, {}
        stored = self.files.get(name)
        if stored is None:
            stored = self._load(directory, name)
        return stored

    def _load(self, directory: str, name: str) -> Stored | None:
        entry = self.entries.get(name)
        if entry is None:
            return None
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as handle:
                body = handle.read()
        except FileNotFoundError:  # deleted behind our back: render again (uses the DB)
            render_status_page()
            try:
                with open(path, "rb") as handle:
                    body = handle.read()
            except FileNotFoundError:
                return None
        stored = Stored(
            body=body,
            etag=etag_of(body),
            last_modified=entry["last_modified"],
            last_modified_http=http_date(entry["last_modified"]),
            length=str(len(body)),
        )
        self.files[name] = stored
        return stored


store = _Store()

CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH")
CONDITIONAL += ("HTTP_IF_UNMODIFIED_SINCE",)


def language_of(request: HttpRequest) -> str:
    """?lang=de|en, else the language cookie, else Accept-Language, else LANGUAGE_CODE (the last
    three are what LocaleMiddleware already worked out as request.LANGUAGE_CODE)."""
    if request.META.get("QUERY_STRING"):
        lang = request.GET.get("lang", "")
        if lang in LANGUAGES:
            return lang
    lang = getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)
    if lang in LANGUAGES:
        return lang
    return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in LANGUAGES else LANGUAGES[0]


def artefact(request: HttpRequest, *, name: str) -> HttpResponse:
    """Kept lean on purpose: this is what an outage's crowd hits when nginx is not in front."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    _url, pattern, content_type = ARTEFACTS[name]
    localised = "{lang}" in pattern
    lang = language_of(request) if localised else JSON_LANGUAGE
    if name in FEEDS_ASKED_WITH_LANG and request.GET.get("lang") == lang:
        pattern = FEEDS_ASKED_WITH_LANG[name]  # its self link carries the ?lang= it was asked with
    try:
        stored = store.get(pattern.format(lang=lang))
    except Exception:  # nothing rendered and rendering failed (e.g. the database is down)
        logger.exception("status page: nothing stored and the first render failed")
        response = HttpResponse(
            "The status page is not available yet. Please try again in a minute.\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "60"
        return response
    if stored is None:
        raise Http404
    response = HttpResponse(
        stored.body if request.method == "GET" else b"", content_type=content_type
    )
    headers = response.headers
    headers["Content-Length"] = stored.length
    headers["ETag"] = stored.etag
    headers["Last-Modified"] = stored.last_modified_http
    headers["Cache-Control"] = f"public, max-age={settings.STATUS_PAGE_MAX_AGE}"
    headers["Content-Language"] = lang
    if localised:
        headers["Vary"] = "Accept-Language, Cookie"
    else:
        headers["Access-Control-Allow-Origin"] = "*"  # public data, read by other sites' widgets
    if any(header in request.META for header in CONDITIONAL):
        return get_conditional_response(
            request, etag=stored.etag, last_modified=stored.last_modified, response=response
        )
    return response
