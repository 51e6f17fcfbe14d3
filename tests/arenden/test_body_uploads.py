"""Uploads sent by the page's script: the request body is the file (issue 6).

The attachment step's script (static/js/upload.js) sends the chosen file as the body of a
POST to the attachment view, the kind and name in headers, and shows a progress bar; the
view sends the body on to S3 as one PUT of its Content-Length while it arrives
(arenden.uploads.store_request_body). The same rules as for the form: each bad input is
refused with a message naming its rule, at the file field, with nothing left in the bucket
and the draft as it was. Real SeaweedFS and PostgreSQL.
"""

import hashlib
import io
import os
import re
import tracemalloc
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from arenden.models import Attachment
from tests.arenden.test_storage import UNAVAILABLE, failing_s3, keys_of, snapshot, storage_at  # noqa: F401 - fixtures
from tests.arenden.test_uploads import BAD_INPUTS, DOCX, PDF, unfinished_uploads

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def url_of(application) -> str:
    return reverse("bidrag:attachment_upload", args=[application.pk])


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def send(client, application, name, content, *, kind="lagesbild", headers=None, content_type="application/pdf"):
    """POST the file as the script does."""
    sent = {"X-Upload-Name": quote(name)} if name is not None else {}
    if kind is not None:
        sent["X-Upload-Kind"] = kind
    return client.post(url_of(application), data=content, content_type=content_type, headers={**sent, **(headers or {})})


def errors_of(response) -> dict:
    return response.json().get("errors", {})


@pytest.mark.parametrize("size", [len(PDF), 12 * MiB + 123])
def test_a_file_sent_as_the_body_is_one_put_with_its_sha256_and_size(size, draft, cast, seaweedfs):
    content = (PDF + os.urandom(size))[:size]
    response = send(client_for(cast.applicant), draft, "Lägesbild 2026.pdf", content, content_type="application/x-msdownload")

    assert response.status_code == 201, response.content[:400]
    attachment = Attachment.objects.get(case=draft.case, original_name="Lägesbild 2026.pdf")
    step = reverse("bidrag:application_step", args=[draft.pk, "bilagor"])
    assert response.json() == {"ok": True, "next": f"{step}?bilaga={attachment.pk}#bilagor"}
    assert (attachment.size, attachment.sha256, attachment.kind) == (size, hashlib.sha256(content).hexdigest(), "lagesbild")
    stored = seaweedfs.client().get_object(Bucket=seaweedfs.bucket, Key=attachment.file.name)
    assert stored["ContentType"] == "application/pdf"  # what we checked, not what the browser said
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == attachment.sha256
    assert "-" not in stored["ETag"], "one PUT, not a multipart upload"
    assert unfinished_uploads(seaweedfs, draft.case_id) == []


def test_the_page_after_the_upload_says_it_is_uploaded(draft, cast, seaweedfs):
    client = client_for(cast.applicant)
    response = send(client, draft, "atgardsplan.docx", DOCX, kind="atgardsplan")
    assert response.status_code == 201
    page = client.get(response.json()["next"]).content.decode()
    assert "Bilagan är uppladdad." in page and "atgardsplan.docx" in page


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_sent_as_the_body_is_refused_with_its_rule_and_nothing_is_stored(case, draft, cast, seaweedfs):
    filename, content, message = BAD_INPUTS[case]
    keys_before, before = keys_of(seaweedfs, draft.case_id), snapshot(draft)

    response = send(client_for(cast.applicant), draft, filename, content)

    assert response.status_code == (413 if "limit" in case else 400), response.content[:400]
    assert any(message in text for text in errors_of(response)["file"]), errors_of(response)
    assert keys_of(seaweedfs, draft.case_id) == keys_before
    assert unfinished_uploads(seaweedfs, draft.case_id) == []
    assert snapshot(draft) == before


