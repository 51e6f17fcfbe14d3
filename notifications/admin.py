from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import (
    DeadLetter,
    MessageLanguage,
    Notice,
    OutboxMessage,
    OutboxResend,
    ReminderSent,
    StaffDigestRun,
    StaffDigestSetting,
)
from .services import outbox_resend


class OutboxResendInline(admin.TabularInline):
    model = OutboxResend
    fields = ["at", "by", "via", "attempts_before", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description=_("Skicka igen"), permissions=["change"])
def send_again(modeladmin, request, queryset):
    """Dead letters among the chosen ones get a new round of attempts; recorded with who asked."""
    chosen = list(queryset.values_list("pk", flat=True))
    count = outbox_resend(actor=request.user, message_ids=chosen, via=OutboxResend.Via.ADMIN)
    modeladmin.message_user(
        request,
        ngettext("%(count)d meddelande köat för att skickas igen.",
                 "%(count)d meddelanden köade för att skickas igen.", count) % {"count": count},
        messages.SUCCESS,
    )
    if count < len(chosen):
        modeladmin.message_user(request, _("Bara olevererade meddelanden skickas igen; övriga lämnades som de var."),
                                messages.WARNING)


class _ReadOnlyOutboxAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "recipient", "subject", "status", "attempts", "unconfirmed_attempts",
                    "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["recipient", "reference", "subject", "message_id"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields if f.name != "raw"]  # raw: bytes, not for a page
    inlines = [OutboxResendInline]
    actions = [send_again]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(_ReadOnlyOutboxAdmin):
    pass


@admin.register(DeadLetter)
class DeadLetterAdmin(_ReadOnlyOutboxAdmin):
    """Messages given up after OUTBOX_MAX_ATTEMPTS: choose them and "Skicka igen"."""

    # unconfirmed_attempts > 0: the server may have the message already; sending again may double it.
    list_display = ["created_at", "kind", "recipient", "subject", "attempts", "unconfirmed_attempts", "last_error"]
    list_filter = ["kind"]


class _ReadOnly(admin.ModelAdmin):
    """Written by the system only: the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notice)
class NoticeAdmin(_ReadOnly):
    list_display = ["created_at", "user", "kind", "subject", "read_at"]
    list_filter = ["kind"]
    search_fields = ["reference", "subject"]
    readonly_fields = ["id", "user", "kind", "reference", "subject", "body", "link", "created_at", "read_at"]
    show_full_result_count = False


@admin.register(ReminderSent)
class ReminderSentAdmin(_ReadOnly):
    list_display = ["sent_at", "kind", "reference", "offset_days"]
    list_filter = ["kind", "offset_days"]
    search_fields = ["reference"]
    readonly_fields = ["kind", "reference", "offset_days", "sent_at"]


@admin.register(MessageLanguage)
class MessageLanguageAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "updated_at"]
    list_filter = ["language"]
    raw_id_fields = ["user"]


@admin.register(StaffDigestRun)
class StaffDigestRunAdmin(_ReadOnly):
    """Each person's digest of each day: sent, nothing new, or the e-mail turned off."""

    list_display = ["day", "user", "outcome", "period_start", "period_end"]
    list_filter = ["outcome", "day"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["user", "day", "period_start", "period_end", "notices_until", "outcome", "overdue", "counts"]


@admin.register(StaffDigestSetting)
class StaffDigestSettingAdmin(_ReadOnly):
    """The person's own choice (the page Inställningar): shown here, changed only by them."""

    list_display = ["user", "email_enabled", "updated_at"]
    list_filter = ["email_enabled"]
    readonly_fields = ["user", "email_enabled", "updated_at"]
