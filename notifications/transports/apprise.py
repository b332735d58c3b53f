"""Chat and SMS through Apprise URLs (Slack, Teams, Telegram, Mattermost, SMS gateways ...).

A fresh Apprise object per message: Apprise throttles repeated sends per object. Every host the
URL names is resolved and checked against the outbound URL policy right before each send
(Apprise uses its own HTTP client, so the check cannot sit inside the connection as for webhooks).
"""

from ..outbound import OutboundRefused, check_apprise_url
from .base import Message, Transport, TransportError


class AppriseTransport(Transport):
    def send(self, message: Message) -> None:
        import apprise  # heavy (every provider's plugin): loaded by workers only, not web processes

        try:
            check_apprise_url(message.address)
        except OutboundRefused as exc:
            raise TransportError(exc.message, permanent=True) from exc
        sender = apprise.Apprise()
        if not sender.add(message.address):
            raise TransportError("not a valid Apprise URL", permanent=True)
        if not sender.notify(title=message.subject, body=message.chat or message.text):
            raise TransportError("the Apprise service did not accept the message")
