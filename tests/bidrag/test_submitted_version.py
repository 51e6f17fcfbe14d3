"""Issue 6: the receipt is a PDF with diarienummer, submission time and the SHA-256 of the
frozen submitted content; the submitted version stays viewable exactly as sent."""

import io

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from pypdf import PdfReader

from arenden.formatting import moment
from arenden.models import JournalEvent
from bidrag.models import Application, SubmittedVersion
from bidrag.models.application import Status
from bidrag.submitted import digest

from ..domain import submit

pytestmark = pytest.mark.django_db


def test_submission_freezes_the_content_and_journals_its_digest(draft, cast):
    application = submit(actor=cast.signatory, application=draft, idempotency_key="k")
    version = SubmittedVersion.objects.get(application=application)
    assert version.sha256 == digest(version.content)
    assert version.content["application"]["title"] == draft.title
    assert version.content["total"] == str(application.requested_amount())
    assert {a["sha256"] for a in version.content["attachments"]} == set(
        application.case.attachments.values_list("sha256", flat=True))
    event = JournalEvent.objects.get(case_id=application.case_id, action="submit")
    assert event.payload["content_sha256"] == version.sha256
    submit(actor=cast.signatory, application=draft, idempotency_key="k")  # the double click
    assert SubmittedVersion.objects.filter(application=application).count() == 1


def test_the_frozen_version_cannot_be_changed_or_removed(draft, cast):
    submit(actor=cast.signatory, application=draft)
    for change in (lambda q: q.update(sha256="0" * 64), lambda q: q.delete()):
        with pytest.raises(DatabaseError), transaction.atomic():
            change(SubmittedVersion.objects.filter(application=draft))
    assert SubmittedVersion.objects.filter(application=draft).count() == 1


def test_the_version_as_sent_shows_what_was_sent_not_what_changed_later(draft, cast, client):
    application = submit(actor=cast.signatory, application=draft)
    Application.objects.filter(pk=application.pk).update(title="Ändrad titel efteråt")
    client.force_login(cast.applicant)
    page = client.get(reverse("bidrag:submitted_version", args=[application.pk])).content.decode()
    assert "Trygg i Stockholm" in page and "Ändrad titel efteråt" not in page
    assert SubmittedVersion.objects.get(application=application).sha256 in page
    client.force_login(cast.officer)
    assert client.get(reverse("bidrag:submitted_version", args=[application.pk])).status_code == 200


def test_receipt_is_a_pdf_with_diarienummer_time_and_digest(draft, cast, client):
    application = submit(actor=cast.signatory, application=draft)
    client.force_login(cast.signatory)
    response = client.get(reverse("bidrag:receipt", args=[application.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert application.case.diarienummer in response["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = " ".join(text.split())
    version = SubmittedVersion.objects.get(application=application)
    assert application.case.diarienummer in flat
    assert " ".join(moment(application.submitted_at, language="sv").split()) in flat
    assert version.sha256 in flat.replace(" ", "")


def test_no_version_for_a_draft_and_none_for_another_organisation(draft, cast, client, make_application, malmo):
    client.force_login(cast.applicant)
    assert client.get(reverse("bidrag:submitted_version", args=[draft.pk])).status_code == 404
    assert client.get(reverse("bidrag:receipt", args=[draft.pk])).status_code == 404
    other = make_application(to=Status.SUBMITTED, organisation=malmo)
    stranger = type(cast.applicant).objects.create_user("utomstaende")
    client.force_login(stranger)
    for name in ("bidrag:submitted_version", "bidrag:receipt"):
        assert client.get(reverse(name, args=[other.pk])).status_code == 404
