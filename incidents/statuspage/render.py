"""Turn the status page data into bytes, for every artefact and language, and store them.

Every artefact is one file under settings.STATUS_PAGE_DIR, written atomically (temporary file,
then os.replace) and only when its bytes changed, so a file's mtime is when it last changed:

    index.de.html  index.en.html  history.de.html  history.en.html
    feed.de.atom   feed.en.atom   feed.de.rss      feed.en.rss
    api/v2/summary.json  status.json  components.json  incidents.json
    api/v2/incidents/unresolved.json  api/v2/scheduled-maintenances.json

plus manifest.json: each file's ETag (a hash of its bytes) and last change, and the "stamps"
that give components their created_at/updated_at (when their public content last changed). The
manifest is written last and only when something changed; readers (views.py) watch its mtime.

When: `render_after_commit()` (from incidents.services.timeline_record and the admin) renders
once after the transaction commits, in a Celery worker (STATUS_PAGE_RENDER_ASYNC: over a large
history a render takes seconds, which no request should wait for; if the broker cannot take the
task, in the committing process); `request_render()` coalesces concurrent requests across
processes (one renders, the others leave a note that makes it render once more); the Celery beat
task re-renders every few minutes (uptime bars and "for 2 hours" move on without any change).
"""

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import feedgenerator, formats, timezone, translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.glossary import PUBLIC_STATUS_LABELS

from ..coalesce import Coalesced
from ..models import ServiceStatus
from .build import (
    DEGRADED,
    INDICATOR,
    MAINTENANCE,
    MAJOR,
    OPERATIONAL,
    PARTIAL,
    SEVERITY,
    Component,
    Group,
    PublicIncident,
    StatusPage,
    build,
)
from .contributors import contributed_documents, contributed_sections

logger = logging.getLogger(__name__)

LANGUAGES = ("de", "en")
JSON_LANGUAGE = "en"  # the JSON is language-independent: Statuspage's English vocabulary
MANIFEST = "manifest.json"
LOCK = ".lock"
PENDING = ".pending"
RESTING = ".resting"  # holds the time (epoch seconds) before which no render starts
# Under a storm changes never stop, and a big page (a thousand open incidents) takes a second or
# more to render: back to back, renders would take a worker process for good. After a render
# that took t seconds with another already asked for, the next waits REST_FACTOR * t (so renders
# use at most a quarter of one process), in a task queued for then; a rest shorter than
# MIN_REST_SECONDS (a small page) is not worth a task.
REST_FACTOR = 3
MIN_REST_SECONDS = 0.3
MAX_REST_SECONDS = 30.0  # a render slowed by the database must not hold the page back for long

# Localised artefacts: (file name pattern, template or feed kind).
PAGES = {
    "index.{lang}.html": "status/index.html",
    "history.{lang}.html": "status/history.html",
}
FEEDS = {"feed.{lang}.atom": "atom", "feed.{lang}.rss": "rss"}
# The same feeds fetched with ?lang=: their self link says so (a feed's self link is the URL it
# was fetched from); the files above, fetched without it, say /status/feed.atom.
FEEDS_WITH_LANG = {"feed.{lang}.lang.atom": "atom", "feed.{lang}.lang.rss": "rss"}
API = (
    "api/v2/summary.json",
    "api/v2/status.json",
    "api/v2/components.json",
    "api/v2/incidents.json",
    "api/v2/incidents/unresolved.json",
    "api/v2/scheduled-maintenances.json",
    "api/v2/scheduled-maintenances/upcoming.json",
    "api/v2/scheduled-maintenances/active.json",
)

# Headline of the page for the overall status.
HEADLINES = {
    OPERATIONAL: gettext_lazy("All systems operational"),
    MAINTENANCE: gettext_lazy("Maintenance in progress"),
    DEGRADED: gettext_lazy("Some services are degraded"),
    PARTIAL: gettext_lazy("Partial outage"),
    MAJOR: gettext_lazy("Major outage"),
}
# Statuspage's descriptions of its indicator (JSON, English).
INDICATOR_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
}
# The public statuses' words come from the one glossary (incidents/glossary.py, on PublicStatus).
INCIDENT_STATUS_LABELS = PUBLIC_STATUS_LABELS


