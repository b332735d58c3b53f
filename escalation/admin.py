"""Admin for the process models, and the Incident admin whose lifecycle buttons call the workflow
services (the same ones the console and the API call)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from incidents.exceptions import ApplicationError
from incidents.models import Incident, IncidentEvent, Update
from incidents.services import incident_create, incident_update_details

from .forms import ACTION_FORMS, ACTION_LABELS
from .models import EscalationRule, PriorityMatrixEntry
from .services import allowed_actions, incident_perform


@admin.register(PriorityMatrixEntry)
class PriorityMatrixEntryAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)
    list_display_links = None


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "is_active", "max_priority", "auto_escalate")
    list_editable = ("position", "is_active")
    filter_horizontal = ("services", "customers")


class TimelineInline(admin.TabularInline):
    model = IncidentEvent
    fields = ("seq", "created_at", "kind", "actor_label", "from_state", "to_state", "data", "hash")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("seq",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class UpdateInline(admin.TabularInline):
    model = Update
    fields = ("created_at", "audience", "author", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    change_form_template = "admin/incidents/incident/change_form.html"
    list_display = ("id", "title", "state", "priority", "commander", "detected_at", "source")
    list_filter = ("state", "priority", "source", "services", "customers")
    list_select_related = ("commander",)
    search_fields = ("title", "dedup_key")
    date_hierarchy = "detected_at"
    filter_horizontal = ("services", "customers")
    inlines = (UpdateInline, TimelineInline)
    readonly_fields = (
        "state",
        "impact",
        "urgency",
        "priority",
        "escalation_required",
        "escalation_rule",
        "escalation_reason",
        "workaround",
        "resolution",
        "review",
        "source",
        "dedup_key",
        "detected_at",
        "acknowledged_at",
        "classified_at",
        "escalated_at",
        "workaround_at",
        "resolved_at",
        "closed_at",
        "updated_at",
        "timeline_length",
        "timeline_head",
    )
    fieldsets = (
        (None, {"fields": ("title", "description", "services", "customers", "commander")}),
        (
            _("Lifecycle"),
            {
                "fields": (
                    "state",
                    ("impact", "urgency", "priority"),
                    ("escalation_required", "escalation_rule"),
                    "escalation_reason",
                    "workaround",
                    "resolution",
                    "review",
                )
            },
        ),
        (
            _("Times"),
            {
                "fields": (
                    ("detected_at", "acknowledged_at", "classified_at"),
                    ("escalated_at", "workaround_at"),
                    ("resolved_at", "closed_at", "updated_at"),
                )
            },
        ),
        (
            _("Source and integrity"),
            {"fields": (("source", "dedup_key"), ("timeline_length", "timeline_head"))},
        ),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # adding: only what a person describes; the rest comes from the lifecycle
            return (
                (None, {"fields": ("title", "description", "services", "customers", "commander")}),
            )
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # incidents are evidence; they are closed, never deleted

    # Writes go through the services, never through ModelForm.save().
    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            incident_update_details(
                incident=obj,
                actor=request.user,
                title=data["title"],
                description=data["description"],
                commander=data["commander"],
                services=list(data["services"]),
                customers=list(data["customers"]),
            )
        else:
            created = incident_create(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                services=list(data["services"]),
                customers=list(data["customers"]),
                commander=data["commander"],
            )
            obj.pk = created.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # Services and customers were set by the service above; the inlines are read-only, so
        # their formsets save nothing (commit=False only fills in what the change message reads).
        for formset in formsets:
            formset.save(commit=False)

    def get_urls(self):
        return [
            path(
                "<int:pk>/action/<str:action>/",
                self.admin_site.admin_view(self.action_view),
                name="incidents_incident_action",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        incident = self.get_object(request, object_id)
        if incident is not None:
            extra_context["lifecycle_actions"] = [
                (action, ACTION_LABELS[action])
                for action in allowed_actions(incident, request.user)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def action_view(self, request, pk: int, action: str):
        incident = get_object_or_404(Incident, pk=pk)
        if action not in ACTION_FORMS:
            raise DjangoPermissionDenied
        if not self.has_view_permission(request, incident):
            raise DjangoPermissionDenied
        form = ACTION_FORMS[action](request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                incident_perform(
                    incident=incident, actor=request.user, action=action, data=form.cleaned_data
                )
            except ApplicationError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
            else:
                self.message_user(
                    request, _("Done: %(action)s.") % {"action": ACTION_LABELS[action]}
                )
                return redirect(reverse("admin:incidents_incident_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": incident,
            "title": f"{ACTION_LABELS[action]}: {incident}",
            "form": form,
            "action": action,
            "action_label": ACTION_LABELS[action],
        }
        return render(request, "admin/incidents/incident/action_form.html", context)
