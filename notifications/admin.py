from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import Notification, Subscription, SubscriptionRequest, SubscriptionScope
from .services import subscription_approve
from .signing_secrets import signing_secret_rotate


class SigningSecretAdmin(admin.ModelAdmin):
    """A receiver's webhook signing secret: shown in full once (after it is created or rotated),
    otherwise only its first characters; rotated by an admin action."""

    actions = ["rotate_signing_secret"]

    @admin.display(description=_("signing secret"))
    def secret_hint(self, obj) -> str:
        return f"{obj.secret[:10]}…" if obj and obj.secret else "-"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            self._show_secret(request, obj, obj.secret)

    def _show_secret(self, request, obj, secret: str) -> None:
        messages.warning(
            request,
            _("Signing secret of “%(name)s” (shown only now; give it to the receiver): %(secret)s")
            % {"name": obj, "secret": secret},
        )

    @admin.action(description=_("Rotate the signing secret"))
    def rotate_signing_secret(self, request, queryset):
        for obj in queryset:
            self._show_secret(request, obj, signing_secret_rotate(row=obj))


# A receiver's signing secret is shown once where it is managed, never beside each message.
SECRETS = ("signing_secret", "previous_signing_secret")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "template", "channel", "address", "status", "attempts")
    list_filter = ("status", "channel", "template")
    search_fields = ("address", "dedup_key")
    exclude = SECRETS
    readonly_fields = [f.name for f in Notification._meta.fields if f.name not in SECRETS]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SubscriptionScopeInline(admin.TabularInline):
    model = SubscriptionScope
    extra = 0


@admin.register(Subscription)
class SubscriptionAdmin(SigningSecretAdmin):
    inlines = [SubscriptionScopeInline]
    list_display = (
        "address", "channel", "scope_label", "language", "needs_approval", "confirmed_at",
        "is_active",
    )  # fmt: skip
    list_filter = ("needs_approval", "channel", "is_active", "scope")
    search_fields = ("address", "scope")
    readonly_fields = ("secret_hint", "client_address", "needs_approval", "approved_at")
    actions = ["approve", "rotate_signing_secret"]

    @admin.action(description=_("Approve (send the confirmation request)"))
    def approve(self, request, queryset):
        approved = [
            subscription_approve(subscription=s) for s in queryset.filter(needs_approval=True)
        ]
        messages.success(request, _("%(count)d subscriptions approved.") % {"count": len(approved)})


@admin.register(SubscriptionScope)
class SubscriptionScopeAdmin(admin.ModelAdmin):
    list_display = ("scope", "subscription")
    search_fields = ("scope", "subscription__address")


@admin.register(SubscriptionRequest)
class SubscriptionRequestAdmin(admin.ModelAdmin):
    """Who asked for subscriptions lately (the throttle counts these rows); read only."""

    list_display = ("created_at", "client_address")
    readonly_fields = ("address_digest", "client_address", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
