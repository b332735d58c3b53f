"""On-call schedules (rotations in layers, overrides) and business-hours calendars.

The arithmetic lives in the pure modules escalation/schedules.py and escalation/calendars.py; these
models store the configuration and turn it into their specs.
"""

import secrets
from datetime import time

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import validate_time_zone

from .. import calendars, schedules


def _token() -> str:
    return secrets.token_urlsafe(24)


def _default_hours() -> dict:
    return {str(day): [["08:00", "18:00"]] for day in range(5)}


class BusinessCalendar(models.Model):
    """Service hours: weekday opening times in a time zone, closed on public holidays."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    always_open = models.BooleanField(_("24/7"), default=False)
    hours = models.JSONField(
        _("opening hours"),
        default=_default_hours,
        help_text=_('Weekday (0 = Monday) to local intervals, e.g. {"0": [["08:00", "18:00"]]}.'),
    )
    country = models.CharField(
        _("public holidays of country"), max_length=2, default="DE", blank=True
    )
    subdivision = models.CharField(
        _("state/subdivision"), max_length=10, blank=True, help_text=_("e.g. NW, BY, BE")
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def as_spec(self) -> calendars.BusinessHours:
        return calendar_spec_from_data(self.as_data())

    def as_data(self) -> dict:
        """A JSON-able copy, so a running escalation keeps the calendar it started with."""
        return {
            "time_zone": self.time_zone,
            "always_open": self.always_open,
            "hours": self.hours,
            "country": self.country or None,
            "subdivision": self.subdivision or None,
        }


def calendar_spec_from_data(data: dict) -> calendars.BusinessHours:
    def parse(value: str) -> time:
        return time.fromisoformat(value)

    return calendars.BusinessHours(
        time_zone=data["time_zone"],
        hours={
            int(day): tuple((parse(a), parse(b)) for a, b in intervals)
            for day, intervals in data["hours"].items()
        },
        country=data["country"],
        subdivision=data["subdivision"],
        always_open=data["always_open"],
    )


class OnCallSchedule(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    description = models.TextField(_("description"), blank=True)
    is_manager_on_duty = models.BooleanField(
        _("escalation manager on duty"),
        default=False,
        help_text=_("The rota of escalation managers: the last level of every policy."),
    )
    ical_token = models.CharField(max_length=64, default=_token, unique=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("on-call schedule")
        verbose_name_plural = _("on-call schedules")

    def __str__(self) -> str:
        return self.name

    def as_spec(self) -> schedules.ScheduleSpec:
        """Needs layers__members and overrides prefetched to stay at a fixed number of queries."""
        layers = []
        for layer in self.layers.all():
            layers.append(
                schedules.Layer(
                    start_date=layer.start_date,
                    handoff_time=layer.handoff_time,
                    shift_days=layer.shift_days,
                    participants=tuple(m.user_id for m in layer.members.all()),
                    position=layer.position,
                    active_weekdays=tuple(layer.active_weekdays) if layer.active_weekdays else None,
                    active_from=layer.active_from,
                    active_until=layer.active_until,
                )
            )
        overrides = tuple(
            schedules.Override(user_id=o.user_id, start=o.start, end=o.end)
            for o in self.overrides.all()
        )
        return schedules.ScheduleSpec(
            time_zone=self.time_zone, layers=tuple(layers), overrides=overrides
        )


class ScheduleLayer(models.Model):
    class Rotation(models.TextChoices):
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        CUSTOM = "custom", _("Custom length")

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(_("name"), max_length=200, blank=True)
    position = models.PositiveIntegerField(
        _("position"), default=0, help_text=_("Higher layers win where layers overlap.")
    )
    rotation = models.CharField(
        _("rotation"), max_length=10, choices=Rotation.choices, default=Rotation.WEEKLY
    )
    shift_days = models.PositiveSmallIntegerField(
        _("shift length in days"), default=7, help_text=_("Used for custom rotations.")
    )
    start_date = models.DateField(_("first handoff (date)"))
    handoff_time = models.TimeField(_("handoff time"), default=time(9))
    active_weekdays = models.JSONField(
        _("only on weekdays"), null=True, blank=True, help_text=_("e.g. [0, 1, 2, 3, 4]")
    )
    active_from = models.TimeField(_("only from"), null=True, blank=True)
    active_until = models.TimeField(_("only until"), null=True, blank=True)

    class Meta:
        ordering = ["schedule", "-position"]
        verbose_name = _("schedule layer")
        verbose_name_plural = _("schedule layers")

    def __str__(self) -> str:
        return self.name or f"{self.schedule} #{self.position}"

    def save(self, *args, **kwargs):
        if self.rotation == self.Rotation.DAILY:
            self.shift_days = 1
        elif self.rotation == self.Rotation.WEEKLY:
            self.shift_days = 7
        super().save(*args, **kwargs)


class LayerMember(models.Model):
    layer = models.ForeignKey(ScheduleLayer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["layer", "position", "id"]
        verbose_name = _("rotation member")
        verbose_name_plural = _("rotation members")

    def __str__(self) -> str:
        return f"{self.position}: {self.user}"


class ScheduleImport(models.Model):
    """An iCal calendar whose events put people on call in a schedule (as overrides): uploaded
    once, or fetched from a URL and refreshed hourly. Each refresh replaces what it imported."""

    schedule = models.OneToOneField(
        OnCallSchedule, on_delete=models.CASCADE, related_name="ical_import"
    )
    url = models.URLField(_("calendar URL"), max_length=2000, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    shifts = models.PositiveIntegerField(default=0)
    unmatched = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("calendar import")
        verbose_name_plural = _("calendar imports")

    def __str__(self) -> str:
        return f"{self.schedule}: {self.url or 'file'}"


class ScheduleOverride(models.Model):
    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    imported_from = models.ForeignKey(
        ScheduleImport, null=True, blank=True, on_delete=models.CASCADE, related_name="overrides"
    )

    class Meta:
        ordering = ["schedule", "start"]
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="override_end"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.start:%Y-%m-%d %H:%M} - {self.end:%Y-%m-%d %H:%M}"
