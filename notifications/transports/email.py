"""Email through Django's SMTP backend: plain text and HTML, Message-ID = delivery id, Date in the
installation's zone (TIME_ZONE) with its offset."""

import smtplib
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import timezone

from .base import Message, Transport, TransportError


class EmailTransport(Transport):
    def send(self, message: Message) -> None:
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        mail = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers={
                # Django's own Date is UTC ("-0000", zone unknown) unless the process's zone is
                # set; this names the sending time as the installation reads it ("+0100").
                "Date": format_datetime(timezone.now().astimezone(ZoneInfo(settings.TIME_ZONE))),
                "Message-ID": f"<{message.delivery_id}@{domain}>",
                "X-Escalation-Delivery": message.delivery_id,
                "Auto-Submitted": "auto-generated",
                "Content-Language": message.language,
            },
            connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
        )
        if message.unsubscribe_url:  # RFC 2369 / RFC 8058 one-click unsubscribe
            mail.extra_headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            mail.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if message.html:
            mail.attach_alternative(message.html, "text/html")
        try:
            mail.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except smtplib.SMTPNotSupportedError as exc:  # no SMTPUTF8 for an address that needs it
            raise TransportError(f"SMTP: {exc}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            text = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            raise TransportError(text, permanent=500 <= exc.smtp_code < 600) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP: {exc}") from exc
