"""The page where the registrar (or the case's officer) registers an item in a case's
diarium (workflows.diarium). Thin: parse, call, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from arenden.errors import ServiceError
from arenden.http import report_error
from bidrag import selectors as bidrag_selectors
from bidrag.roles import is_staff_reader

from . import policy
from .diarium import register_item
from .forms import SECRECY_SUGGESTIONS, DiariumItemForm


@login_required
@require_http_methods(["GET", "POST"])
def diarium_register(request, application_id):
    if not is_staff_reader(request.user):
        raise Http404
    application = bidrag_selectors.application_get(actor=request.user, application_id=application_id)
    try:
        policy.check_register_item(actor=request.user, application=application)
    except ServiceError as error:
        status = report_error(request, error)
        return render(request, "workflows/refused.html", {"application": application, "back_to_case": True},
                      status=status)
    posted = request.method == "POST"
    form = DiariumItemForm(request.POST if posted else None, request.FILES if posted else None)
    status = 200
    if posted:
        if form.is_valid():
            try:
                register_item(actor=request.user, application_id=application.pk, data=form.cleaned_data,
                              uploaded_file=form.cleaned_data.get("file"))
            except ServiceError as error:
                status = report_error(request, error)
                for field, texts in (error.details or {}).get("fields", {}).items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
            else:
                messages.success(request, _("Handlingen är diarieförd."))
                return redirect(reverse("workflows:case_detail", args=[application.pk]) + "#diarium")
        else:
            status = 400
    return render(
        request,
        "workflows/diarium_register.html",
        {"application": application, "form": form, "secrecy_suggestions": SECRECY_SUGGESTIONS},
        status=status,
    )
