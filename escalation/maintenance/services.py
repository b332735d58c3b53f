"""Writes of maintenance windows: each a single transaction that also re-renders the status page
after commit (the window is announced there)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.exceptions import InvalidInput
from incidents.statuspage.render import render_after_commit

from .models import Maintenance
from .notices import notices_plan

FIELDS = ("title", "body", "starts_at", "ends_at", "silence")


def _check(window: Maintenance, services, groups) -> None:
    if window.ends_at <= window.starts_at:
        raise InvalidInput(_("The end must be after the start."), field="ends_at")
    if not services and not groups:
        raise InvalidInput(_("Name at least one service or service group."), field="services")


@transaction.atomic
def maintenance_create(*, actor, services=(), groups=(), **fields) -> Maintenance:
    window = Maintenance(created_by=actor, **{k: fields[k] for k in FIELDS if k in fields})
    _check(window, services, groups)
    window.save()
    window.services.set(services)
    window.groups.set(groups)
    notices_plan(window=window, now=timezone.now())
    render_after_commit()
    return window


@transaction.atomic
def maintenance_update(
    *, window: Maintenance, actor, services=None, groups=None, **fields
) -> Maintenance:
    window = Maintenance.objects.select_for_update().get(pk=window.pk)
    for name in FIELDS:
        if name in fields:
            setattr(window, name, fields[name])
    services = list(window.services.all()) if services is None else list(services)
    groups = list(window.groups.all()) if groups is None else list(groups)
    _check(window, services, groups)
    window.save()
    window.services.set(services)
    window.groups.set(groups)
    notices_plan(window=window, now=timezone.now())
    render_after_commit()
    return window


@transaction.atomic
def maintenance_delete(*, window: Maintenance, actor) -> None:
    Maintenance.objects.filter(pk=window.pk).delete()
    render_after_commit()
