from django import forms
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from . import hooks


class SubscribeForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("How"), choices=[("email", _("Email")), ("webhook", _("Webhook (JSON POST)"))]
    )
    address = forms.CharField(label=_("Email address or webhook URL"), max_length=1000)
    scope = forms.ChoiceField(label=_("About"))
    language = forms.ChoiceField(
        label=_("Language"), choices=[("de", "Deutsch"), ("en", "English")]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What anyone may subscribe to (the public services), from the registered providers.
        self.fields["scope"].choices = hooks.subscription_scopes()

    def clean(self):
        data = super().clean()
        address = (data.get("address") or "").strip()
        try:
            if data.get("channel") == "email":
                EmailValidator()(address)
            elif data.get("channel") == "webhook":
                URLValidator(schemes=["http", "https"])(address)
        except forms.ValidationError:
            self.add_error("address", _("Enter a valid email address or http(s) URL."))
        data["address"] = address
        data["scope_label"] = dict(self.fields["scope"].choices).get(data.get("scope"), "")
        return data
