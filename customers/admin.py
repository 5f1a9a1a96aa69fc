"""Admin: the reference lists admins edit (business types, tiers, stages, custom attributes).

Customer cards are not edited here: their writes go through the services (encryption,
duplicate checks, audit), so the admin shows them read-only.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from customers.models import BusinessType, CustomAttribute, Customer, ServiceStage, Tier


@admin.register(BusinessType)
class BusinessTypeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "name_zh", "is_active")
    list_editable = ("is_active",)
    search_fields = ("code", "name", "name_zh")


@admin.register(Tier)
class TierAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "name_zh", "reverification_days", "rank", "is_active")
    list_editable = ("reverification_days", "rank", "is_active")


@admin.register(ServiceStage)
class ServiceStageAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "name_zh", "order", "is_active")
    list_editable = ("name", "name_zh", "order", "is_active")


@admin.register(CustomAttribute)
class CustomAttributeAdmin(SimpleHistoryAdmin):
    list_display = (
        "code",
        "label",
        "value_type",
        "business_type",
        "customer_kind",
        "sensitivity",
        "required",
    )
    list_filter = ("value_type", "sensitivity", "business_type")

    def save_model(self, request, obj, form, change):
        # Through the service: a change of sensitivity re-encrypts the values kept.
        from customers.services.attributes import custom_attribute_save

        custom_attribute_save(actor=request.user, attribute=obj)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Read-only overview; personal fields are not shown at all."""

    list_display = ("code", "kind", "status", "owner", "team", "business_type", "tier")
    list_filter = ("kind", "status", "business_type", "tier")
    search_fields = ("code",)
    fields = list_display

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("owner", "team", "business_type", "tier")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