def status_dir() -> Path:
    return Path(settings.STATUS_PAGE_DIR)


def page_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


# --- when to render -----------------------------------------------------------------------------


# Under an alert storm one queued render covers every commit of this process until it starts.
RENDER = Coalesced("incidents.tasks.status_page_render", delay=1.0)


class _RenderAfterCommit:
    """The on-commit callback; `ran` tells a pending one from one already run (tests run them
    inside a transaction that never commits, so run callbacks stay in the connection's list)."""

    ran = False

    def __call__(self) -> None:
        self.ran = True
        if settings.STATUS_PAGE_RENDER_ASYNC:
            try:
                RENDER.send()
                return
            except Exception:  # the broker is away: render here rather than not at all
                logger.warning("status page: broker unavailable, rendering in process")
        request_render()


def render_after_commit() -> None:
    """Re-render the status page once after the current transaction commits (once, however many
    changes the transaction makes; not at all if it rolls back)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _sids, func, *_rest in connection.run_on_commit:
            if isinstance(func, _RenderAfterCommit) and not func.ran:
                return
    transaction.on_commit(_RenderAfterCommit())


@contextmanager
def _locked(directory: Path, *, wait: bool):
    """The render lock (one render at a time across processes); yields False if busy."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def request_render(*, rested: bool = False) -> bool:
    """Render now, unless another process is rendering: then leave a note, and that process
    renders once more when it is done (or queues that render for after its rest: RESTING;
    `rested`: this is that render). Never raises (a render must not break the user's action: the
    beat task renders again within minutes). Returns whether this call rendered."""
    try:
        directory = status_dir()
        directory.mkdir(parents=True, exist_ok=True)
        pending = directory / PENDING
        pending.touch()
        rendered = False
        # Checking the note again after releasing the lock closes the gap between "the holder
        # looked for a note" and "the holder released the lock".
        if rested and not _resting(directory, margin=1.0):
            # Only a rest that is over (or all but over: the task may start a little early),
            # never a newer one begun meanwhile.
            (directory / RESTING).unlink(missing_ok=True)
        while pending.exists() and not _resting(directory):
            with _locked(directory, wait=False) as acquired:
                if not acquired:
                    return rendered
                while pending.exists() and not _resting(directory):
                    pending.unlink(missing_ok=True)
                    started = time.monotonic()
                    _render(directory)
                    rendered = True
                    if pending.exists():  # asked again meanwhile: a storm
                        _rest(directory, REST_FACTOR * (time.monotonic() - started))
        return rendered
    except Exception:
        logger.exception("status page: rendering failed; the stored page stays as it was")
        return False


def _resting(directory: Path, *, margin: float = 0.0) -> bool:
    """Whether a rest runs for more than `margin` seconds yet."""
    try:
        return time.time() + margin < float((directory / RESTING).read_text() or 0)
    except (FileNotFoundError, ValueError):
        return False


def _rest(directory: Path, seconds: float) -> None:
    """Start no render for `seconds` (at most MAX_REST_SECONDS); the note stays, and a task
    queued for then renders it (or, if the broker is away, the next request after the rest or
    beat's periodic render)."""
    if seconds < MIN_REST_SECONDS or not settings.STATUS_PAGE_RENDER_ASYNC:
        return
    seconds = min(seconds, MAX_REST_SECONDS)
    resting = directory / RESTING
    resting.write_text(f"{time.time() + seconds:.3f}")  # before the task can start
    try:
        from config.broker import publish

        publish(RENDER.task, kwargs={"rested": True}, countdown=seconds)
    except Exception:
        resting.unlink(missing_ok=True)
        logger.warning("status page: broker unavailable, rendering again without a rest")


def render_status_page(*, now: datetime | None = None) -> "RenderResult":
    """Render every artefact now (waiting for a render that is running). Raises on failure."""
    directory = status_dir()
    with _locked(directory, wait=True):
        return _render(directory, now=now)


