"""A logging filter that masks keys and tokens carried in URLs.

The Alertmanager integration key may sit in the webhook URL (/api/v1/integrations/alertmanager/
<key>/; the bearer form keeps it out of URLs altogether), and acknowledgement, subscription,
iCal and password-reset links carry their token in the path. Django logs the path of every 4xx
and 5xx answer (django.request), so the key of a mistyped URL, or of a probe, would land in the
log. Every record through LOGGING's handlers passes here; config/nginx.conf masks its access log
the same way.
"""

import logging
import re

MASK = "***"
# (a path prefix that is followed by a secret, the characters the secret is made of)
_SECRET_IN_PATH = re.compile(
    r"(?P<prefix>/integrations/alertmanager/"
    r"|/ack/"
    r"|/oncall/(?:people/)?[0-9]+/"
    r"|/subscriptions/"
    r"|/accounts/reset/[^/\s]+/)"
    r"(?P<secret>[^/\s?\"']+?)(?=\.ics\b|[/\s?\"']|$)"
)
_SECRET_IN_QUERY = re.compile(r"(?P<prefix>[?&](?:key|token|routing_key)=)(?P<secret>[^&\s\"']+)")


def mask(text: str) -> str:
    text = _SECRET_IN_PATH.sub(lambda m: m["prefix"] + MASK, text)
    return _SECRET_IN_QUERY.sub(lambda m: m["prefix"] + MASK, text)


class MaskSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
