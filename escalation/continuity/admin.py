"""Admin of business continuity: the settings row (the crisis team's policy) is edited here;
processes and runbooks have their console pages (their writes go through the services there)."""

from django.contrib import admin

from .models import BusinessProcess, ContinuitySettings, Runbook


@admin.register(ContinuitySettings)
class ContinuitySettingsAdmin(admin.ModelAdmin):
    list_display = ("crisis_policy", "page_from")


@admin.register(BusinessProcess)
class BusinessProcessAdmin(admin.ModelAdmin):
    list_display = ("name", "rto_minutes", "mtpd_minutes", "is_active")
    search_fields = ("name", "slug")

    def has_add_permission(self, request) -> bool:
        return False  # the console's form (process_create checks the objectives)

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Runbook)
class RunbookAdmin(admin.ModelAdmin):
    list_display = ("title", "process", "service", "version", "is_active")

    def has_add_permission(self, request) -> bool:
        return False  # versions are made by runbook_revise

    def has_change_permission(self, request, obj=None) -> bool:
        return False