@pytest.mark.parametrize("case", ["HTML posing as PDF", "executable (MZ) renamed .pdf"])
def test_a_refused_body_is_not_rewound_for_a_second_put(case):
    """botocore rewinds the body before it retries a PUT: a body refused at its end (HTML) or
    its start (MZ) must refuse that, or the retry sends a short body under the full
    Content-Length and the person waits out S3's read timeout for their refusal."""
    from arenden.errors import ValidationFailed
    from arenden.storage import UploadInspector
    from arenden.uploads import RequestBody

    filename, content, message = BAD_INPUTS[case]
    fresh = RequestBody(io.BytesIO(content), len(content), UploadInspector(filename))
    assert fresh.seek(0) == 0  # nothing taken yet: a retry after a failed connect may go again

    body = RequestBody(io.BytesIO(content), len(content), UploadInspector(filename))
    with pytest.raises(ValidationFailed, match=re.escape(message)):
        body.read(8192)
    with pytest.raises(io.UnsupportedOperation):
        body.seek(0)


def test_a_refusal_is_in_english_for_someone_who_chose_english(draft, cast, seaweedfs):
    client = client_for(cast.applicant)
    client.cookies["django_language"] = "en"
    response = send(client, draft, "lagesbild.pdf", b"<!DOCTYPE html><html></html>")
    assert response.status_code == 400
    assert "web page (HTML)" in " ".join(errors_of(response)["file"])


@pytest.mark.parametrize(
    ("kind", "name", "field", "message"),
    [
        (None, "lagesbild.pdf", "kind", "Detta fält måste fyllas i."),
        ("ingen-sådan", "lagesbild.pdf", "kind", "Välj ett giltigt alternativ"),
        ("lagesbild", None, "file", "Filen saknar namn."),
        ("lagesbild", "../", "file", "Filen saknar namn."),
        ("lagesbild", "program.exe", "file", "Filtypen .exe tas inte emot"),
    ],
)
def test_a_missing_kind_or_name_is_told_at_its_field(kind, name, field, message, draft, cast, seaweedfs):
    keys_before = keys_of(seaweedfs, draft.case_id)
    response = send(client_for(cast.applicant), draft, name, PDF, kind=kind)
    assert response.status_code == 400
    assert any(message in text for text in errors_of(response)[field]), errors_of(response)
    assert keys_of(seaweedfs, draft.case_id) == keys_before


def test_a_name_with_path_segments_is_reduced_to_its_last(draft, cast, seaweedfs):
    response = send(client_for(cast.applicant), draft, "C:\\Users\\anna\\..\\lagesbild.pdf", PDF)
    assert response.status_code == 201
    assert Attachment.objects.filter(case=draft.case, original_name="lagesbild.pdf").exists()


def test_a_body_without_a_valid_csrf_token_is_refused_and_nothing_is_stored(draft, cast, seaweedfs):
    keys_before = keys_of(seaweedfs, draft.case_id)
    client = client_for(cast.applicant, enforce_csrf_checks=True)
    assert send(client, draft, "lagesbild.pdf", PDF, headers={"X-CSRFToken": "x" * 64}).status_code == 403
    assert keys_of(seaweedfs, draft.case_id) == keys_before
    # The token the page holds lets the same body through.
    client.get(reverse("bidrag:application_step", args=[draft.pk, "bilagor"]))
    token = client.cookies["csrftoken"].value
    assert send(client, draft, "lagesbild.pdf", PDF, headers={"X-CSRFToken": token}).status_code == 201


def test_someone_outside_the_organisation_sends_nothing(draft, cast, seaweedfs):
    keys_before = keys_of(seaweedfs, draft.case_id)
    response = send(client_for(cast.officer), draft, "lagesbild.pdf", PDF)
    assert response.status_code == 404
    assert keys_of(seaweedfs, draft.case_id) == keys_before


