"""The pages where staff register an appeal and forward or dismiss it (workflows.appeals).
Thin: parse, call, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from arenden.errors import ServiceError
from arenden.http import report_error
from arenden.models import CaseRead
from arenden.reads import case_read_record
from bidrag import selectors as bidrag_selectors
from bidrag.roles import is_staff_reader
from bidrag.services.appeals import appeal_letter_content

from . import appeals, policy
from .appeal_forms import AppealForm, DismissForm, ForwardForm


def _staff_application(request, application_id):
    if not is_staff_reader(request.user):
        raise Http404
    return bidrag_selectors.application_get(actor=request.user, application_id=application_id)


def _back(application) -> str:
    return reverse("workflows:case_detail", args=[application.pk]) + "#overklaganden"


def _refused(request, application, error: ServiceError):
    status = report_error(request, error)
    return render(request, "workflows/refused.html", {"application": application, "back_to_case": True},
                  status=status)


@login_required
@require_http_methods(["GET", "POST"])
def appeal_register(request, application_id):
    application = _staff_application(request, application_id)
    try:
        policy.check_appeal(actor=request.user, application=application)
    except ServiceError as error:
        return _refused(request, application, error)
    posted = request.method == "POST"
    form = AppealForm(request.POST if posted else None, application=application)
    status = 200
    if posted:
        if form.is_valid():
            data = form.cleaned_data
            try:
                appeal = appeals.register(actor=request.user, application_id=application.pk,
                                          decision_id=data["decision"], received_on=data["received_on"],
                                          notified_on=data.get("notified_on"), summary=data["summary"])
            except ServiceError as error:
                status = report_error(request, error)
                for field, texts in (error.details or {}).get("fields", {}).items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
            else:
                if appeal.timely:
                    messages.success(request, _("Överklagandet är registrerat och kom in i tid. Lämna över det till "
                                                "domstolen."))
                else:
                    messages.warning(request, _("Överklagandet är registrerat men kom in för sent. En beslutsfattare "
                                                "prövar om det ska avvisas."))
                return redirect(_back(application))
        else:
            status = 400
    return render(request, "workflows/appeal_register.html", {"application": application, "form": form},
                  status=status)


@login_required
@require_POST
def appeal_forward(request, application_id, appeal_id):
    application = _staff_application(request, application_id)
    form = ForwardForm(request.POST)
    form.is_valid()
    try:
        appeal = appeals.forward(actor=request.user, application_id=application.pk, appeal_id=appeal_id,
                                 court=form.cleaned_data.get("court", ""))
    except ServiceError as error:
        return _refused(request, application, error)
    messages.success(request, _("Överklagandet är överlämnat till %(court)s.") % {"court": appeal.court})
    return redirect(_back(application))


@login_required
@require_POST
def appeal_dismiss(request, application_id, appeal_id):
    application = _staff_application(request, application_id)
    form = DismissForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Skälen för beslutet måste anges (FL 32 §)."))
        return render(request, "workflows/refused.html", {"application": application, "back_to_case": True},
                      status=400)
    try:
        appeals.dismiss(actor=request.user, application_id=application.pk, appeal_id=appeal_id,
                        reasons=form.cleaned_data["reasons"])
    except ServiceError as error:
        return _refused(request, application, error)
    messages.success(request, _("Överklagandet är avvisat. Beslutsbrevet skickas till sökanden."))
    return redirect(_back(application))


@login_required
@require_GET
def appeal_letter(request, application_id, appeal_id):
    """The översändelse sent to the court (FL 45 §), as stored and checked against its SHA-256."""
    letter = bidrag_selectors.appeal_letter_get(actor=request.user, application_id=application_id, appeal_id=appeal_id)
    application = bidrag_selectors.application_get(actor=request.user, application_id=application_id)
    try:
        content = appeal_letter_content(letter)
    except ServiceError as error:
        return _refused(request, application, error)
    case_read_record(actor=request.user, case_id=application.case_id, kind=CaseRead.Kind.COURT_LETTER,
                     object_id=letter.pk)
    response = HttpResponse(content, content_type="application/pdf")
    number = (application.case.diarienummer or "").replace("/", "-")
    response["Content-Disposition"] = f'attachment; filename="oversandelse-{number}-{letter.created_at:%Y-%m-%d}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
