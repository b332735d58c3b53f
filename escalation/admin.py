"""Admin for the process models, and the Incident admin whose lifecycle buttons call the workflow
services (the same ones the console and the API call)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models
from django.db.models import Value
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from incidents.admin import (
    IncidentEventAdmin,
    PublicIncidentAdmin,
    PublicIncidentUpdateAdmin,
    ReadOnlyAdmin,
    UpdateAdmin,
)
from incidents.exceptions import ApplicationError
from incidents.models import Incident, IncidentEvent, PublicIncident, PublicIncidentUpdate, Update
from notifications.admin import NotificationAdmin, SigningSecretAdmin, SubscriptionAdmin
from notifications.models import Notification, Subscription

from . import roles
from .forms import ACTION_FORMS, ACTION_LABELS, PublishUpdateForm
from .models import (
    AckLink,
    BusinessCalendar,
    Clock,
    CommunicationRule,
    ContactMethod,
    Contract,
    EscalationLevel,
    EscalationPolicy,
    EscalationRule,
    EscalationRun,
    EventWebhook,
    IdempotencyRecord,
    IncidentAlert,
    IncidentRole,
    Integration,
    LayerMember,
    NotificationRule,
    OnCallSchedule,
    Page,
    PenaltyClause,
    PriorityMatrixEntry,
    Question,
    ScheduleImport,
    ScheduleLayer,
    ScheduleOverride,
    SlaClock,
    SlaPause,
    SlaTarget,
)
from .selectors import incidents_readable_by
from .services import allowed_actions, incident_edit, incident_open, incident_perform
from .services.matrix import update_publish

# --- Scope: the admin reaches what the console and the API reach ------------------------------
#
# Django's admin checks model permissions only; which incidents a person works on is ours to say.
# Every admin of the incident or of a row that belongs to one narrows its queryset with the
# selector the console and the API use (escalation managers: all; responders: the incidents they
# are pulled into). The change list, change page, history, custom URLs and admin actions all read
# through get_queryset, so an incident outside the scope is "not found" everywhere in /admin/.


def restricted_incident_ids(user):
    """None when the user reaches every incident, else a subquery of the incidents they reach."""
    if user.is_superuser or user.groups.filter(name=roles.ESCALATION_MANAGER).exists():
        return None
    return incidents_readable_by(user, prefetch=False).values("pk")


class IncidentScopedAdmin(admin.ModelAdmin):
    """For rows of one incident (`incident_path` names the relation)."""

    incident_path = "incident"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        scope = restricted_incident_ids(request.user)
        if scope is None:
            return rows
        return rows.filter(**{f"{self.incident_path}__in": scope}).distinct()


# The incidents app's admins cannot import this one (dependencies point one way), so the rows of
# the record are re-registered here with the scope.
admin.site.unregister(Update)
admin.site.unregister(IncidentEvent)
admin.site.unregister(Notification)
admin.site.unregister(Subscription)
admin.site.unregister(PublicIncident)
admin.site.unregister(PublicIncidentUpdate)


@admin.register(PublicIncident)
class ScopedPublicIncidentAdmin(IncidentScopedAdmin, PublicIncidentAdmin):
    """A responder sees the public faces of the incidents they are pulled into."""

    incident_path = "incidents"


@admin.register(PublicIncidentUpdate)
class ScopedPublicIncidentUpdateAdmin(IncidentScopedAdmin, PublicIncidentUpdateAdmin):
    incident_path = "public_incident__incidents"


@admin.register(Update)
class ScopedUpdateAdmin(IncidentScopedAdmin, UpdateAdmin):
    pass


@admin.register(IncidentEvent)
class ScopedIncidentEventAdmin(IncidentScopedAdmin, IncidentEventAdmin):
    pass


@admin.register(Notification)
class ScopedNotificationAdmin(NotificationAdmin):
    """Messages about an incident (subject "incident:<id>") within the scope, and one's own."""

    def get_queryset(self, request):
        from django.db.models import CharField, Q
        from django.db.models.functions import Cast, Concat

        rows = super().get_queryset(request)
        scope = restricted_incident_ids(request.user)
        if scope is None:
            return rows
        subjects = (
            Incident.objects.filter(pk__in=scope)
            .annotate(subject=Concat(Value("incident:"), Cast("pk", output_field=CharField())))
            .values("subject")
        )
        return rows.filter(Q(subject__in=subjects) | Q(recipient=request.user))


