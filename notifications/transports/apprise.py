"""Chat and SMS through Apprise URLs (Slack, Teams, Telegram, Mattermost, SMS gateways ...).

A fresh Apprise object per message: Apprise throttles repeated sends per object. The outbound URL
policy applies twice: every host the URL names is resolved and checked right before the send, and
during it every connection Apprise opens goes to a checked address only (notifications/outbound.py).
Apprise follows no redirects unless the URL asks (`?redirect=yes`), and then only to allowed hosts.

Apprise's notification type (the colour and icon a chat shows, the `type` a json:// receiver gets)
follows the message: a page or escalation by priority (P1 failure, P2 warning, others info), an
all-clear or resolution success, everything else info.
"""

from ..outbound import OutboundRefused, check_apprise_url, guarded_urllib3
from .base import Message, Transport, TransportError

PAGING_TEMPLATES = {"page", "incident_escalated"}
TYPE_BY_PRIORITY = {1: "failure", 2: "warning"}


def notify_type(message: Message) -> str:
    """Apprise's type for a message (its template and context are in `message.payload`)."""
    template, context = message.payload.get("event"), message.payload.get("data") or {}
    if template == "customer_all_clear" or context.get("event") == "resolved":
        return "success"
    if template in PAGING_TEMPLATES:
        return TYPE_BY_PRIORITY.get(context.get("priority"), "info")
    return "info"


class AppriseTransport(Transport):
    def send(self, message: Message) -> None:
        import apprise  # heavy (every provider's plugin): loaded by workers only, not web processes

        try:
            check_apprise_url(message.address)
        except OutboundRefused as exc:
            raise TransportError(exc.message, permanent=True) from exc
        # In this thread (no async mode, no service deadline: either would hand the send to a
        # thread pool, outside the guard; requests' own connect and read timeouts still apply).
        asset = apprise.AppriseAsset(async_mode=False, service_timeout=0, http_redirects=False)
        sender = apprise.Apprise(asset=asset)
        if not sender.add(message.address):
            raise TransportError("not a valid Apprise URL", permanent=True)
        with guarded_urllib3() as refused:
            sent = sender.notify(
                title=message.subject,
                body=message.chat or message.text,
                notify_type=notify_type(message),
            )
        if refused:
            raise TransportError(refused[0], permanent=True)
        if not sent:
            raise TransportError("the Apprise service did not accept the message")
