"""Regimes and their reports are configuration, edited here (deadlines and templates change)."""

from django.contrib import admin

from .models import Regime, ReportType


class ReportTypeInline(admin.StackedInline):
    model = ReportType
    extra = 0
    fields = [
        ("code", "position"),
        ("name", "name_en"),
        ("anchor", "hours", "months", "cap_hours_from_aware"),
        ("contents", "contents_en"),
    ]


@admin.register(Regime)
class RegimeAdmin(admin.ModelAdmin):
    list_display = ["name", "authority", "applies_to_all", "is_active", "position"]
    list_editable = ["is_active", "position"]
    filter_horizontal = ["customers", "services", "notify"]
    inlines = [ReportTypeInline]
