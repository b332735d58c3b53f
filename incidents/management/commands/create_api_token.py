"""Create an API token for a user and print it once: `create_api_token USER [--scope ...]`."""

from django.core.management.base import BaseCommand, CommandError

from incidents.exceptions import InvalidInput
from incidents.models import ApiToken, User
from incidents.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token (printed once; only its hash is stored). Revoke it in the admin."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scope", default="read", choices=ApiToken.Scope.values)
        parser.add_argument("--name", default="")

    def handle(self, *args, username, scope, name, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        try:
            token, key = api_token_create(user=user, scope=scope, name=name)
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"Token {token.prefix}… for {username} (scope {scope}), shown once:")
        self.stdout.write(key)
