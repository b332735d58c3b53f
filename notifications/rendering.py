"""Render an outbox row into the message its channel sends, in the recipient's language and time
zone. Text lives in templates (templates/notifications/<channel>/<language>/<name>.*)."""

from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Notification
from .transports import Message

LANGUAGES = ("de", "en")


def _prepare(context: dict) -> dict:
    """JSON back into Python: every key ending in _at becomes an aware datetime (or None)."""
    prepared = {}
    for key, value in context.items():
        if key.endswith("_at") and isinstance(value, str) and value:
            prepared[key] = datetime.fromisoformat(value)
        elif key == "items" and isinstance(value, list):
            prepared[key] = [_prepare(item) if isinstance(item, dict) else item for item in value]
        else:
            prepared[key] = value
    return prepared


def render_content(
    *, channel: str, template: str, language: str, context: dict, time_zone: str = ""
) -> dict:
    """Subject, text, html and chat text of one message: what the outbox sends and what the
    console's preview shows (the same function, so the preview is what is sent).

    `context` is the stored JSON form (as notification_enqueue keeps it)."""
    language = language if language in LANGUAGES else "en"
    context = _prepare(context)
    with translation.override(language), timezone.override(time_zone or settings.TIME_ZONE):
        subject = text = html = chat = ""
        if channel == "email":
            base = f"notifications/email/{language}/{template}"
            subject = " ".join(render_to_string(f"{base}.subject.txt", context).split())
            text = render_to_string(f"{base}.txt", context).strip()
            html = render_to_string(f"{base}.html", context)
        elif channel == "apprise":
            chat = render_to_string(
                f"notifications/chat/{language}/{template}.txt", context
            ).strip()
            subject = chat.splitlines()[0][:200] if chat else template
    return {"subject": subject, "text": text, "html": html, "chat": chat}


def render(notification: Notification) -> Message:
    language = notification.language if notification.language in LANGUAGES else "en"
    recipient = notification.recipient
    content = render_content(
        channel=notification.channel,
        template=notification.template,
        language=language,
        context=notification.context,
        time_zone=getattr(recipient, "time_zone", "") or "",
    )
    name = notification.template
    payload = {
        "id": str(notification.delivery_id),
        "event": name,
        "created_at": notification.created_at.isoformat(),
        "language": language,
        "subject": notification.subject,
        "data": notification.context,
    }
    return Message(
        delivery_id=str(notification.delivery_id),
        address=notification.address,
        language=language,
        subject=content["subject"],
        text=content["text"],
        html=content["html"],
        chat=content["chat"],
        payload=payload,
        unsubscribe_url=notification.context.get("unsubscribe_url") or "",
        signing_secret=notification.signing_secret,
        previous_signing_secret=notification.previous_signing_secret,
    )
