"""Applicant pages that read applications and edit drafts. Thin: parse, call, render.

Views that move an application between states live in workflows.views.
"""

import uuid
from urllib.parse import unquote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from arenden.errors import NotFound, ServiceError
from arenden.http import report_error
from arenden.models import CaseRead
from arenden.reads import case_read_record
from arenden.uploads import drain_request_body, request_body_upload, streamed_uploads

from . import selectors, services
from .draft_views import _organisation_form, render_step, step_url, summary_slug
from .forms import ApplicationCreateForm, AttachmentForm, BudgetLineForm
from .models.application import Status
from .roles import is_staff_reader


@login_required
def home(request):
    if is_staff_reader(request.user):
        # Staff with a queue land in it; the queue sends readers without one to all cases.
        return redirect("workflows:queue")
    return redirect("bidrag:application_list")


@login_required
def application_list(request):
    applications = selectors.application_list(actor=request.user).filter(
        organisation__memberships__user=request.user
    )
    return render(
        request,
        "bidrag/application_list.html",
        {"applications": applications, "calls": selectors.open_calls(), "can_create": selectors.organisations_for(actor=request.user).exists()},
    )


def _error_at_field(request, form, error: ServiceError) -> int:
    """A service refusal that names a field of `form` is shown at that field; others in the banner."""
    field = error.details.get("field")
    if form is not None and field in form.fields:
        form.add_error(field, str(error.message))
        return error.http_status
    return report_error(request, error)


