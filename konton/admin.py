from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .models import EIdentity, LoginRecord, SecondFactorEvent
from .throttle import client_ip


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


@admin.register(SecondFactorEvent)
class SecondFactorEventAdmin(admin.ModelAdmin):
    """Backup codes made and used, and resets with the administrator who made them; written
    by konton.services only."""

    list_display = ["at", "user", "kind", "by", "codes_left", "ip_address"]
    list_filter = ["kind"]
    search_fields = ["user__username", "by__username", "ip_address"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description=_("Återställ tvåstegsverifieringen för de valda enheternas användare"), permissions=["delete"])
def second_factor_reset(modeladmin, request, queryset):
    """Every device of each chosen device's user goes (apps and backup codes); at their next
    login they set up a new app. Recorded with the administrator who did it."""
    if not services.is_administrator(request.user):
        raise PermissionDenied
    users = {device.user for device in queryset.select_related("user")}
    for user in sorted(users, key=lambda u: u.get_username()):
        services.second_factor_reset(user=user, by=request.user, ip_address=client_ip(request))
    modeladmin.message_user(
        request,
        ngettext(
            "Tvåstegsverifieringen är återställd för %(users)s. Vid nästa inloggning lägger användaren till appen på nytt.",
            "Tvåstegsverifieringen är återställd för %(users)s. Vid nästa inloggning lägger användarna till appen på nytt.",
            len(users),
        ) % {"users": ", ".join(sorted(u.get_username() for u in users))},
        messages.SUCCESS,
    )


class ResettableTOTPDeviceAdmin(TOTPDeviceAdmin):
    actions = [second_factor_reset]


class BackupCodeDeviceAdmin(StaticDeviceAdmin):
    """django-otp's admin for backup codes, without the codes themselves: they are shown
    once, to their owner; here only how many are left."""

    list_display = ["user", "name", "codes_left", "created_at", "last_used_at", "confirmed"]
    readonly_fields = ["created_at", "last_used_at", "codes_left"]
    actions = [second_factor_reset]

    def get_inline_instances(self, request, obj=None):
        return []

    def has_add_permission(self, request):
        return False

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": ["user", "name", "confirmed", "codes_left", "created_at", "last_used_at"]})]

    @admin.display(description=_("oanvända reservkoder"))
    def codes_left(self, obj: StaticDevice) -> int:
        return obj.token_set.count()


for model, model_admin in ((TOTPDevice, ResettableTOTPDeviceAdmin), (StaticDevice, BackupCodeDeviceAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
