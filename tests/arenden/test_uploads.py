"""Uploads checked by content and streamed to S3 (issue 6).

Real SeaweedFS and PostgreSQL; nothing of ours or of S3 is replaced. Each bad input is
posted as a browser posts it (a multipart body we write ourselves, so the file name is
exactly what a browser could send) through the attachment view and through the same view
wired with arenden.uploads.streamed_uploads (tests/arenden/upload_urls.py), and must be
refused with a message naming the rule, leaving no object and no unfinished multipart
upload in the bucket and the draft as it was.
"""

import hashlib
import html
import io
import os
import tracemalloc
import uuid
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from arenden.errors import ValidationFailed
from arenden.models import Attachment
from arenden.storage import UploadInspector, safe_name, upload_store
from arenden.uploads import IN_FLIGHT, part_buffer_release
from bidrag.services import attachment_add
from tests.arenden.test_storage import UNAVAILABLE, failing_s3, keys_of, snapshot, storage_at  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.arenden.upload_urls")]

MiB = 1024 * 1024
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 16


def zipped(entries: dict[str, bytes], *, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (name, data) in enumerate(entries.items()):
            compression = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compression)
    return buffer.getvalue()


DOCX = zipped({
    "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    "_rels/.rels": b"<Relationships/>",
    "word/document.xml": b"<w:document/>",
})
ODT = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document-content/>"},
             stored_first=True)
PLAIN_ZIP = zipped({"rapport.csv": b"a;b\n1;2\n", "bilder/karta.png": b"\x89PNG\r\n\x1a\n"})

# name, bytes, what the message must say (each names its rule)
BAD_INPUTS = {
    "executable (MZ) renamed .pdf": ("lagesbild.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(4096),
                                     "Filen är ett program, inte en PDF"),
    "executable (ELF) renamed .pdf": ("lagesbild.pdf", b"\x7fELF\x02\x01\x01\x00" + bytes(4096),
                                      "Filen är ett program, inte en PDF"),
    "HTML posing as PDF": ("lagesbild.pdf", b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>",
                           "Filen är en webbsida (HTML), inte en PDF"),
    "a zip renamed .docx": ("atgardsplan.docx", PLAIN_ZIP,
                            "Filen är ett zip-arkiv men inte ett Word-dokument: det saknar [Content_Types].xml och mappen word/"),
    "a Word document renamed .xlsx": ("budget.xlsx", DOCX, "Filen är ett zip-arkiv men inte en Excel-arbetsbok"),
    "a zip renamed .odt": ("plan.odt", PLAIN_ZIP, "Filen är ett zip-arkiv men inte ett OpenDocument-textdokument"),
    "HTML posing as text": ("anteckningar.txt", b"  <html><head><title>x</title></head></html>",
                            "Filen är en webbsida (HTML), inte en textfil"),
    "a CSV not in UTF-8": ("deltagare.csv", "namn;ort\nÅsa Öberg;Malmö\n".encode("cp1252"),
                           "En CSV-fil ska vara sparad som UTF-8"),
    "a file over the limit": ("stor.pdf", b"%PDF-1.7\n" + bytes(int(21.2 * MiB) - 9),
                              "Filen är för stor (21,2\u00a0MB). Största tillåtna storlek är 20,0\u00a0MB."),
}
ROUTES = {
    "attachment view": lambda application: reverse("bidrag:attachment_upload", args=[application.pk]),
    "streamed": lambda application: reverse("test_streamed_upload", args=[application.pk]),
}


def multipart(filename: str, content: bytes, *, fields=None, content_type="application/pdf") -> tuple[bytes, str]:
    boundary = f"----test{uuid.uuid4().hex}"
    fields = {"kind": "lagesbild"} if fields is None else fields
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    file_head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + file_head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post(client, url, filename, content, **kwargs):
    body, content_type = multipart(filename, content, **kwargs)
    return client.post(url, data=body, content_type=content_type)


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def unfinished_uploads(seaweedfs, case_id) -> list:
    listing = seaweedfs.client().list_multipart_uploads(Bucket=seaweedfs.bucket, Prefix=f"cases/{case_id}/")
    return listing.get("Uploads", [])


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def refusal(client, response) -> tuple[int, str]:
    """(status, what the person reads): the test view answers at once; the attachment view
    may send the browser back to the draft (303, Post/Redirect/Get) with the error there."""
    if response.status_code == 303:
        return 303, page_text(client.get(response["Location"]))
    return response.status_code, page_text(response)


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_refused_with_its_rule_and_nothing_is_stored(case, route, draft, cast, seaweedfs):
    filename, content, message = BAD_INPUTS[case]
    keys_before, before = keys_of(seaweedfs, draft.case_id), snapshot(draft)

    client = client_for(cast.applicant)
    status, text = refusal(client, post(client, ROUTES[route](draft), filename, content))

    assert status in ((413, 303) if "limit" in case else (400, 303)), text[:400]
    assert message in text
    assert keys_of(seaweedfs, draft.case_id) == keys_before
    assert unfinished_uploads(seaweedfs, draft.case_id) == []
    assert snapshot(draft) == before


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_refused_by_the_service_as_well(case, draft, cast, seaweedfs):
    """The door and the services take files at hand (not streamed): the same rules."""
    filename, content, message = BAD_INPUTS[case]
    keys_before = keys_of(seaweedfs, draft.case_id)
    with pytest.raises(ValidationFailed) as refused:
        attachment_add(actor=cast.applicant, application=draft, kind="lagesbild",
                       uploaded_file=SimpleUploadedFile(filename, content))
    assert message in str(refused.value.message)
    assert keys_of(seaweedfs, draft.case_id) == keys_before


