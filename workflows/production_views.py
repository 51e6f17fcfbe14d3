"""*Lämna ut handlingar* (workflows.production): the page where the registrar or the case's
officer reviews each item of a case and produces the ZIP, the production's own page and its
download. Thin: parse, call, render. Anyone but staff gets 404; staff who may only read (an
auditor) are refused the form, and read the production in the journal and on its page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from arenden.errors import ServiceError
from arenden.formatting import iso_day
from arenden.http import report_error
from arenden.models import CaseRead
from arenden.production import RELEASE_LABELS, Release, production_event, production_open, productions_of
from arenden.reads import case_read_record
from bidrag import selectors as bidrag_selectors
from bidrag.roles import Role, is_staff_reader, user_roles

from . import policy
from .forms import SECRECY_SUGGESTIONS
from .production import may_produce, produce_documents, production_items
from .production_forms import ProductionForm


def _application(request, application_id):
    if not is_staff_reader(request.user):
        raise Http404
    return bidrag_selectors.application_get(actor=request.user, application_id=application_id)


@login_required
@require_http_methods(["GET", "POST"])
def production(request, application_id):
    application = _application(request, application_id)
    try:
        policy.check_produce_documents(actor=request.user, application=application)
    except ServiceError as error:
        status = report_error(request, error)
        return render(request, "workflows/refused.html", {"application": application, "back_to_case": True},
                      status=status)
    items = production_items(application)
    posted = request.method == "POST"
    if not posted:
        case_read_record(actor=request.user, case_id=application.case_id, kind=CaseRead.Kind.CASE_PAGE,
                         detail=_("Lämna ut handlingar"))
    form = ProductionForm(request.POST if posted else None, request.FILES if posted else None, items=items)
    status = 200
    if posted:
        if form.is_valid():
            try:
                done = produce_documents(actor=request.user, application_id=application.pk,
                                         recipient=form.cleaned_data.get("recipient", ""), choices=form.choices())
            except ServiceError as error:
                status = report_error(request, error)
                for field, texts in (error.details or {}).get("fields", {}).items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
            else:
                messages.success(request, _("Handlingarna är utlämnade och utlämnandet är journalfört."))
                return redirect("workflows:production_detail", application_id=application.pk,
                                production_id=done.production_id)
        else:
            status = 400
    return render(request, "workflows/production.html", {
        "application": application, "form": form, "rows": form.rows(), "secrecy_suggestions": SECRECY_SUGGESTIONS,
        "productions": [_summary(event) for event in productions_of(case_id=application.case_id)],
    }, status=status)


def _summary(event) -> dict:
    payload = event.payload or {}
    return {
        "event": event, "id": payload.get("production"), "recipient": payload.get("recipient", ""),
        "released": len(payload.get("released", [])), "redacted": len(payload.get("redacted", [])),
        "withheld": len(payload.get("withheld", [])), "sha256": payload.get("sha256", ""),
        "size": payload.get("size", 0),
        "items": [{**row, "release_label": RELEASE_LABELS[Release(row["release"])]}
                  for row in payload.get("items", []) if row.get("release") in {r.value for r in Release}],
    }


def _production_event(request, application_id, production_id):
    """The production journaled on a case the reader may read; foreign or missing: 404. Jäv
    (FL 16 §): the declarer sees no more of the case than its diarium entry."""
    application = _application(request, application_id)
    if policy.is_barred(request.user, application):
        raise Http404
    event = production_event(case_id=application.case_id, production_id=production_id)
    if event is None:
        raise Http404
    return application, event


@login_required
@require_GET
def production_detail(request, application_id, production_id):
    application, event = _production_event(request, application_id, production_id)
    case_read_record(actor=request.user, case_id=application.case_id, kind=CaseRead.Kind.CASE_PAGE,
                     object_id=production_id, detail=_("Utlämnande %(day)s") % {"day": iso_day(event.occurred_at)})
    return render(request, "workflows/production_detail.html", {
        "application": application, "production": _summary(event),
        "may_produce": may_produce(request.user, application),
        "is_auditor": Role.AUDITOR in user_roles(request.user),
    })


@login_required
@require_GET
def production_download(request, application_id, production_id):
    """The ZIP as stored, served only if it still has the SHA-256 the journal recorded."""
    application, event = _production_event(request, application_id, production_id)
    try:
        handle = production_open(event)
    except ServiceError as error:
        status = report_error(request, error)
        return render(request, "workflows/refused.html", {"application": application, "back_to_case": True},
                      status=status)
    case_read_record(actor=request.user, case_id=application.case_id, kind=CaseRead.Kind.ATTACHMENT,
                     object_id=production_id, detail=_("Utlämnande %(day)s") % {"day": iso_day(event.occurred_at)})
    number = (application.case.diarienummer or "").replace("/", "-")
    response = FileResponse(handle, as_attachment=True, content_type="application/zip",
                            filename=f"utlamnande-{number}-{event.occurred_at:%Y-%m-%d}.zip")
    response["Cache-Control"] = "private, no-store"
    return response
