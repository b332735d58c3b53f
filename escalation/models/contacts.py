"""How each person wants to be reached, and their ladder while a page stays unacknowledged."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.models import Channel, validate_email_address
from notifications.outbound import validate_apprise_url, validate_outbound_url
from notifications.signing_secrets import RotatableSecret, new_signing_secret


class ContactMethod(RotatableSecret):
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
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        default=new_signing_secret,
        editable=False,
        help_text=_("Webhooks: the receiver verifies X-Escalation-Signature with this secret."),
    )

    class Meta:
        ordering = ["user", "channel", "id"]
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")

    def __str__(self) -> str:
        return self.label or f"{self.get_channel_display()}: {self.address}"

    def clean(self) -> None:
        """Each channel's address must be valid, and URLs must obey the outbound URL policy."""
        validators = {
            Channel.EMAIL: validate_email_address,
            Channel.WEBHOOK: validate_outbound_url,
            Channel.APPRISE: validate_apprise_url,
        }
        validate = validators.get(self.channel)
        if validate is None or not self.address:
            return
        try:
            validate(self.address.strip())
        except ValidationError as exc:
            raise ValidationError({"address": exc.messages}) from exc


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