def ensure_rendered() -> None:
    """For the first read: render if nothing has been rendered yet."""
    directory = status_dir()
    if (directory / MANIFEST).exists():
        return
    with _locked(directory, wait=True):
        if not (directory / MANIFEST).exists():
            _render(directory)


# --- the render ---------------------------------------------------------------------------------


@dataclass
class RenderResult:
    directory: Path
    files: int
    changed: list[str]


def _render(directory: Path, *, now: datetime | None = None) -> RenderResult:
    """Caller holds the lock."""
    now = now or timezone.now()
    manifest = _read_manifest(directory)
    page = build(now=now)
    stamps = _stamps(page, manifest.get("stamps", {}), now)
    outputs: dict[str, bytes] = {}
    with timezone.override(page_zone()):
        for lang in LANGUAGES:
            with translation.override(lang):
                context = _context(page, stamps, lang)
                for pattern, template in PAGES.items():
                    outputs[pattern.format(lang=lang)] = render_to_string(
                        template, context
                    ).encode()
                for pattern, kind in FEEDS.items():
                    outputs[pattern.format(lang=lang)] = _feed(kind, page, context, lang)
                for pattern, kind in FEEDS_WITH_LANG.items():
                    outputs[pattern.format(lang=lang)] = _feed(
                        kind, page, context, lang, self_lang=True
                    )
        with translation.override(JSON_LANGUAGE):
            outputs.update(_api(page, stamps))

    files = dict(manifest.get("files", {}))
    changed = []
    stamp = int(now.timestamp())
    for name, body in outputs.items():
        etag = etag_of(body)
        path = directory / name
        if files.get(name, {}).get("etag") == etag and path.exists():
            continue
        _write_atomic(path, body)
        files[name] = {"etag": etag, "last_modified": stamp, "size": len(body)}
        changed.append(name)
    new_manifest = {"version": 1, "files": files, "stamps": stamps["raw"]}
    if changed or new_manifest != manifest:
        _write_atomic(
            directory / MANIFEST, json.dumps(new_manifest, indent=1, sort_keys=True).encode()
        )
    if changed:
        logger.info("status page: rendered, %d of %d files changed", len(changed), len(outputs))
    return RenderResult(directory=directory, files=len(outputs), changed=changed)


def _read_manifest(directory: Path) -> dict:
    try:
        return json.loads((directory / MANIFEST).read_bytes())
    except (FileNotFoundError, ValueError):
        return {}


