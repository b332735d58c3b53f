"""Reads of the configuration history (the tables of models.py): the changes between two dates,
each with who, when, what, and the values before and after; and the configuration as it was at
a date (rows_as_of), for the handbook."""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _

from .models import TRACKED

LIMIT = 500  # the newest changes shown for one period; a narrower period shows the rest
KINDS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass
class FieldChange:
    name: str
    before: str
    after: str


@dataclass
class Change:
    at: datetime
    who: str
    what: str  # the model's verbose name
    object_id: int
    label: str
    kind: str  # created, changed, deleted
    reason: str
    fields: list[FieldChange] = field(default_factory=list)


def _text(value, model_name: str = "") -> str:
    """A value as a reader reads it: related objects by their name, lists of links (many-to-many
    versions) by the names of what they link to."""
    if value is None or value == "":
        return "–"
    if isinstance(value, list):
        names = []
        for item in value:
            if isinstance(item, dict):
                names += [str(v) for k, v in item.items() if k != model_name]
            else:
                names.append(str(item))
        return ", ".join(sorted(names)) or "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a many-to-many field of the history: its name will do
        return name


def _fields_of(record, model) -> list[str]:
    names = [
        f.name
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and hasattr(record, f.attname)
    ]
    return names + list(TRACKED[model])


def _value(record, model, name: str):
    if name in TRACKED[model]:
        return [
            {name: getattr(link, model._meta.get_field(name).related_model._meta.model_name)}
            for link in getattr(record, name).all()
        ]
    return getattr(record, name, None)


def _change(record, model) -> Change:
    kind = KINDS[record.history_type]
    change = Change(
        at=record.history_date,
        who=record.history_user.display_name if record.history_user else _("system"),
        what=str(model._meta.verbose_name),
        object_id=getattr(record, model._meta.pk.attname),
        label=str(record.instance) if kind != "deleted" else f"#{record.pk}",
        kind=kind,
        reason=record.history_change_reason or "",
    )
    if kind == "changed" and (previous := record.prev_record) is not None:
        delta = record.diff_against(previous, foreign_keys_are_objs=True)
        change.fields = [
            FieldChange(
                _label(model, c.field),
                _text(c.old, model._meta.model_name),
                _text(c.new, model._meta.model_name),
            )
            for c in delta.changes
        ]
    else:
        for name in _fields_of(record, model):
            value = _text(_value(record, model, name), model._meta.model_name)
            before, after = (value, "–") if kind == "deleted" else ("–", value)
            if value != "–":
                change.fields.append(FieldChange(_label(model, name), before, after))
    if kind == "deleted":
        change.label = _text(record.instance)
    return change


def config_changes(*, since: datetime, until: datetime) -> list[Change]:
    """Every configuration change in [since, until], newest first (at most LIMIT). Versions that
    change nothing a reader sees (a save without edits) are left out."""
    changes = []
    for model in TRACKED:
        records = (
            model.history.filter(history_date__gte=since, history_date__lte=until)
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[:LIMIT]
        )
        for record in records:
            change = _change(record, model)
            if change.kind != "changed" or change.fields:
                changes.append(change)
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes[:LIMIT]


def rows_as_of(model, at: datetime | None) -> list:
    """The rows of a tracked model as they were at `at` (historical versions; their many-to-many
    fields list versions of the links), or the live rows when `at` is None."""
    if at is None:
        return list(model._default_manager.all())
    return list(
        model.history.filter(history_date__lte=at)
        .latest_of_each()
        .exclude(history_type="-")
        .order_by(*(model._meta.ordering or ["pk"]))
    )


def linked(row, model, name: str) -> list[models.Model]:
    """The objects a many-to-many field links to, for a live row and a historical version alike
    (whose field lists versions of the links)."""
    items = list(getattr(row, name).all())
    if isinstance(row, model):
        return items
    target = model._meta.get_field(name).related_model._meta.model_name
    return [getattr(item, target) for item in items]
