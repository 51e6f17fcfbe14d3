"""Attachments in SeaweedFS through django-storages: stored, hashed, re-checked on download."""

import hashlib
import re
import urllib.request
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arenden.models import Attachment
from bidrag.models import Application, Membership
from bidrag.models.application import Status

pytestmark = pytest.mark.django_db

CONTENT = b"%PDF-1.7\n" + bytes(range(256)) * 64


def without_csrf(response) -> str:
    """The page without what differs by request alone: its CSRF token and the requested id
    (echoed in the language switch's return path), so two answers can be compared."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", page)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client, application, name="lagesbild.pdf", content=CONTENT, kind="lagesbild"):
    return client.post(
        reverse("bidrag:attachment_upload", args=[application.pk]),
        {"kind": kind, "file": SimpleUploadedFile(name, content, content_type="application/pdf")},
    )


def test_attachment_round_trip_through_s3(draft, cast, seaweedfs):
    response = upload(client_for(cast.applicant), draft, name="Lägesbild 2026.pdf")
    assert response.status_code == 302
    attachment = Attachment.objects.get(case=draft.case, original_name="Lägesbild 2026.pdf")
    assert attachment.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert attachment.size == len(CONTENT)
    assert attachment.content_type == "application/pdf"
    # The object is in the bucket under its UUID, not the user's file name.
    head = seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=attachment.file.name)
    assert head["ContentLength"] == len(CONTENT)
    assert str(attachment.pk) in attachment.file.name and "Lägesbild" not in attachment.file.name
    with attachment.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == attachment.sha256

    # Download: the view re-checks the right, then redirects to a short-lived presigned URL.
    response = client_for(cast.applicant).get(reverse("bidrag:attachment_download", args=[attachment.pk]))
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(seaweedfs.endpoint_url) and "X-Amz-Signature" in url and "X-Amz-Expires=60" in url
    with urllib.request.urlopen(url, timeout=10) as fetched:
        body = fetched.read()
        assert "attachment" in fetched.headers["Content-Disposition"]
    assert hashlib.sha256(body).hexdigest() == attachment.sha256


def test_staff_may_download_submitted_attachments(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    attachment = application.case.attachments.first()
    response = client_for(cast.officer).get(reverse("bidrag:attachment_download", args=[attachment.pk]))
    assert response.status_code == 302 and "X-Amz-Signature" in response["Location"]


def test_other_organisation_gets_404_like_a_missing_attachment(draft, cast, malmo):
    upload(client_for(cast.applicant), draft)
    attachment = Attachment.objects.filter(case=draft.case).first()
    outsider = type(cast.applicant).objects.create_user("malmo-handlaggare", email="x@malmo.se")
    Membership.objects.create(organisation=malmo, user=outsider, role=Membership.Role.SIGNATORY)
    foreign = client_for(outsider).get(reverse("bidrag:attachment_download", args=[attachment.pk]))
    missing = client_for(outsider).get(reverse("bidrag:attachment_download", args=["00000000-0000-4000-8000-000000000000"]))
    assert foreign.status_code == missing.status_code == 404
    assert without_csrf(foreign) == without_csrf(missing)
    # Staff cannot read a draft's attachments either: drafts are not yet official documents.
    assert client_for(cast.officer).get(reverse("bidrag:attachment_download", args=[attachment.pk])).status_code == 404


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("virus.exe", b"MZ\x90\x00", "Filtypen .exe tas inte emot"),
        ("fake.pdf", b"GIF89a not a pdf", "stämmer inte med filtypen .pdf"),
        ("empty.pdf", b"", "tom"),
    ],
)
def test_rejected_upload_keeps_the_draft(draft, cast, name, content, message):
    before = (Application.objects.get(pk=draft.pk).updated_at, draft.case.attachments.count(), draft.requested_amount())
    client = client_for(cast.applicant)
    response = upload(client, draft, name=name, content=content)
    assert response.status_code == 303  # back to the draft (Post/Redirect/Get), the error at the field
    page = client.get(response["Location"]).content.decode()
    assert message in page
    after = (Application.objects.get(pk=draft.pk).updated_at, draft.case.attachments.count(), draft.requested_amount())
    assert before == after
    # The form still shows the draft's content.
    assert draft.purpose in page


def test_oversized_upload_is_refused_with_the_limit(draft, cast, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    client = client_for(cast.applicant)
    response = upload(client, draft, content=b"%PDF-" + b"0" * (1024 * 1024 + 1))
    assert response.status_code == 303
    assert "Största tillåtna storlek är 1" in client.get(response["Location"]).content.decode()
    assert draft.case.attachments.count() == 3  # the draft's own attachments, nothing more


def test_no_upload_after_submission(make_application, cast):
    application = make_application(to=Status.SUBMITTED)
    response = upload(client_for(cast.applicant), application)
    assert response.status_code == 409
    assert application.case.attachments.count() == 3


def test_submission_after_the_call_closed_shows_the_closing_date(draft, cast):
    call = draft.call
    call.opens_at = timezone.now() - timedelta(days=60)
    call.closes_at = timezone.now() - timedelta(days=1)
    call.save()
    response = client_for(cast.signatory).post(reverse("workflows:submit", args=[draft.pk]), {"idempotency_key": "k"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Utlysningen stängde" in body
    closes = timezone.localtime(call.closes_at)
    assert str(closes.year) in body and str(closes.day) in body
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT
