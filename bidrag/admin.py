"""Administration: schemes, calls, organisations and their members. Applications and
decisions are read-only here: cases are decided through the workflow, never in admin."""

from django.contrib import admin

from arenden.admin import ReadOnlyAdmin

from .models import Application, Call, CallTrack, Decision, GrantScheme, Membership, Organisation


class MembershipInline(admin.TabularInline):
    """Members are seen here; a signing mandate is confirmed only by a registrar on the
    staff page (recorded append-only, with jäv checked), never by editing a field here."""

    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "mandate_state", "mandate_confirmed_by", "mandate_confirmed_at"]
    readonly_fields = ["role", "mandate_state", "mandate_confirmed_by", "mandate_confirmed_at"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "orgnr_display", "kommunkod", "email"]
    search_fields = ["name", "orgnr", "kommunkod"]
    inlines = [MembershipInline]


@admin.register(GrantScheme)
class GrantSchemeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "ceiling", "max_duration_months"]


class CallTrackInline(admin.TabularInline):
    model = CallTrack
    extra = 0
    fields = ["position", "name", "ceiling", "description"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["title", "scheme", "opens_at", "closes_at", "budget"]
    list_filter = ["scheme"]
    inlines = [CallTrackInline]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["title", "organisation", "call", "status", "submitted_at"]
    list_filter = ["status", "call"]
    search_fields = ["title", "case__diarienummer", "organisation__name"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["application", "outcome", "amount", "decided_by", "decided_at"]
    list_filter = ["outcome"]
