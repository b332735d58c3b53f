"""Admin for the record.

The Incident admin (with the lifecycle buttons) lives in escalation/admin.py,
because its buttons call the escalation workflow services and this app imports no other app."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import (
    ApiToken,
    Customer,
    Heartbeat,
    IncidentEvent,
    PublicIncident,
    PublicIncidentUpdate,
    Service,
    ServiceGroup,
    Update,
    User,
)
from .services import api_token_revoke, service_save


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Escalation Manager"), {"fields": ("language", "time_zone", "customer")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "customer", "is_staff")
    list_filter = ("groups", "customer", "is_staff", "is_active")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "language", "time_zone", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug")


@admin.register(ServiceGroup)
class ServiceGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "group", "is_private", "position")
    list_filter = ("group", "is_private")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("customers",)
    search_fields = ("name", "slug")

    def save_model(self, request, obj, form, change):
        service_save(service=obj, actor=request.user)  # re-renders the public status page


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that are written only by services: look, never touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Update)
class UpdateAdmin(ReadOnlyAdmin):
    list_display = ("incident", "audience", "author", "created_at")
    list_filter = ("audience",)
    list_select_related = ("incident", "author")


@admin.register(PublicIncident)
class PublicIncidentAdmin(ReadOnlyAdmin):
    """Written by the public-incident services (console, API), which also inform customers."""

    list_display = ("title", "status", "published_at", "resolved_at", "published_by")
    list_filter = ("status",)


@admin.register(PublicIncidentUpdate)
class PublicIncidentUpdateAdmin(ReadOnlyAdmin):
    list_display = ("public_incident", "kind", "status", "author", "created_at")
    list_filter = ("kind", "status")


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnlyAdmin):
    list_display = (
        "incident",
        "seq",
        "kind",
        "actor_label",
        "from_state",
        "to_state",
        "created_at",
    )
    list_filter = ("kind",)
    list_select_related = ("incident",)
    search_fields = ("hash", "incident__title")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope",)
    readonly_fields = ("user", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    fields = ("user", "name", "scope", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # created with `manage.py create_api_token`, which shows the key once

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    """When the Celery worker and beat last gave a sign of life (also /healthz and /metrics)."""

    list_display = ("name", "at")
