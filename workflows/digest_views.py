"""The staff's own setting for the daily digest e-mail (issue 8): on or off, per person.

Thin: parse, call notifications.digest, render. Only people who can get a digest (staff,
administrators) have the page; anyone else gets the same 404 as for a missing page. The
notices in the service come whatever is chosen here.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bidrag.roles import Role, is_staff_reader, user_roles
from notifications.digest import digest_email_enabled, digest_email_set

ON, OFF = "pa", "av"


def _gets_digests(user) -> bool:
    return is_staff_reader(user) or user.is_superuser or Role.ADMINISTRATOR in user_roles(user)


@require_http_methods(["GET", "POST"])
@login_required
def digest_settings(request):
    if not _gets_digests(request.user):
        raise Http404
    if request.method == "POST":
        choice = request.POST.get("digest")
        if choice not in (ON, OFF):
            messages.error(request, _("Välj om du vill få sammanfattningen med e-post."))
        else:
            digest_email_set(user=request.user, enabled=choice == ON)
            messages.success(request, _("Den dagliga sammanfattningen kommer med e-post.") if choice == ON
                             else _("Den dagliga sammanfattningen kommer inte längre med e-post."))
            return redirect("notices:digest_settings")
    return render(request, "workflows/digest_settings.html", {
        "enabled": digest_email_enabled(user=request.user), "on": ON, "off": OFF,
    })
