from .apprise import AppriseTransport
from .base import Message, Transport, TransportError
from .email import EmailTransport
from .webhook import WebhookTransport

# A channel kind -> the class that delivers it.
TRANSPORTS: dict[str, type[Transport]] = {
    "email": EmailTransport,
    "webhook": WebhookTransport,
    "apprise": AppriseTransport,
}

__all__ = ["TRANSPORTS", "Message", "Transport", "TransportError"]
