from django.contrib import admin

from .models import EIdentity, LoginRecord


@admin.register(EIdentity)
class EIdentityAdmin(admin.ModelAdmin):
    """An administrator may tie a staff member's personnummer to their account, so that
    they log in with e-ID when password login is off; everything else comes from the e-ID."""

    list_display = ["user", "masked_personnummer", "issuer", "last_acr", "last_auth_time"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "personnummer"]
    readonly_fields = ["issuer", "subject", "last_acr", "last_auth_time", "created_at", "updated_at"]
    raw_id_fields = ["user"]

    @admin.display(description="personnummer")
    def masked_personnummer(self, obj: EIdentity) -> str:
        return str(obj)


@admin.register(LoginRecord)
class LoginRecordAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "method", "acr", "ip_address"]
    list_filter = ["method", "acr"]
    search_fields = ["user__username", "ip_address"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
