from django import forms
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from incidents.models import Service

from .outbound import validate_outbound_url


def public_scopes() -> list[tuple[str, str]]:
    """What anyone may subscribe to: each group of the status page as a whole (what it will
    hold, too), and each service it shows (never private ones)."""
    services = list(
        Service.objects.filter(is_private=False)
        .select_related("group")
        .order_by("group__position", "group__name", "position", "name")
    )
    groups = {s.group.slug: s.group.name for s in services if s.group_id}
    return [
        (f"group:{slug}", _("All of %(group)s") % {"group": name}) for slug, name in groups.items()
    ] + [(f"service:{s.slug}", s.name) for s in services]


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
        self.fields["scope"].choices = public_scopes()

    def clean(self):
        data = super().clean()
        address = (data.get("address") or "").strip()
        try:
            if data.get("channel") == "email":
                EmailValidator()(address)
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
