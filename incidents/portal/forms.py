"""The portal's subscription form: the self-service form and its validation, about what one
organisation may subscribe to."""

from notifications.forms import SubscribeForm


class PortalSubscribeForm(SubscribeForm):
    def __init__(self, *args, scopes: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = scopes
