"""Create a monitoring integration and print its key:
`create_integration --kind events-v2|alertmanager --service SLUG [--name N]`."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from escalation.models import Integration
from escalation.services.integrations import integration_create
from incidents.models import Service

KINDS = {"events-v2": Integration.Kind.EVENTS_V2, "alertmanager": Integration.Kind.ALERTMANAGER}


class Command(BaseCommand):
    help = "Create an Events API v2 or Alertmanager integration for a service; prints its key."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=sorted(KINDS))
        parser.add_argument("--service", required=True, help="service slug")
        parser.add_argument("--name", default="")

    def handle(self, *args, kind, service, name, **options):
        target = Service.objects.filter(slug=service).first()
        if target is None:
            raise CommandError(f"No service with slug {service!r}.")
        integration = integration_create(kind=KINDS[kind], service=target, name=name)
        base = settings.BASE_URL
        if integration.kind == Integration.Kind.EVENTS_V2:
            self.stderr.write(
                f"Events API v2: POST {base}/api/v1/integrations/events/v2/enqueue "
                "with this routing_key:"
            )
        else:
            self.stderr.write(
                f"Alertmanager webhook_configs url: "
                f"{base}/api/v1/integrations/alertmanager/{integration.key}/ ; the key:"
            )
        self.stdout.write(integration.key)