def _call_from_link(request):
    """The open call `?utlysning=<id>` names (the public call page links here), or None."""
    call_id = request.GET.get("utlysning")
    if not call_id:
        return None
    call = selectors.open_calls().filter(pk=call_id).first() if _is_uuid(call_id) else None
    if call is None:
        messages.info(request, _("Utlysningen i länken är inte öppen för ansökningar. Välj en öppen utlysning."))
    return call


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def application_create(request):
    organisations = selectors.organisations_for(actor=request.user).order_by("name")
    form = ApplicationCreateForm(
        request.POST if request.method == "POST" else None,
        organisations=organisations,
        calls=selectors.open_calls(),
        call=_call_from_link(request) if request.method == "GET" else None,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                application = services.application_create(
                    actor=request.user,
                    organisation=form.cleaned_data["organisation"],
                    call=form.cleaned_data["call"],
                    title=form.cleaned_data["title"],
                    track=form.cleaned_data["track"],
                )
            except ServiceError as error:
                status = _error_at_field(request, form, error)
            else:
                messages.success(request, _("Utkastet är skapat. Fyll i ansökan steg för steg; allt sparas som utkast."))
                return redirect("bidrag:application_edit", application_id=application.pk)
        else:
            status = 400
    return render(request, "bidrag/application_create.html", {"form": form}, status=status)


def _refused(request, application, status: int):
    """The draft is no longer a draft (or was removed meanwhile): nothing was changed."""
    return render(request, "bidrag/draft_refused.html", {"application": application}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def application_change_organisation(request, application_id):
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    if request.method == "GET":
        return redirect("bidrag:application_edit", application_id=application.pk)
    form = _organisation_form(request, application, data=request.POST)
    status = 400
    if form.is_valid():
        try:
            services.application_change_organisation(
                actor=request.user, application=application, organisation=form.cleaned_data["organisation"]
            )
        except ServiceError as error:
            status = _error_at_field(request, form, error)
        else:
            messages.success(
                request,
                _("Utkastet söks nu av %(organisation)s.") % {"organisation": form.cleaned_data["organisation"].name},
            )
            return redirect("bidrag:application_edit", application_id=application.pk)
    if status == 409:
        return _refused(request, application, status)
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    return render_step(request, application, summary_slug(application), organisation_form=form, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def application_request_signature(request, application_id):
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    if request.method == "GET":
        return redirect("bidrag:application_edit", application_id=application.pk)
    try:
        services.application_request_signature(actor=request.user, application=application)
    except ServiceError as error:
        status = report_error(request, error)
        if status == 409:
            return _refused(request, application, status)
        application = selectors.application_for_member(actor=request.user, application_id=application_id)
        return render_step(request, application, summary_slug(application), status=status)
    messages.success(request, _("Firmatecknaren har fått ett meddelande om att ansökan väntar på underskrift."))
    return HttpResponseRedirect(step_url(application, summary_slug(application), "skicka-in"))


# -- Post/Redirect/Get for the draft's small forms ------------------------------------------
# A failed budget line or upload answers 303 back to the edit page (its anchor), which shows
# what was typed and the errors at the fields: the address is never left on a POST-only URL.
_KEPT_FORM = "bidrag.kept_form"


def _edit_url(application, anchor: str = "") -> str:
    """Back to the step the small form belongs to: the budget's lines, the attachments."""
    slug = {"budget": "budget", "bilagor": "bilagor"}.get(anchor)
    if slug is None:
        return reverse("bidrag:application_edit", args=[application.pk])
    return step_url(application, slug, anchor)


def _back_with_errors(request, application, *, name: str, form, error: ServiceError | None = None, field=None,
                      url: str) -> HttpResponseRedirect:
    """Keep the failed form's data and messages in the session and send the browser back (303)."""
    errors = {key: [e["message"] for e in errs] for key, errs in form.errors.get_json_data().items()}
    if error is not None:
        key = error.details.get("field") or field or "__all__"
        errors.setdefault(key, []).append(str(error.message))
    data = {key: value for key, value in request.POST.items() if key != "csrfmiddlewaretoken"}
    request.session[_KEPT_FORM] = {"application": str(application.pk), "name": name, "data": data, "errors": errors}
    return HttpResponseRedirect(url, status=303)


def _kept_form(request, application, *, name: str, form_class, **kwargs):
    """The form a failed POST kept for this page, bound to what was typed, or None."""
    kept = request.session.get(_KEPT_FORM)
    if not kept or kept.get("application") != str(application.pk) or kept.get("name") != name:
        return None
    del request.session[_KEPT_FORM]
    form = form_class(kept["data"], **kwargs)
    form.restore_errors(kept["errors"])
    return form


@login_required
@require_http_methods(["GET", "POST"])
def budget_line_add(request, application_id):
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    if request.method == "GET":
        return HttpResponseRedirect(_edit_url(application, "budget"))
    form = BudgetLineForm(request.POST, **_line_form_kwargs(application))
    back = _edit_url(application, "budget")
    if not form.is_valid():
        return _back_with_errors(request, application, name="budget_line", form=form, url=back)
    try:
        services.budget_line_add(actor=request.user, application=application, **form.cleaned_data)
    except ServiceError as error:
        if error.http_status == 409:
            report_error(request, error)
            return _refused(request, application, 409)
        return _back_with_errors(request, application, name="budget_line", form=form, error=error, url=back)
    messages.success(request, _("Budgetraden är tillagd."))
    return HttpResponseRedirect(back)


def _line_form_kwargs(application) -> dict:
    """The project's years (a line says which, when there are several) and the excluded categories."""
    start, end = application.start_date, application.end_date
    years = list(range(start.year, end.year + 1)) if start and end and end >= start else []
    excluded = {e["category"]: e.get("reason", "") for e in application.call.scheme.excluded_categories or []
                if isinstance(e, dict) and "category" in e}
    return {"years": years, "excluded": excluded}


def _tidy(request, application, call, *, done: str, anchor: str):
    """Run a draft-tidying service: done → back to the anchor; refused → 404 like a missing
    id, 409 on the refusal page (no longer a draft), otherwise the message on the draft."""
    try:
        call()
    except NotFound:
        raise Http404 from None
    except ServiceError as error:
        status = report_error(request, error)
        if status == 409:
            return _refused(request, application, status)
        return HttpResponseRedirect(_edit_url(application, anchor), status=303)
    messages.success(request, done)
    return HttpResponseRedirect(_edit_url(application, anchor))


@login_required
@require_http_methods(["GET", "POST"])
def budget_line_remove(request, application_id, line_id):
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    if request.method == "GET":
        return HttpResponseRedirect(_edit_url(application, "budget"))
    return _tidy(
        request, application,
        lambda: services.budget_line_remove(actor=request.user, application=application, line_id=line_id),
        done=_("Budgetraden är borttagen."), anchor="budget",
    )


@login_required
@require_http_methods(["GET", "POST"])
def budget_line_edit(request, application_id, line_id):
    """Change a budget line: the form filled in with the line, the same rules as a new one."""
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    line = application.budget_lines.filter(pk=line_id).first()
    if line is None:
        raise Http404
    if application.status != Status.DRAFT:
        messages.error(request, _("Ansökan är redan inskickad och kan inte längre ändras."))
        return _refused(request, application, 409)
    here = reverse("bidrag:budget_line_edit", args=[application.pk, line.pk])
    name = f"budget_line:{line.pk}"
    if request.method == "GET":
        form = _kept_form(request, application, name=name, form_class=BudgetLineForm, **_line_form_kwargs(application)) \
            or BudgetLineForm(instance=line, **_line_form_kwargs(application))
        return render(request, "bidrag/budget_line_edit.html", {"application": application, "line": line, "form": form})
    form = BudgetLineForm(request.POST, instance=line, **_line_form_kwargs(application))
    if not form.is_valid():
        return _back_with_errors(request, application, name=name, form=form, url=here)
    try:
        services.budget_line_update(actor=request.user, application=application, line_id=line.pk, **form.cleaned_data)
    except NotFound:
        raise Http404 from None
    except ServiceError as error:
        if error.http_status == 409:
            report_error(request, error)
            return _refused(request, application, 409)
        return _back_with_errors(request, application, name=name, form=form, error=error, url=here)
    messages.success(request, _("Budgetraden är ändrad."))
    return HttpResponseRedirect(_edit_url(application, "budget"))


def _draft_case_id(request, application_id):
    """The draft's case, or 404 for someone who is not a member: before a byte is read."""
    return selectors.application_for_member(actor=request.user, application_id=application_id).case_id


@login_required
@require_http_methods(["GET", "POST"])
@streamed_uploads(case_id=_draft_case_id)  # each file goes to S3 as the body arrives
def attachment_upload(request, application_id):
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    back = _edit_url(application, "bilagor")
    if request.method == "GET":
        return HttpResponseRedirect(back)
    if request.content_type not in _FORM_TYPES:
        return _attachment_upload_body(request, application, back)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _back_with_errors(request, application, name="attachment", form=form, url=back)
    try:
        _attachment_store(request, application, form.cleaned_data["file"], form.cleaned_data["kind"],
                          replaces=form.cleaned_data.get("replaces"))
    except ServiceError as error:
        if error.http_status == 409:
            report_error(request, error)
            return _refused(request, application, 409)
        # A refused file, or the storage not answering: told at the file field.
        return _back_with_errors(request, application, name="attachment", form=form, error=error, field="file", url=back)
    messages.success(request, _("Bilagan är uppladdad."))
    return HttpResponseRedirect(back)


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _attachment_store(request, application, uploaded_file, kind: str, *, replaces=None):
    """A new attachment, or a new file in place of the one ``replaces`` names ("Ersätt")."""
    if replaces:
        return services.attachment_replace(actor=request.user, application=application, attachment_id=replaces,
                                           uploaded_file=uploaded_file, kind=kind)
    return services.attachment_add(actor=request.user, application=application, uploaded_file=uploaded_file, kind=kind)


def _upload_answer(status: int, *, errors: dict | None = None, next_url: str | None = None) -> JsonResponse:
    """What the page's upload script reads: where to go next, or the messages per field."""
    answer: dict = {"ok": status < 400}
    if next_url:
        answer["next"] = next_url
    if errors:
        answer["errors"] = {field: [str(m) for m in messages_] for field, messages_ in errors.items()}
    return JsonResponse(answer, status=status)


def _attachment_upload_body(request, application, back):
    """The file as the request body (the page's script, with a progress bar): the kind and
    the file's name in the X-Upload-Kind and X-Upload-Name headers (percent-encoded UTF-8),
    the body straight on to S3 as it arrives (arenden.uploads.store_request_body). The
    answer is JSON: 201 and the step to show, or the messages at their fields."""
    fields = AttachmentForm.base_fields
    try:
        kind = fields["kind"].clean(request.headers.get("X-Upload-Kind", ""))
        name = unquote(request.headers.get("X-Upload-Name", ""), errors="strict")
    except ValidationError as invalid:
        drain_request_body(request)
        return _upload_answer(400, errors={"kind": invalid.messages})
    try:
        replaces = fields["replaces"].clean(request.headers.get("X-Upload-Replaces", ""))
    except ValidationError:
        drain_request_body(request)
        raise Http404 from None  # no such attachment: as a missing one
    except UnicodeDecodeError:
        drain_request_body(request)
        return _upload_answer(400, errors={"file": [_("Filens namn kunde inte läsas. Byt namn på filen och försök igen.")]})
    try:
        with request_body_upload(request, case_id=application.case_id, name=name) as upload:
            attachment = _attachment_store(request, application, upload, kind, replaces=replaces)
    except ServiceError as error:
        return _upload_answer(error.http_status, errors={"file" if error.http_status != 409 else "__all__": [error.message]})
    messages.success(request, _("Bilagan är uppladdad."))
    # The step anew, at its list of files: the query names the new file, so the address is
    # never the page's own plus a #fragment (which the browser would not load again).
    step, _hash, anchor = back.partition("#")
    return _upload_answer(201, next_url=f"{step}?bilaga={attachment.pk}#{anchor}")


@login_required
@require_http_methods(["GET", "POST"])
def attachment_remove(request, application_id, attachment_id):
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    if request.method == "GET":
        return HttpResponseRedirect(_edit_url(application, "bilagor"))
    return _tidy(
        request, application,
        lambda: services.attachment_remove(actor=request.user, application=application, attachment_id=attachment_id),
        done=_("Bilagan är borttagen."), anchor="bilagor",
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_delete_draft(request, application_id):
    """Delete a draft that was never submitted, after a confirmation page."""
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    if application.status != Status.DRAFT:
        messages.error(request, _("Ansökan är inskickad och kan inte raderas. Den kan återkallas."))
        return _refused(request, application, 409)
    if request.method == "POST":
        try:
            services.application_delete_draft(actor=request.user, application=application)
        except NotFound:
            raise Http404 from None
        except ServiceError as error:
            status = report_error(request, error)
            if status == 409:
                return _refused(request, application, status)
        else:
            messages.success(request, _("Utkastet ”%(title)s” är raderat.") % {"title": application.title})
            return redirect("bidrag:application_list")
    context = {
        "application": application,
        "budget_lines": application.budget_lines.count(),
        "attachments": application.case.attachments.count(),
    }
    return render(request, "bidrag/draft_delete.html", context)


@login_required
def attachment_download(request, attachment_id):
    """Re-check the right on every download, then hand over a short-lived link (or the file)."""
    attachment = selectors.attachment_get(actor=request.user, attachment_id=attachment_id)
    case_read_record(actor=request.user, case_id=attachment.case_id, kind=CaseRead.Kind.ATTACHMENT,
                     object_id=attachment.pk, detail=attachment.original_name)
    storage = attachment.file.storage
    if hasattr(storage, "bucket_name"):
        url = storage.url(
            attachment.file.name,
            parameters={
                "ResponseContentDisposition": f"attachment; filename*=UTF-8''{_quote(attachment.original_name)}",
                "ResponseContentType": attachment.content_type,
            },
        )
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"
        return response
    return FileResponse(
        default_storage.open(attachment.file.name, "rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
