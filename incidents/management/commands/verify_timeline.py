"""Verify the tamper-evident timeline: exit 0 when intact, 1 naming the first broken entry."""

from django.core.management.base import BaseCommand, CommandError

from incidents.models import Incident
from incidents.timeline import verify_all


class Command(BaseCommand):
    help = (
        "Recompute every incident's SHA-256 hash chain. Exits 0 when intact; otherwise prints the "
        "first broken entry of each affected incident and exits 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incident", type=int, help="verify only this incident (its id)")

    def handle(self, *args, incident=None, **options):
        ids = None
        if incident is not None:
            if not Incident.objects.filter(pk=incident).exists():
                raise CommandError(f"No incident with id {incident}.")
            ids = [incident]
        breaks = list(verify_all(ids))
        checked = 1 if ids else Incident.objects.count()
        if breaks:
            for problem in breaks:
                self.stderr.write(self.style.ERROR(f"BROKEN {problem}"))
            raise CommandError(
                f"{len(breaks)} of {checked} incident timelines are broken.", returncode=1
            )
        self.stdout.write(self.style.SUCCESS(f"OK: {checked} incident timelines intact."))