@pytest.mark.parametrize("name", ["../../etc/lagesbild.pdf", "C:\\temp\\lagesbild.pdf", "..\\..\\lagesbild.pdf"])
def test_a_file_name_with_path_segments_is_reduced_to_its_last(name, draft, cast, seaweedfs):
    assert safe_name(name) == "lagesbild.pdf"
    attachment = attachment_add(actor=cast.applicant, application=draft, kind="lagesbild",
                                uploaded_file=SimpleUploadedFile(name, PDF))
    assert attachment.original_name == "lagesbild.pdf"
    for route in ROUTES.values():
        response = post(client_for(cast.applicant), route(draft), name, PDF)
        assert response.status_code in (201, 302), page_text(response)[:400]
    names = list(Attachment.objects.filter(case=draft.case, kind="lagesbild").values_list("original_name", flat=True))
    assert names.count("lagesbild.pdf") >= 3 and not any("/" in n or "\\" in n for n in names)


@pytest.mark.parametrize("name", ["..", "../", "C:\\temp\\"])
def test_a_file_name_that_is_only_a_path_is_refused(name):
    with pytest.raises(ValidationFailed, match="Filen saknar namn"):
        safe_name(name)


def test_oversize_is_refused_before_the_rest_is_read():
    """The inspector refuses with the chunk that passes the limit, not after the file."""
    inspector = UploadInspector("stor.pdf")
    inspector.limit = 10 * 1024
    inspector.feed(b"%PDF-1.7\n" + bytes(8 * 1024))
    with pytest.raises(ValidationFailed, match="för stor"):
        inspector.feed(bytes(4 * 1024))


# -- good input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "parts"),
    [(len(PDF), 1), (5 * MiB, 1), (12 * MiB + 123, 3)],
)
def test_streamed_upload_is_stored_with_its_sha256_and_size(size, parts, draft, cast, seaweedfs):
    """Parts of 5 MiB as the body arrives (a multipart upload's ETag ends in -<parts>);
    a file that fits in one part is one PUT."""
    content = (PDF + os.urandom(size))[:size]
    response = post(client_for(cast.applicant), ROUTES["streamed"](draft), "Lägesbild 2026.pdf", content,
                    content_type="application/x-msdownload")
    assert response.status_code == 201, page_text(response)[:400]
    attachment = Attachment.objects.get(pk=response.content.decode())
    assert (attachment.size, attachment.sha256) == (size, hashlib.sha256(content).hexdigest())
    assert attachment.original_name == "Lägesbild 2026.pdf"
    assert attachment.file.name == f"cases/{draft.case_id}/{attachment.pk}"
    stored = seaweedfs.client().get_object(Bucket=seaweedfs.bucket, Key=attachment.file.name)
    assert stored["ContentType"] == "application/pdf"  # what we checked, not what the browser said
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == attachment.sha256
    assert stored["ETag"].strip('"').endswith(f"-{parts}") == (parts > 1), stored["ETag"]
    assert unfinished_uploads(seaweedfs, draft.case_id) == []


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("filename", "content"),
    [("atgardsplan.docx", DOCX), ("plan.odt", ODT), ("deltagare.csv", "namn;ort\nÅsa Öberg;Malmö\n".encode()),
     ("karta.png", b"\x89PNG\r\n\x1a\n" + bytes(64))],
)
def test_files_that_are_what_they_are_called_are_taken(route, filename, content, draft, cast, seaweedfs):
    response = post(client_for(cast.applicant), ROUTES[route](draft), filename, content)
    assert response.status_code in (201, 302), page_text(response)[:400]
    attachment = Attachment.objects.get(case=draft.case, original_name=filename)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()


# -- what the view does not hand over is removed -------------------------------------------


def test_a_streamed_file_the_view_refuses_is_removed(draft, cast, seaweedfs):
    keys_before = keys_of(seaweedfs, draft.case_id)
    response = post(client_for(cast.applicant), ROUTES["streamed"](draft), "lagesbild.pdf", PDF, fields={})
    assert response.status_code == 400 and "form:" in response.content.decode()  # no kind chosen
    assert keys_of(seaweedfs, draft.case_id) == keys_before