@admin.register(Subscription)
class ScopedSubscriptionAdmin(SubscriptionAdmin):
    """Subscriptions are the customers' and the public's: escalation managers only."""

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows if restricted_incident_ids(request.user) is None else rows.none()


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
class IncidentAdmin(IncidentScopedAdmin):
    incident_path = "pk"

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
            incident_edit(
                incident=obj,
                actor=request.user,
                title=data["title"],
                description=data["description"],
                commander=data["commander"],
                services=list(data["services"]),
                customers=list(data["customers"]),
            )
        else:
            created = incident_open(
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
                "<int:pk>/publish-update/",
                self.admin_site.admin_view(self.publish_update_view),
                name="incidents_incident_publish_update",
            ),
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

    def publish_update_view(self, request, pk: int):
        """Write an update for one audience; the communication matrix sends it out."""
        incident = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm("incidents.add_update"):
            raise DjangoPermissionDenied
        form = PublishUpdateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                update_publish(incident=incident, actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
            else:
                self.message_user(request, _("The update was published."))
                return redirect(reverse("admin:incidents_incident_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": incident,
            "title": _("Publish an update"),
            "form": form,
            "action_label": _("Publish"),
        }
        return render(request, "admin/incidents/incident/action_form.html", context)

    def action_view(self, request, pk: int, action: str):
        incident = get_object_or_404(self.get_queryset(request), pk=pk)
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


# --- On call, policies, ladders, matrix --------------------------------------------------------


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "always_open", "country", "subdivision")


class LayerMemberInline(admin.TabularInline):
    model = LayerMember
    extra = 1
    autocomplete_fields = ("user",)


@admin.register(ScheduleLayer)
class ScheduleLayerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "schedule", "rotation", "shift_days", "start_date", "handoff_time")
    list_filter = ("schedule",)
    inlines = (LayerMemberInline,)


@admin.register(LayerMember)
class LayerMemberAdmin(admin.ModelAdmin):
    list_display = ("layer", "user", "position")


class ScheduleLayerInline(admin.TabularInline):
    model = ScheduleLayer
    extra = 0
    show_change_link = True
    fields = ("name", "position", "rotation", "shift_days", "start_date", "handoff_time")


class ScheduleOverrideInline(admin.TabularInline):
    model = ScheduleOverride
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(OnCallSchedule)
class OnCallScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "is_manager_on_duty")
    inlines = (ScheduleLayerInline, ScheduleOverrideInline)


@admin.register(ScheduleOverride)
class ScheduleOverrideAdmin(admin.ModelAdmin):
    list_display = ("schedule", "user", "start", "end", "reason")
    list_filter = ("schedule",)


class EscalationLevelInline(admin.StackedInline):
    model = EscalationLevel
    extra = 0
    filter_horizontal = ("users",)


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "repeat", "calendar", "wait_for_business_hours")
    filter_horizontal = ("services",)
    inlines = (EscalationLevelInline,)


@admin.register(EscalationLevel)
class EscalationLevelAdmin(admin.ModelAdmin):
    list_display = (
        "policy",
        "position",
        "timeout_minutes",
        "schedule",
        "group",
        "applies",
        "round_robin",
    )
    filter_horizontal = ("users",)


