"""Scheduled maintenance on the public status page (a contributor: incidents.statuspage.
contributors): a section with the active and upcoming windows, and Statuspage's
scheduled-maintenances.json, /upcoming.json, /active.json and summary.json's list.

Only public services are named (a window on private services only is not shown), and only the
customer-facing title and text. The page is rendered on every change of a window and every five
minutes (beat), so a window's start and end show within five minutes.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.urls import reverse

from incidents.models import Service
from incidents.statuspage.build import public_id
from incidents.statuspage.render import _iso, when

from .models import Maintenance

UPCOMING_DAYS = 60  # how far ahead the page announces windows
COMPLETED_DAYS = 14  # how long a finished window stays in scheduled-maintenances.json
LIMIT = 50


def _windows(page) -> list[tuple[Maintenance, list]]:
    """(window, its public components on the page) for windows ending within the last
    COMPLETED_DAYS or starting within the next UPCOMING_DAYS, with at least one component."""
    components = {c.id: c for c in page.components}
    public = Service.objects.filter(is_private=False)
    windows = (
        Maintenance.objects.filter(
            ends_at__gte=page.now - timedelta(days=COMPLETED_DAYS),
            starts_at__lte=page.now + timedelta(days=UPCOMING_DAYS),
        )
        .filter(Q(services__is_private=False) | Q(groups__services__is_private=False))
        .distinct()
        .prefetch_related(
            Prefetch("services", queryset=public), Prefetch("groups__services", queryset=public)
        )
        .order_by("starts_at", "pk")[:LIMIT]
    )
    out = []
    for window in windows:
        services = {s.pk: s for s in window.services.all()}
        for group in window.groups.all():
            services.update({s.pk: s for s in group.services.all()})
        found = [components.get(public_id("service", pk)) for pk in sorted(services)]
        found = sorted((c for c in found if c), key=lambda c: c.position)
        if found:
            out.append((window, found))
    return out


def _json(window: Maintenance, components: list, page) -> dict:
    phase = window.phase(page.now)
    mid = public_id("maintenance", window.pk)
    started = window.starts_at if phase != "scheduled" else None
    update_times = [window.created_at] + ([window.starts_at] if started else [])
    update_times += [window.ends_at] if phase == "completed" else []
    statuses = ["scheduled", "in_progress", "completed"][: len(update_times)]
    return {
        "id": mid,
        "name": window.title,
        "status": phase,
        "created_at": _iso(window.created_at),
        "updated_at": _iso(max(window.updated_at, *update_times)),
        "monitoring_at": None,
        "resolved_at": _iso(window.ends_at) if phase == "completed" else None,
        "impact": "maintenance",
        "shortlink": f"{settings.BASE_URL}{reverse('statuspage:index')}#maintenance-{mid}",
        "started_at": _iso(window.starts_at),
        "page_id": page.page_id,
        "incident_updates": [
            {
                "id": public_id("maintenance-update", f"{window.pk}-{n}"),
                "status": status,
                "body": window.body or window.title,
                "incident_id": mid,
                "created_at": _iso(at),
                "updated_at": _iso(at),
                "display_at": _iso(at),
                "affected_components": None,
            }
            for n, (status, at) in reversed(
                list(enumerate(zip(statuses, update_times, strict=True)))
            )
        ],
        "components": [
            {
                "id": c.id,
                "name": c.name,
                "status": c.status,
                "group_id": c.group_id,
                "page_id": page.page_id,
                "group": False,
            }
            for c in components
        ],  # fmt: skip
        "scheduled_for": _iso(window.starts_at),
        "scheduled_until": _iso(window.ends_at),
    }


class MaintenanceContributor:
    def documents(self, page, page_json: dict) -> dict[str, dict]:
        items = [_json(w, cs, page) for w, cs in _windows(page)]
        upcoming = [i for i in items if i["status"] == "scheduled"]
        active = [i for i in items if i["status"] == "in_progress"]
        newest_first = sorted(items, key=lambda i: i["scheduled_for"], reverse=True)
        return {
            "api/v2/summary.json": {"scheduled_maintenances": active + upcoming},
            "api/v2/scheduled-maintenances.json": {"scheduled_maintenances": newest_first},
            "api/v2/scheduled-maintenances/upcoming.json": {"scheduled_maintenances": upcoming},
            "api/v2/scheduled-maintenances/active.json": {"scheduled_maintenances": active},
        }

    def section(self, page) -> str:
        windows = [
            {
                "anchor": f"maintenance-{public_id('maintenance', w.pk)}",
                "title": w.title,
                "body": w.body,
                "phase": w.phase(page.now),
                "starts": when(w.starts_at),
                "ends": when(w.ends_at),
                "components": ", ".join(c.name for c in cs),
            }
            for w, cs in _windows(page)
        ]
        windows = [w for w in windows if w["phase"] != "completed"]
        if not windows:
            return ""
        return render_to_string(
            "maintenance/_status_section.html",
            {
                "active": [w for w in windows if w["phase"] == "in_progress"],
                "upcoming": [w for w in windows if w["phase"] == "scheduled"],
            },
        )


contribute = MaintenanceContributor()
