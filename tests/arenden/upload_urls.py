"""Test-only URLconf: the site's URLs plus the attachment upload wired as the lead wires
``bidrag.views.attachment_upload`` (arenden.uploads.streamed_uploads), answering plainly."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from arenden.errors import ServiceError
from arenden.uploads import streamed_uploads
from bidrag import selectors, services
from bidrag.forms import AttachmentForm
from config.urls import urlpatterns as site


def _draft_case_id(request, application_id):
    return selectors.application_for_member(actor=request.user, application_id=application_id).case_id


@login_required
@require_POST
@streamed_uploads(case_id=_draft_case_id)
def streamed_upload(request, application_id):
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return HttpResponse(f"form: {form.errors.as_text()}", status=400)
    try:
        attachment = services.attachment_add(
            actor=request.user, application=application, uploaded_file=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
        )
    except ServiceError as error:
        return HttpResponse(str(error.message), status=error.http_status)
    return HttpResponse(str(attachment.pk), status=201)


urlpatterns = [*site, path("test/streamed-upload/<uuid:application_id>/", streamed_upload, name="test_streamed_upload")]