def test_a_streamed_file_without_a_valid_csrf_token_is_removed(draft, cast, seaweedfs):
    keys_before = keys_of(seaweedfs, draft.case_id)
    client = client_for(cast.applicant, enforce_csrf_checks=True)
    response = post(client, ROUTES["streamed"](draft), "lagesbild.pdf", PDF,
                    fields={"csrfmiddlewaretoken": "x" * 64, "kind": "lagesbild"})
    assert response.status_code == 403
    assert keys_of(seaweedfs, draft.case_id) == keys_before


def test_someone_outside_the_organisation_streams_nothing(draft, cast, seaweedfs):
    keys_before = keys_of(seaweedfs, draft.case_id)
    response = post(client_for(cast.officer), ROUTES["streamed"](draft), "lagesbild.pdf", PDF)
    assert response.status_code == 404
    assert keys_of(seaweedfs, draft.case_id) == keys_before


def test_a_streamed_file_is_taken_only_for_its_own_case(draft):
    """upload_store hands over a streamed object only to the case it was streamed for."""
    from arenden.storage import StoredUpload, StreamedUpload

    stored = StoredUpload(f"cases/{draft.case_id}/{uuid.uuid4()}", "x.pdf", "application/pdf", 1, "")
    with pytest.raises(ValueError, match="another case"):
        upload_store(case_id=uuid.uuid4(), uploaded_file=StreamedUpload(
            name="x.pdf", size=1, content_type="application/pdf", stored=stored))


# -- S3 down -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [len(PDF), 12 * MiB])
def test_s3_outage_while_streaming_answers_503_and_keeps_the_draft(size, draft, cast, failing_s3, storage_at):  # noqa: F811
    storage_at(failing_s3.url)
    before = snapshot(draft)
    content = (PDF + bytes(size))[:size]
    for route in ROUTES.values():
        client = client_for(cast.applicant)
        status, text = refusal(client, post(client, route(draft), "lagesbild.pdf", content))
        assert status in (503, 303)
        assert UNAVAILABLE in text
    assert snapshot(draft) == before


# -- memory --------------------------------------------------------------------------------


class MultipartStream:
    """A multipart body generated as it is read: the file's bytes never exist all at once."""

    def __init__(self, filename: str, size: int, block: bytes):
        self.boundary = f"----stream{uuid.uuid4().hex}"
        self.head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nlagesbild\r\n'
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.size, self.block = size, block
        self.length = len(self.head) + size + len(self.tail)
        self.digest = hashlib.sha256()
        self._pos = 0

    def _byte_range(self, start: int, end: int) -> bytes:
        out = []
        head, body_end = len(self.head), len(self.head) + self.size
        if start < head:
            out.append(self.head[start : min(end, head)])
        if end > head and start < body_end:
            a, b = max(start, head) - head, min(end, body_end) - head
            while a < b:
                offset = a % len(self.block)
                piece = self.block[offset : offset + (b - a)]
                out.append(piece)
                self.digest.update(piece)
                a += len(piece)
        if end > body_end:
            out.append(self.tail[max(start, body_end) - body_end : end - body_end])
        return b"".join(out)

    def read(self, size: int = -1) -> bytes:
        end = self.length if size is None or size < 0 else min(self.length, self._pos + size)
        data = self._byte_range(self._pos, end)
        self._pos = end
        return data

    def readline(self, size: int = -1) -> bytes:  # WSGI; the multipart parser does not use it
        return self.read(size)


def test_memory_stays_flat_for_a_large_streamed_upload(draft, cast, seaweedfs, settings):
    size = 64 * MiB
    settings.ATTACHMENT_MAX_BYTES = 72 * MiB
    client = client_for(cast.applicant)
    url = ROUTES["streamed"](draft)
    warm = post(client, url, "liten.pdf", PDF)  # S3 client and imports before measuring
    assert warm.status_code == 201
    body = MultipartStream("stor.pdf", size, b"%PDF-1.7\n" + os.urandom(MiB - 9))
    part_buffer_release()  # the part buffers are counted too

    tracemalloc.start()
    try:
        response = client.generic("POST", url, **{
            "wsgi.input": body,
            "CONTENT_LENGTH": str(body.length),
            "CONTENT_TYPE": f"multipart/form-data; boundary={body.boundary}",
        })
        _current, peak = tracemalloc.get_traced_memory()
        print(f"traced peak {peak / MiB:.1f} MiB")
    finally:
        tracemalloc.stop()

    assert response.status_code == 201, page_text(response)[:400]
    attachment = Attachment.objects.get(pk=response.content.decode())
    assert attachment.size == size and attachment.sha256 == body.digest.hexdigest()
    # One part buffer (5 MiB) and the chunks in flight, whatever the file's size.
    # The part buffers (IN_FLIGHT being sent, one filling) and a little: not the file's size.
    bound = (IN_FLIGHT + 1) * settings.ATTACHMENT_UPLOAD_PART_BYTES + 2 * MiB
    assert peak < bound < size / 3, f"peak {peak / MiB:.1f} MiB for a {size // MiB} MiB upload"
