from django.contrib import admin

from .models import Case, DiariumEntry, JournalEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["diarienummer", "title", "counterpart", "registered_at", "closed_at"]
    search_fields = ["diarienummer", "title", "counterpart"]


@admin.register(DiariumEntry)
class DiariumEntryAdmin(ReadOnlyAdmin):
    list_display = ["case", "entry_date", "direction", "counterpart", "description"]


@admin.register(JournalEvent)
class JournalEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "seq", "occurred_at", "actor_label", "action", "from_state", "to_state"]
    list_filter = ["action"]
