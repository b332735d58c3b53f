"""Give a webhook receiver a new random signing secret and print it:
`rotate_signing_secret webhook|subscription|contact-method ID`.

The old secret keeps signing too (header X-Escalation-Signature-Previous) for
WEBHOOK_SECRET_GRACE_HOURS, so the receiver can switch without losing a message."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from escalation.models import ContactMethod, EventWebhook
from notifications.models import Subscription
from notifications.signing_secrets import signing_secret_rotate

MODELS = {"webhook": EventWebhook, "subscription": Subscription, "contact-method": ContactMethod}


class Command(BaseCommand):
    help = "Rotate the signing secret of an outbound webhook, a subscription or a contact method."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(MODELS))
        parser.add_argument("id", type=int)

    def handle(self, *args, kind, id, **options):  # noqa: A002 (the argument's name)
        row = MODELS[kind].objects.filter(pk=id).first()
        if row is None:
            raise CommandError(f"No {kind} with id {id}.")
        secret = signing_secret_rotate(row=row)
        self.stderr.write(
            f"New signing secret of {kind} {id} ({row}); the previous one also signs for "
            f"{settings.WEBHOOK_SECRET_GRACE_HOURS} h (X-Escalation-Signature-Previous):"
        )
        self.stdout.write(secret)