def _write_atomic(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.chmod(tmp, 0o644)  # nginx (another user) reads these files  # noqa: S103
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stamps(page: StatusPage, old: dict, now: datetime) -> dict:
    """created_at/updated_at of the page, groups and components: when their public content first
    appeared and last changed (kept in the manifest from render to render)."""
    raw = {}
    when_now = now.isoformat()

    def stamp(key: str, content) -> None:
        fingerprint = hashlib.sha256(json.dumps(content, default=str).encode()).hexdigest()[:16]
        previous = old.get(key)
        if previous and previous.get("fp") == fingerprint:
            raw[key] = previous
        else:
            created = previous["created_at"] if previous else when_now
            raw[key] = {"fp": fingerprint, "created_at": created, "updated_at": when_now}

    stamp("page", "page")
    for group in page.groups:
        stamp(
            group.id, [group.name, group.position, group.status, [c.id for c in group.components]]
        )
    for component in page.components:
        stamp(component.id, component.fingerprint())
    parsed = {
        key: (datetime.fromisoformat(v["created_at"]), datetime.fromisoformat(v["updated_at"]))
        for key, v in raw.items()
    }
    latest = [updated for _, updated in parsed.values()]
    latest += [i.updated_at for i in page.open_incidents + page.history]
    return {"raw": raw, "parsed": parsed, "page_updated_at": max(latest)}


# --- HTML and feeds -----------------------------------------------------------------------------


def _lang() -> str:
    return "en" if (translation.get_language() or "").startswith("en") else "de"


def incident_name(incident: PublicIncident) -> str:
    """The public title, in the language being rendered (the internal title is never read)."""
    return incident.titles.get(_lang()) or incident.titles["de"]


def update_text(update) -> str:
    return update.bodies.get(_lang()) or update.bodies["de"]


class When(NamedTuple):
    iso: str
    text: str


def when(value: datetime) -> When:
    """A moment as the page shows it: in the page's time zone (active while rendering), with the
    zone's abbreviation, e.g. "3. März 2026, 14:05 CET"."""
    local = timezone.localtime(value)
    text = f"{formats.date_format(local, 'DATE_FORMAT')}, {local:%H:%M} {local.tzname()}"
    return When(iso=local.isoformat(), text=text)


def _next_update(incident: PublicIncident, page: StatusPage) -> str:
    if incident.next_update_at is None:
        return _("We will post an update here as soon as we know more.")
    local = timezone.localtime(incident.next_update_at)
    values = {"time": f"{local:%H:%M}", "zone": local.tzname()}
    if local.date() == timezone.localtime(page.now).date():
        return _("Next update by %(time)s %(zone)s") % values
    values["day"] = formats.date_format(local, "DATE_FORMAT")
    return _("Next update by %(day)s, %(time)s %(zone)s") % values


def _incident_view(incident: PublicIncident, page: StatusPage) -> dict:
    return {
        "id": incident.id,
        "anchor": f"incident-{incident.id}",
        "name": incident_name(incident),
        "status": incident.status,
        "status_label": INCIDENT_STATUS_LABELS[incident.status],
        "effect": incident.effect,
        "effect_label": ServiceStatus(incident.effect).label,
        "components": ", ".join(c.name for c in incident.components),
        "is_open": incident.is_open,
        "started": when(incident.started_at),
        "started_at": incident.started_at,
        "duration": timesince(incident.started_at, page.now),
        "resolved": when(incident.resolved_at) if incident.resolved_at else None,
        "resolved_at": incident.resolved_at,
        "updated_at": incident.updated_at,
        "next_update": _next_update(incident, page) if incident.is_open else "",
        "updates": [
            {
                "at": when(u.created_at),
                "status_label": INCIDENT_STATUS_LABELS[u.status],
                "text": update_text(u),
                "written": True,
            }
            for u in incident.updates
        ],
    }


def _month_groups(incidents: list[dict]) -> list[dict]:
    zone = page_zone()
    months: list[dict] = []
    for incident in incidents:
        first = incident["resolved_at"].astimezone(zone).date().replace(day=1)
        if not months or months[-1]["first"] != first:
            months.append({"first": first, "incidents": []})
        months[-1]["incidents"].append(incident)
    return months


def _context(page: StatusPage, stamps: dict, lang: str) -> dict:
    open_incidents = [_incident_view(i, page) for i in page.open_incidents]
    history = [_incident_view(i, page) for i in page.history]
    recent_ids = {i.id for i in page.recent}
    day_labels = [escape(formats.date_format(day, "DATE_FORMAT")) for day in page.days]
    views = {c.id: _component_view(c, day_labels) for c in page.components}
    sections = [
        {"name": g.name, "status": g.status, "status_label": ServiceStatus(g.status).label,
         "components": [views[c.id] for c in g.components]}
        for g in page.groups
    ]  # fmt: skip
    if page.ungrouped:
        sections.append(
            {
                "name": _("Other services") if page.groups else "",
                "status": None,
                "components": [views[c.id] for c in page.ungrouped],
            }
        )
    other = "en" if lang == "de" else "de"
    return {
        "page": page,
        "lang": lang,
        "other_lang": other,
        "other_lang_name": {"de": "Deutsch", "en": "English"}[other],
        "status": page.status,
        "indicator": page.indicator,
        "headline": HEADLINES[page.status],
        "open_incidents": open_incidents,
        "recent": [i for i in history if i["id"] in recent_ids],
        "history": history,
        "history_months": _month_groups(history),
        "sections": sections,
        "months": [formats.date_format(m, "F Y") for m in page.months],
        "components": list(views.values()),
        "updated": when(stamps["page_updated_at"]),
        "updated_at": stamps["page_updated_at"],
        "index_url": reverse("statuspage:index"),
        "history_url": reverse("statuspage:history"),
        "atom_url": reverse("statuspage:feed_atom"),
        "rss_url": reverse("statuspage:feed_rss"),
        "api_url": reverse("statuspage:api_summary"),
        "subscribe_url": reverse("subscribe"),
        "contributed": [mark_safe(html) for html in contributed_sections(page)],  # noqa: S308 # nosec B308, B703 (contributors render escaped templates)
    }


def _percent(value: float) -> str:
    """99.95 -> "99.95" / "99,95" (German); a full 100 without decimals."""
    if value >= 100:
        return "100"
    return formats.number_format(value, decimal_pos=2)


def _component_view(component: Component, day_labels: list[str]) -> dict:
    """The 90 day bars are built here rather than in a template loop: 90 elements per service
    and language is most of the page, and of the render time. Every text is escaped."""
    suffix = {
        status: "" if status == OPERATIONAL else f" · {escape(ServiceStatus(status).label)}"
        for status in SEVERITY
    }
    bars = "".join(
        f'<i class="d{SEVERITY[day.worst]}" title="{label}: {_percent(day.uptime)} %'
        f'{suffix[day.worst]}"></i>'
        for label, day in zip(day_labels, component.days, strict=True)
    )
    return {
        "id": component.id,
        "name": component.name,
        "status": component.status,
        "status_label": ServiceStatus(component.status).label,
        "uptime": _percent(component.uptime),
        "months": [_percent(m.uptime) for m in component.months],
        "bars": mark_safe(bars),  # noqa: S308 (built from escaped parts) # nosec B308, B703
    }


class _FixedDateMixin:
    """Without items Django's feeds say "updated now": that would change the bytes (and the
    ETag) on every render. The page's last change is the truth."""

    fixed_date: datetime

    def latest_post_date(self):
        return max([self.fixed_date, *(i["updateddate"] or i["pubdate"] for i in self.items)])


class _Atom(_FixedDateMixin, feedgenerator.Atom1Feed):
    pass


class _Rss(_FixedDateMixin, feedgenerator.Rss201rev2Feed):
    pass


def _feed(
    kind: str, page: StatusPage, context: dict, lang: str, *, self_lang: bool = False
) -> bytes:
    base = settings.BASE_URL
    feed_path = context["atom_url"] if kind == "atom" else context["rss_url"]
    # RFC 4287 4.1.1: a feed has an author, and (W3C's validator) so has every entry: the
    # status page's publisher, never a person of the team.
    author = _("Service status")
    feed = (_Atom if kind == "atom" else _Rss)(
        title=_("Service status: incidents"),
        link=f"{base}{context['index_url']}?lang={lang}",
        description=_("Incidents and their updates, newest first."),
        language=lang,
        feed_url=f"{base}{feed_path}" + (f"?lang={lang}" if self_lang else ""),
        feed_guid=f"{base}{feed_path}?lang={lang}",  # the id: the same however it is fetched
        author_name=author if kind == "atom" else None,
    )
    feed.fixed_date = context["updated_at"]
    incidents = sorted(
        context["open_incidents"] + context["history"],
        key=lambda i: i["updated_at"],
        reverse=True,
    )
    for incident in incidents:
        status = incident["status_label"]
        feed.add_item(
            title=f"{incident['name']} ({status})",
            link=f"{base}{context['history_url']}?lang={lang}#{incident['anchor']}",
            description=render_to_string("status/_feed_item.html", {"incident": incident}),
            unique_id=f"{base}{context['index_url']}#{incident['anchor']}",
            unique_id_is_permalink=False,
            pubdate=incident["started_at"],
            updateddate=incident["updated_at"],
            author_name=author if kind == "atom" else None,
        )
    return feed.writeString("utf-8").encode()


# --- Statuspage-shaped JSON ---------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(page_zone()).isoformat(timespec="milliseconds") if value else None


def _api(page: StatusPage, stamps: dict) -> dict[str, bytes]:
    parsed = stamps["parsed"]
    page_json = {
        "id": page.page_id,
        "name": _("Service status"),
        "url": page.url,
        "time_zone": page.time_zone,
        "updated_at": _iso(stamps["page_updated_at"]),
    }

    def component_json(c: Component, position: int) -> dict:
        created, updated = parsed[c.id]
        return {
            "id": c.id,
            "name": c.name,
            "status": c.status,
            "created_at": _iso(created),
            "updated_at": _iso(updated),
            "position": position,
            "description": None,  # Service.description is written for the team
            "showcase": True,
            "start_date": None,
            "group_id": c.group_id,
            "page_id": page.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def group_json(g: Group, position: int) -> dict:
        created, updated = parsed[g.id]
        return {
            "id": g.id,
            "name": g.name,
            "status": g.status,
            "created_at": _iso(created),
            "updated_at": _iso(updated),
            "position": position,
            "description": None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": page.page_id,
            "group": True,
            "only_show_if_degraded": False,
            "components": [c.id for c in g.components],
        }

    components: list[dict] = []
    by_id: dict[str, dict] = {}
    for group in page.groups:
        components.append(group_json(group, len(components) + 1))
        for component in group.components:
            components.append(component_json(component, len(components) + 1))
    for component in page.ungrouped:
        components.append(component_json(component, len(components) + 1))
    for item in components:
        by_id[item["id"]] = item

    def incident_json(i: PublicIncident) -> dict:
        return {
            "id": i.id,
            "name": incident_name(i),
            "status": i.status,
            "created_at": _iso(i.created_at),
            "updated_at": _iso(i.updated_at),
            "monitoring_at": _iso(i.monitoring_at),
            "resolved_at": _iso(i.resolved_at),
            "impact": i.impact,
            "shortlink": f"{settings.BASE_URL}{reverse('statuspage:history')}#incident-{i.id}",
            "started_at": _iso(i.started_at),
            "page_id": page.page_id,
            "incident_updates": [
                {
                    "id": u.id,
                    "status": u.status,
                    "body": update_text(u),
                    "incident_id": i.id,
                    "created_at": _iso(u.created_at),
                    "updated_at": _iso(u.created_at),
                    "display_at": _iso(u.created_at),
                    "affected_components": None,
                }
                for u in i.updates
            ],
            "components": [by_id[c.id] for c in i.components],
        }

    unresolved = [incident_json(i) for i in page.open_incidents]
    every = sorted(
        unresolved + [incident_json(i) for i in page.history],
        key=lambda item: item["created_at"],
        reverse=True,
    )[:50]
    status = {
        "indicator": INDICATOR[page.status],
        "description": INDICATOR_DESCRIPTIONS[INDICATOR[page.status]],
    }
    documents = {
        "api/v2/summary.json": {
            "page": page_json,
            "components": components,
            "incidents": unresolved,
            "scheduled_maintenances": [],
            "status": status,
        },
        "api/v2/status.json": {"page": page_json, "status": status},
        "api/v2/components.json": {"page": page_json, "components": components},
        "api/v2/incidents.json": {"page": page_json, "incidents": every},
        "api/v2/incidents/unresolved.json": {"page": page_json, "incidents": unresolved},
        "api/v2/scheduled-maintenances.json": {"page": page_json, "scheduled_maintenances": []},
        "api/v2/scheduled-maintenances/upcoming.json": {
            "page": page_json,
            "scheduled_maintenances": [],
        },
        "api/v2/scheduled-maintenances/active.json": {
            "page": page_json,
            "scheduled_maintenances": [],
        },
    }
    for name, doc in contributed_documents(page, page_json).items():  # e.g. maintenance
        documents.setdefault(name, {"page": page_json}).update(doc)
    return {
        name: json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        for name, doc in documents.items()
    }
