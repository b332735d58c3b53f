"""How each person wants to be reached, and their ladder while a page stays unacknowledged."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.models import Channel


class ContactMethod(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    address = models.CharField(
        _("address"),
        max_length=1000,
        help_text=_("An email address, an Apprise URL (Slack, Teams, SMS ...) or a webhook URL."),
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["user", "channel", "id"]
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")

    def __str__(self) -> str:
        return self.label or f"{self.get_channel_display()}: {self.address}"


class NotificationRule(models.Model):
    """One rung of a person's ladder: use this contact method N minutes into an unacked page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules"
    )
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="+")
    delay_minutes = models.PositiveIntegerField(_("after minutes"), default=0)

    class Meta:
        ordering = ["user", "delay_minutes", "id"]
        verbose_name = _("personal notification rule")
        verbose_name_plural = _("personal notification rules")

    def __str__(self) -> str:
        return f"+{self.delay_minutes} min: {self.contact_method}"
