from django.contrib import admin

from .models import Notification, Subscription, SubscriptionScope


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "template", "channel", "address", "status", "attempts")
    list_filter = ("status", "channel", "template")
    search_fields = ("address", "dedup_key")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SubscriptionScopeInline(admin.TabularInline):
    model = SubscriptionScope
    extra = 0


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    inlines = [SubscriptionScopeInline]
    list_display = ("address", "channel", "scope_label", "language", "confirmed_at", "is_active")
    list_filter = ("channel", "is_active", "scope")
    search_fields = ("address", "scope")


@admin.register(SubscriptionScope)
class SubscriptionScopeAdmin(admin.ModelAdmin):
    list_display = ("scope", "subscription")
    search_fields = ("scope", "subscription__address")
