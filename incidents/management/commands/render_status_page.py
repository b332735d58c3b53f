"""Render the public status page now (every artefact and language) into STATUS_PAGE_DIR."""

from django.core.management.base import BaseCommand

from incidents.statuspage.render import render_status_page


class Command(BaseCommand):
    help = "Render the public status page (HTML, feeds, JSON) into STATUS_PAGE_DIR now."

    def handle(self, *args, **options):
        result = render_status_page()
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Status page rendered into {result.directory}: {result.files} files, "
                f"{len(result.changed)} changed."
            )
