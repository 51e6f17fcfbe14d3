from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import EIdentity, LoginRecord


class SamordningsnummerFilter(admin.SimpleListFilter):
    """Samordningsnummer have 61-91 as the day: the seventh digit of twelve is 6-9."""

    title = _("samordningsnummer")
    parameter_name = "samordningsnummer"

    def lookups(self, request, model_admin):
        return [("ja", _("Samordningsnummer")), ("nej", _("Personnummer"))]

    def queryset(self, request, queryset):
        if self.value() == "ja":
            return queryset.filter(personnummer__regex=r"^[0-9]{6}[6-9]")
        if self.value() == "nej":
            return queryset.exclude(personnummer__regex=r"^[0-9]{6}[6-9]")
        return queryset


@admin.register(EIdentity)
class EIdentityAdmin(admin.ModelAdmin):
    """An administrator may tie a staff member's personnummer to their account, so that
    they log in with e-ID when password login is off; everything else comes from the e-ID."""

    list_display = ["user", "masked_personnummer", "samordningsnummer", "issuer", "last_acr", "last_auth_time"]
    list_filter = [SamordningsnummerFilter]
    search_fields = ["user__username", "user__first_name", "user__last_name", "personnummer"]
    readonly_fields = ["issuer", "subject", "last_acr", "last_auth_time", "created_at", "updated_at"]
    raw_id_fields = ["user"]

    @admin.display(description="personnummer")
    def masked_personnummer(self, obj: EIdentity) -> str:
        return str(obj)

    @admin.display(description=_("samordningsnummer"), boolean=True)
    def samordningsnummer(self, obj: EIdentity) -> bool:
        return obj.is_samordningsnummer


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
