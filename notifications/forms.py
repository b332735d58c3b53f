from django import forms
from django.utils.translation import gettext_lazy as _

from . import hooks
from .models import validate_email_address
from .outbound import validate_outbound_url


class SubscribeForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("How"), choices=[("email", _("Email")), ("webhook", _("Webhook (JSON POST)"))]
    )
    address = forms.CharField(label=_("Email address or webhook URL"), max_length=1000)
    scope = forms.MultipleChoiceField(
        label=_("About (one or more)"), widget=forms.CheckboxSelectMultiple
    )
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
                validate_email_address(address)
        except forms.ValidationError:
            self.add_error("address", _("Enter a valid email address or http(s) URL."))
        if data.get("channel") == "webhook":
            try:
                validate_outbound_url(address)  # the outbound URL policy, with its own message
            except forms.ValidationError as exc:
                if exc.code == "outbound_refused":
                    self.add_error("address", exc)
                else:
                    self.add_error("address", _("Enter a valid email address or http(s) URL."))
        data["address"] = address
        names = dict(self.fields["scope"].choices)
        data["scope_label"] = ", ".join(
            str(names[s]) for s in data.get("scope") or [] if s in names
        )
        return data
