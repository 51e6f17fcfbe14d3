"""The application as it was sent, its receipt (kvitto) and its decision letters as PDF.

The first two read the frozen SubmittedVersion, never the live rows; a letter is the PDF
stored when its decision was sent (bidrag.services.letters), checked against its SHA-256. Members of the applicant organisation and
staff who may read the case see them; anyone else gets 404.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from arenden.errors import ServiceError
from arenden.formatting import iso_day
from arenden.models import CaseRead
from arenden.reads import case_read_record

from . import selectors
from .models.submitted import SubmittedVersion
from .services.letters import letter_content, letter_issue
from .submitted import receipt_pdf


def _version(request, application_id) -> SubmittedVersion:
    application = selectors.application_get(actor=request.user, application_id=application_id)
    try:
        return SubmittedVersion.objects.select_related("application__case").get(application=application)
    except SubmittedVersion.DoesNotExist:
        raise Http404 from None  # not submitted: there is no version as sent


@login_required
@require_GET
def submitted_version(request, application_id):
    version = _version(request, application_id)
    case_read_record(actor=request.user, case_id=version.application.case_id, kind=CaseRead.Kind.SUBMITTED_VERSION)
    return render(request, "bidrag/submitted_version.html", {"version": version, "content": version.content,
                                                              "application": version.application})


@login_required
@require_GET
def receipt(request, application_id):
    version = _version(request, application_id)
    case_read_record(actor=request.user, case_id=version.application.case_id, kind=CaseRead.Kind.RECEIPT)
    response = HttpResponse(receipt_pdf(version), content_type="application/pdf")
    number = (version.application.case.diarienummer or "").replace("/", "-")
    response["Content-Disposition"] = f'attachment; filename="mottagningskvitto-{number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def decision_letter(request, application_id, decision_id):
    application = selectors.application_get(actor=request.user, application_id=application_id)
    try:
        decision = application.decisions.select_related(
            "application__case", "application__organisation", "application__call__scheme",
            "decided_by", "presented_by", "corrects",
        ).get(pk=decision_id)
    except (application.decisions.model.DoesNotExist, ValueError):
        raise Http404 from None
    try:
        # The letter as stored when it was issued; issued now if the worker has not got to it.
        content = letter_content(letter_issue(decision_id=decision.pk))
    except ServiceError as error:
        back = reverse("workflows:application_detail", args=[application.pk])
        return render(request, "bidrag/letter_unavailable.html", {"message": error.message, "back": back},
                      status=error.http_status)
    case_read_record(actor=request.user, case_id=application.case_id, kind=CaseRead.Kind.LETTER, object_id=decision.pk,
                     detail=iso_day(decision.decided_at))
    response = HttpResponse(content, content_type="application/pdf")
    number = (application.case.diarienummer or "").replace("/", "-")
    response["Content-Disposition"] = f'attachment; filename="beslut-{number}-{decision.decided_at:%Y-%m-%d}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
