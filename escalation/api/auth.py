"""Bearer tokens and who may do what through the API."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from incidents.auth import token_for, token_used
from incidents.models import ApiToken
from incidents.selectors import role_of


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`; the token acts with its user's role, within its scope."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _space, key = header.partition(" ")
        if keyword != self.keyword:
            return None
        token = token_for(ApiToken.hash(key.strip()))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            token_used(token, now)  # at most once a minute
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class ApiAccess(permissions.BasePermission):
    """Reads for everyone with a role; writes only for staff, with a write-scoped token (or a
    session), and never for executives or customers. Ingest-scoped tokens only ingest."""

    message = gettext_lazy("You may not do this.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is not None and token.scope == ApiToken.Scope.INGEST:
            return getattr(view, "ingest", False)
        role = role_of(user)
        if role == "none":
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if token is not None and token.scope != ApiToken.Scope.WRITE:
            self.message = _("This token is read-only.")
            return False
        if role != "staff":
            self.message = _("Your role is read-only.")
            return False
        return True


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents the bearer tokens in the OpenAPI schema."""

    target_class = "escalation.api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "manage.py create_api_token"}
