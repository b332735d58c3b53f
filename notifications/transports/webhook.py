"""Webhooks: a JSON POST with httpx, signed with HMAC-SHA256 over "<timestamp>.<body>".

Receivers verify `X-Escalation-Signature: v1=<hex>` with their own secret (one per webhook,
subscription or contact method, random, never derived from SECRET_KEY) and drop repeats by
`X-Escalation-Delivery`. While a rotated secret's grace period runs, the signature with the
previous secret is sent as well, in `X-Escalation-Signature-Previous`. 4xx answers other than
408/429 are permanent; everything else is retried. Connections go only where the outbound URL
policy allows (checked at connect time, see notifications/outbound.py); redirects are not
followed.
"""

import hashlib
import hmac
import json
import time

from django.conf import settings

from ..outbound import OutboundRefused, guarded_transport
from .base import Message, Transport, TransportError

_client = None


def client():
    """One pooled httpx client per process: building one per request costs milliseconds of CPU
    (TLS context) and a new connection each time. httpx clients are thread-safe. Imported here:
    only workers deliver, and web processes stay without httpx (and the pygments it pulls in)."""
    import httpx

    global _client
    if _client is None:
        _client = httpx.Client(
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            follow_redirects=False,
            transport=guarded_transport(),
        )
    return _client


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


class WebhookTransport(Transport):
    def send(self, message: Message) -> None:
        secret = message.signing_secret or settings.WEBHOOK_SECRET
        if not secret:
            raise TransportError("no signing secret for this webhook", permanent=True)
        body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "EscalationManager-Webhook/1",
            "X-Escalation-Delivery": message.delivery_id,
            "X-Escalation-Timestamp": timestamp,
            "X-Escalation-Signature": signature(secret, timestamp, body),
        }
        if message.previous_signing_secret:
            headers["X-Escalation-Signature-Previous"] = signature(
                message.previous_signing_secret, timestamp, body
            )
        import httpx

        try:
            response = client().post(message.address, content=body, headers=headers)
        except OutboundRefused as exc:
            raise TransportError(exc.message, permanent=True) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise TransportError(f"invalid URL: {exc}", permanent=True) from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code < 300:
            return
        permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
        raise TransportError(f"HTTP {response.status_code}", permanent=permanent)
