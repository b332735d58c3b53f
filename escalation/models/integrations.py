"""Monitoring integrations: an Events API v2 routing key or an Alertmanager webhook URL key,
each feeding one service, with rules that map alert severity to impact and urgency."""

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Service


def _key() -> str:
    return secrets.token_hex(16)  # 32 characters, like a PagerDuty routing key


def _severity_map() -> dict:
    return {
        "critical": ["high", "high"],
        "error": ["high", "medium"],
        "warning": ["medium", "medium"],
        "info": ["low", "low"],
    }


class Integration(models.Model):
    class Kind(models.TextChoices):
        EVENTS_V2 = "events_v2", _("Events API v2 (PagerDuty-compatible)")
        ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager webhook")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="integrations"
    )
    key = models.CharField(_("integration key"), max_length=64, unique=True, default=_key)
    is_active = models.BooleanField(_("active"), default=True)
    severity_map = models.JSONField(
        _("severity -> [impact, urgency]"),
        default=_severity_map,
        help_text=_("Alerts with a mapped severity are classified (and maybe escalated) at once."),
    )
    resolve_on_resolved = models.BooleanField(_("resolve when the alert resolves"), default=True)
    group_labels = models.JSONField(
        _("group by labels"),
        default=list,
        blank=True,
        help_text=_(
            "Group alerts with equal values of these labels (Alertmanager) or payload fields "
            '(Events API v2: "source", "severity", "component", "group", "class", "summary" or '
            'a key of "custom_details") into one incident, e.g. ["alertname", "cluster"]. '
            "Empty: one incident per alert fingerprint or dedup key."
        ),
    )
    group_window = models.PositiveIntegerField(
        _("group window (minutes)"),
        default=0,
        help_text=_(
            "An alert joins the open incident of its group only if that incident opened at most "
            "this many minutes ago; later alerts open a new incident. 0: as long as it is open."
        ),
    )
    flap_window = models.PositiveIntegerField(
        _("flapping window (minutes)"),
        default=0,
        help_text=_(
            "An alert that fires again at most this many minutes after it resolved reopens its "
            "escalated incident instead of opening a new one. 0: off."
        ),
    )
    service_label = models.CharField(
        _("service label"),
        max_length=100,
        default="service",
        help_text=_(
            "Alertmanager: a label naming the slug of one of the services below routes there."
        ),
    )
    routable_services = models.ManyToManyField(
        Service,
        verbose_name=_("may also route to"),
        blank=True,
        related_name="+",
        help_text=_(
            "Services the service label may name besides the integration's own. An alert naming "
            "any other service opens its incident on the integration's own service."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_event_at = models.DateTimeField(_("last event"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    MAX_GROUP_LABELS = 10
    MAX_LABEL_LENGTH = 100  # characters of one group-by name
    MAX_WINDOW_MINUTES = 7 * 24 * 60  # group and flapping windows: at most a week

    def clean(self) -> None:
        """Grouping rules as the ingest reads them: a list of distinct label or field names (a
        bare string would group by its letters, silently)."""
        labels = self.group_labels
        if not isinstance(labels, list) or not all(
            isinstance(name, str)
            and name.strip()
            and len(name) <= self.MAX_LABEL_LENGTH
            and "\x00" not in name  # PostgreSQL stores no NUL in JSON: a 500, not an error
            for name in labels
        ):
            raise ValidationError(
                {
                    "group_labels": _(
                        'A list of label or field names, e.g. ["alertname", "cluster"] '
                        "(each at most 100 characters); [] for no grouping."
                    )
                }
            )
        if len(labels) > self.MAX_GROUP_LABELS or len(set(labels)) != len(labels):
            raise ValidationError(
                {
                    "group_labels": _("At most %(n)d label or field names, each once.")
                    % {"n": self.MAX_GROUP_LABELS}
                }
            )
        too_long = {
            name: _("At most %(limit_value)s minutes (one week).")
            % {"limit_value": self.MAX_WINDOW_MINUTES}
            for name in ("group_window", "flap_window")
            if (getattr(self, name) or 0) > self.MAX_WINDOW_MINUTES
        }
        if too_long:  # the admin's form; the console and the API refuse it themselves
            raise ValidationError(too_long)


class IncidentAlert(models.Model):
    """One alert of an incident (Alertmanager: by fingerprint; Events API v2 with grouping: by
    the sender's dedup key): with `group_labels` several alerts share an incident, and it
    resolves only when every one of them has resolved."""

    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    fingerprint = models.CharField(_("alert fingerprint"), max_length=255)
    labels = models.JSONField(_("alert labels"), default=dict)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    resolved_at = models.DateTimeField(_("alert resolved"), null=True, blank=True)

    class Meta:
        ordering = ["first_seen_at", "pk"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "fingerprint"], name="incident_alert_once_per_fingerprint"
            )
        ]
        # which incident holds this alert (grouped ingest looks the alert up, not the incident)
        indexes = [models.Index(fields=["fingerprint"], name="incident_alert_fingerprint")]

    def __str__(self) -> str:
        return self.fingerprint
