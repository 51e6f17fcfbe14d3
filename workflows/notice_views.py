"""Meddelanden: a person's own notices (keyset-paged), marking them read, and the
administrators' preview of every message kind in both languages.

Thin: parse, call notifications (its selectors and services), render. A notice that is not
the person's own answers 404, like one that does not exist. The preview is for
administrators (superusers) only; anyone else gets the same 404 as for a missing page.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from arenden.keyset import keyset_page
from notifications.messages import KINDS, LANGUAGES, message_language_set, message_render, sample_context
from notifications.notices import NOTICE_ORDER, notice_mark_read, notices_for, notices_mark_all_read

PAGE_SIZE = 25


@require_GET
@login_required
def notice_list(request):
    page = keyset_page(notices_for(user=request.user), ordering=NOTICE_ORDER, params=request.GET, size=PAGE_SIZE)
    return render(request, "workflows/notice_list.html", {"notices": page.rows, "page": page})


@require_POST
@login_required
def notice_read(request, notice_id):
    notice = notice_mark_read(user=request.user, notice_id=notice_id)
    if notice is None:
        raise Http404
    if request.POST.get("open") and notice.link.startswith("/") and not notice.link.startswith("//"):
        return redirect(notice.link)  # a path this site wrote, never one from the request
    return redirect("notices:list")


@require_POST
@login_required
def notice_read_all(request):
    notices_mark_all_read(user=request.user)
    return redirect("notices:list")


@require_GET
@login_required
def message_preview(request):
    if not request.user.is_superuser:
        raise Http404
    kinds = [
        {"kind": kind, "languages": [
            {"language": language, "message": message_render(kind=kind, context=sample_context(kind), language=language)}
            for language in LANGUAGES
        ]}
        for kind in KINDS
    ]
    return render(request, "workflows/message_preview.html", {"kinds": kinds})


def language_set(request):
    """Django's language switch (the cookie for the pages), and for a logged-in person also
    the language of their messages: e-mail and notices are written in what they chose."""
    response = set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        message_language_set(user=request.user, language=request.POST.get("language", ""))
    return response