@admin.register(ContactMethod)
class ContactMethodAdmin(SigningSecretAdmin):
    list_display = ("user", "channel", "address", "label", "is_active")
    list_filter = ("channel",)
    readonly_fields = ("secret_hint",)


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    list_display = ("user", "delay_minutes", "contact_method")


@admin.register(CommunicationRule)
class CommunicationRuleAdmin(admin.ModelAdmin):
    list_display = (
        "position", "is_active", "priority", "customer", "service", "audience", "cadence_minutes",
    )  # fmt: skip
    list_editable = ("is_active",)
    list_filter = ("audience", "priority")
    filter_horizontal = ("users",)


_ReadOnly = ReadOnlyAdmin  # written by the engine only


@admin.register(EscalationRun)
class EscalationRunAdmin(IncidentScopedAdmin, _ReadOnly):
    list_display = ("incident", "policy_name", "status", "cycle", "level_index", "started_at")
    list_filter = ("status",)


@admin.register(Page)
class PageAdmin(IncidentScopedAdmin, _ReadOnly):
    list_display = ("incident", "user", "level_index", "cycle", "created_at")


@admin.register(IncidentRole)
class IncidentRoleAdmin(IncidentScopedAdmin, _ReadOnly):
    """Changed on the incident's page (People) or through the API, so on the timeline."""

    list_display = ("incident", "role", "user", "assigned_at", "ended_at")
    list_filter = ("role",)


@admin.register(ScheduleImport)
class ScheduleImportAdmin(_ReadOnly):
    """Made on the schedule's console page (import a file or a URL), refreshed hourly."""

    list_display = ("schedule", "url", "imported_at", "shifts", "error")


@admin.register(AckLink)
class AckLinkAdmin(IncidentScopedAdmin, _ReadOnly):
    list_display = ("incident", "user", "created_at", "expires_at", "used_at")


@admin.register(Clock)
class ClockAdmin(IncidentScopedAdmin, _ReadOnly):
    list_display = ("incident", "kind", "due_at", "status", "fired_at")
    list_filter = ("kind", "status")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(_ReadOnly):
    list_display = ("user", "key", "method", "path", "status_code", "created_at")


@admin.register(EventWebhook)
class EventWebhookAdmin(SigningSecretAdmin):
    list_display = ("name", "url", "events", "is_active")
    filter_horizontal = ("services",)
    exclude = ("secret",)
    readonly_fields = ("secret_hint",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "service", "is_active", "last_event_at")
    list_filter = ("kind", "is_active")
    readonly_fields = ("key", "last_event_at")
    filter_horizontal = ("routable_services",)


@admin.register(IncidentAlert)
class IncidentAlertAdmin(_ReadOnly):
    list_display = ("incident", "fingerprint", "first_seen_at", "last_seen_at", "resolved_at")
    list_select_related = ("incident",)


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0


class PenaltyClauseInline(admin.TabularInline):
    model = PenaltyClause
    extra = 0


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("name", "customer", "monthly_fee", "currency", "calendar", "is_active")
    list_filter = ("is_active", "customer")
    filter_horizontal = ("services",)
    inlines = [SlaTargetInline, PenaltyClauseInline]


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    list_display = ("contract", "priority", "response_minutes", "workaround_minutes")


@admin.register(PenaltyClause)
class PenaltyClauseAdmin(admin.ModelAdmin):
    list_display = ("contract", "target", "form", "amount", "fee_percent", "period_minutes")


@admin.register(SlaClock)
class SlaClockAdmin(IncidentScopedAdmin, _ReadOnly):
    list_display = ("incident", "contract", "target", "started_at", "deadline_at", "breached_at")


@admin.register(SlaPause)
class SlaPauseAdmin(IncidentScopedAdmin, _ReadOnly):
    list_display = ("incident", "contract", "started_at", "ended_at", "reason")


@admin.register(Question)
class QuestionAdmin(IncidentScopedAdmin, _ReadOnly):
    list_display = ("created_at", "asked_by", "incident", "answered_at")