def test_a_body_that_ends_early_is_refused_and_nothing_is_stored(draft, cast, seaweedfs):
    """The person closed the page or lost the connection halfway: no half file."""
    keys_before = keys_of(seaweedfs, draft.case_id)
    content = PDF + os.urandom(MiB)
    response = client_for(cast.applicant).generic("POST", url_of(draft), **{
        "wsgi.input": io.BytesIO(content[: len(content) // 2]),
        "CONTENT_LENGTH": str(len(content)),
        "CONTENT_TYPE": "application/pdf",
        "HTTP_X_UPLOAD_NAME": "lagesbild.pdf",
        "HTTP_X_UPLOAD_KIND": "lagesbild",
    })
    assert response.status_code == 400
    assert "Filen kom inte fram hela" in " ".join(errors_of(response)["file"])
    assert keys_of(seaweedfs, draft.case_id) == keys_before


def test_a_file_over_the_limit_is_refused_from_its_length_before_a_byte_is_read(draft, cast, seaweedfs, settings):
    settings.ATTACHMENT_MAX_BYTES = MiB
    unread = io.BytesIO(b"%PDF-1.7\n" + bytes(2 * MiB))
    response = client_for(cast.applicant).generic("POST", url_of(draft), **{
        "wsgi.input": unread,
        "CONTENT_LENGTH": str(2 * MiB + 9),
        "CONTENT_TYPE": "application/pdf",
        "HTTP_X_UPLOAD_NAME": "stor.pdf",
        "HTTP_X_UPLOAD_KIND": "lagesbild",
    })
    assert response.status_code == 413
    assert "Största tillåtna storlek är 1,0\u00a0MB" in " ".join(errors_of(response)["file"])
    assert unread.tell() == 0


def test_s3_outage_answers_503_and_keeps_the_draft(draft, cast, failing_s3, storage_at):  # noqa: F811
    storage_at(failing_s3.url)
    before = snapshot(draft)
    response = send(client_for(cast.applicant), draft, "lagesbild.pdf", PDF + bytes(MiB))
    assert response.status_code == 503
    assert UNAVAILABLE in " ".join(errors_of(response)["file"])
    assert snapshot(draft) == before


def test_a_draft_submitted_meanwhile_takes_no_file_and_keeps_none(draft, cast, seaweedfs):
    from bidrag.models import Application

    Application.objects.filter(pk=draft.pk).update(status="submitted")
    keys_before = keys_of(seaweedfs, draft.case_id)
    response = send(client_for(cast.applicant), draft, "lagesbild.pdf", PDF)
    assert response.status_code == 409
    assert keys_of(seaweedfs, draft.case_id) == keys_before


class BodyStream:
    """A file body generated as it is read: its bytes never exist all at once."""

    def __init__(self, size: int, block: bytes):
        self.size, self.block, self._pos = size, block, 0
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._pos + size)
        out = bytearray()
        while self._pos < end:
            offset = self._pos % len(self.block)
            piece = self.block[offset : offset + (end - self._pos)]
            out += piece
            self._pos += len(piece)
        self.digest.update(out)
        return bytes(out)

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def test_memory_stays_flat_for_a_large_body(draft, cast, seaweedfs, settings):
    size = 64 * MiB
    settings.ATTACHMENT_MAX_BYTES = 72 * MiB
    client = client_for(cast.applicant)
    assert send(client, draft, "liten.pdf", PDF).status_code == 201  # S3 client and imports first
    body = BodyStream(size, b"%PDF-1.7\n" + os.urandom(MiB - 9))

    tracemalloc.start()
    try:
        response = client.generic("POST", url_of(draft), **{
            "wsgi.input": body,
            "CONTENT_LENGTH": str(size),
            "CONTENT_TYPE": "application/pdf",
            "HTTP_X_UPLOAD_NAME": "stor.pdf",
            "HTTP_X_UPLOAD_KIND": "lagesbild",
        })
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 201, response.content[:400]
    attachment = Attachment.objects.get(case=draft.case, original_name="stor.pdf")
    assert attachment.size == size and attachment.sha256 == body.digest.hexdigest()
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB for a {size // MiB} MiB upload"
