"""Attachments and object storage: no S3 under a row lock, fail fast, orphans swept.

Real SeaweedFS (the harness), real PostgreSQL. A stalled S3 is a loopback listener that
accepts connections and never answers; a failing one answers 503 to everything.
"""

import hashlib
import io
import os
import socket
import threading
import time
import tracemalloc
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.core.management import call_command
from django.db import DataError, connections, transaction
from django.test import Client
from django.urls import reverse

from arenden.errors import ErrorCode, NotAllowed, TransitionNotAllowed
from arenden.models import Attachment
from arenden.storage import StorageUnavailable, attachment_record, orphans_remove, upload_store
from bidrag.models import Application
from bidrag.models.application import Status
from bidrag.services import attachment_add

CONTENT = b"%PDF-1.7\n" + bytes(range(256)) * 64
UNAVAILABLE = "lagringstjänsten inte svarar"


def pdf(name="lagesbild.pdf", content=CONTENT, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def keys_of(seaweedfs, case_id) -> set[str]:
    listing = seaweedfs.client().list_objects_v2(Bucket=seaweedfs.bucket, Prefix=f"cases/{case_id}/")
    return {entry["Key"] for entry in listing.get("Contents", ())}


def object_exists(seaweedfs, key) -> bool:
    try:
        seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=key)
    except ClientError as err:
        if err.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
    return True


def snapshot(application):
    application = Application.objects.get(pk=application.pk)
    return (
        application.status,
        application.title,
        application.updated_at,
        sorted(application.case.attachments.values_list("pk", flat=True)),
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class Rollback(Exception):
    pass


# -- S3 that does not answer ---------------------------------------------------------


class StalledS3:
    """Accepts TCP connections on 127.0.0.1 and never answers a byte."""

    def __init__(self):
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self.request_seen = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: list[socket.socket] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self):
        while not self._stopping.is_set():
            try:
                connection, _address = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(0.1)
            self._connections.append(connection)
            reader = threading.Thread(target=self._swallow, args=(connection,), daemon=True)
            self._threads.append(reader)
            reader.start()

    def _swallow(self, connection):
        # Read (so a client is never stuck sending) and say nothing.
        while not self._stopping.is_set():
            try:
                data = connection.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            self.request_seen.set()

    def stop(self):
        self._stopping.set()
        self._server.close()
        self._accepting.join(5)
        for connection in self._connections:
            connection.close()
        for thread in self._threads:
            thread.join(5)


class FailingS3(ThreadingHTTPServer):
    """Answers every request with 503 Service Unavailable, as S3 does when it sheds load."""

    daemon_threads = True

    class Handler(BaseHTTPRequestHandler):
        def _refuse(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            body = b"<Error><Code>ServiceUnavailable</Code><Message>Please reduce your request rate.</Message></Error>"
            self.send_response(503)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET = do_PUT = do_POST = do_DELETE = _refuse

        def log_message(self, *args):
            pass

    def __init__(self):
        super().__init__(("127.0.0.1", 0), self.Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()
        self._thread.join(5)


@pytest.fixture
def stalled_s3():
    server = StalledS3()
    yield server
    server.stop()


@pytest.fixture
def failing_s3():
    server = FailingS3()
    yield server
    server.stop()


@pytest.fixture
def storage_at(settings):
    """storage_at(url, read_timeout=1, **options): point default storage elsewhere for a test."""

    def point(url, *, connect_timeout=1, read_timeout=1, attempts=1, **options):
        default = settings.STORAGES["default"]
        assert default["BACKEND"] == "storages.backends.s3.S3Storage", "the suite runs on S3"
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": attempts, "mode": "standard"},
        )
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                **default,
                "OPTIONS": {**default["OPTIONS"], "endpoint_url": url, "client_config": config, **options},
            },
        }
        # Django resets `storages` and default_storage on setting_changed; the FileField's
        # storage is the default_storage proxy, so it follows. Make sure rather than hope.
        field_storage = Attachment._meta.get_field("file").storage
        assert default_storage.endpoint_url == field_storage.endpoint_url == url
        return (connect_timeout + read_timeout) * attempts

    return point


# -- fail fast, and never under a lock -------------------------------------------------


def test_stalled_s3_answers_503_within_the_timeout_and_keeps_the_draft(draft, cast, stalled_s3, storage_at):
    worst_case = storage_at(stalled_s3.url, connect_timeout=1, read_timeout=1, attempts=1)
    before = snapshot(draft)

    started = time.monotonic()
    client = client_for(cast.applicant)
    response = client.post(reverse("bidrag:attachment_upload", args=[draft.pk]), {"kind": "lagesbild", "file": pdf()})
    elapsed = time.monotonic() - started

    assert stalled_s3.request_seen.is_set(), "the upload never reached the stalled S3"
    assert response.status_code == 303  # back to the draft (Post/Redirect/Get), told at the file field
    assert elapsed < worst_case + 3, f"took {elapsed:.2f} s; the settings allow {worst_case} s"
    body = client.get(response["Location"]).content.decode()
    assert UNAVAILABLE in body and "Ditt utkast är oförändrat" in body
    assert draft.purpose in body  # the edit page, with the draft, not an error page
    assert snapshot(draft) == before


def test_storage_errors_become_storage_unavailable(draft, failing_s3, storage_at):
    """503 from S3 and a refused connection are outages (503 to the user, retry later)."""
    storage_at(failing_s3.url)
    with pytest.raises(StorageUnavailable) as refused:
        upload_store(case_id=draft.case_id, uploaded_file=pdf())
    assert refused.value.http_status == 503 and refused.value.code == ErrorCode.STORAGE_UNAVAILABLE

    with socket.create_server(("127.0.0.1", 0)) as probe:
        closed_port = probe.getsockname()[1]
    storage_at(f"http://127.0.0.1:{closed_port}")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        upload_store(case_id=draft.case_id, uploaded_file=pdf())
    assert time.monotonic() - started < 3


def test_storage_refusing_our_credentials_is_not_hidden_as_an_outage(draft, seaweedfs, storage_at):
    """A 403 is a configuration error for the operator, not a 'try again later'."""
    storage_at(seaweedfs.endpoint_url, read_timeout=5, secret_key="not-the-secret")
    with pytest.raises(ClientError) as denied:
        upload_store(case_id=draft.case_id, uploaded_file=pdf())
    assert not isinstance(denied.value, StorageUnavailable)
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.django_db(transaction=True)
def test_draft_can_be_edited_while_an_upload_of_it_hangs(draft, cast, stalled_s3, storage_at):
    read_timeout = 3
    storage_at(stalled_s3.url, read_timeout=read_timeout)
    attachments_before = set(draft.case.attachments.values_list("pk", flat=True))
    upload_result: dict = {}

    def upload():
        try:
            started = time.monotonic()
            response = client_for(cast.applicant).post(
                reverse("bidrag:attachment_upload", args=[draft.pk]), {"kind": "lagesbild", "file": pdf()}
            )
            upload_result.update(status=response.status_code, seconds=time.monotonic() - started)
        except BaseException as exc:  # reported by the test thread
            upload_result["error"] = exc
        finally:
            connections.close_all()

    uploader = threading.Thread(target=upload)
    uploader.start()
    try:
        assert stalled_s3.request_seen.wait(5), "the upload never reached the stalled S3"
        application = Application.objects.get(pk=draft.pk)
        form = {
            "action": "save",
            "title": "Trygg i Stockholm, reviderad",
            "track": application.track_id,
            "start_date": application.start_date.isoformat(),
            "end_date": application.end_date.isoformat(),
        }
        started = time.monotonic()
        response = client_for(cast.applicant).post(reverse("bidrag:application_step", args=[draft.pk, "projekt"]), form)
        edit_seconds = time.monotonic() - started
        still_uploading = uploader.is_alive()
    finally:
        uploader.join(read_timeout + 10)

    assert response.status_code == 302, response.content.decode()[:500]
    assert still_uploading, "the upload ended before the edit: nothing was measured"
    assert edit_seconds < 0.8, f"the edit waited {edit_seconds:.2f} s on the hanging upload"
    assert Application.objects.get(pk=draft.pk).title == "Trygg i Stockholm, reviderad"
    assert "error" not in upload_result, upload_result.get("error")
    assert upload_result["status"] == 303  # refused (storage unavailable), back to the draft
    assert set(draft.case.attachments.values_list("pk", flat=True)) == attachments_before


# -- store first, record under the lock, discard what has no row ---------------------------


def test_stored_object_is_named_by_its_attachment_and_typed_by_the_check(draft, cast, seaweedfs):
    attachment = attachment_add(
        actor=cast.applicant, application=draft, uploaded_file=pdf(content_type="application/x-msdownload"), kind="lagesbild"
    )
    assert attachment.file.name == f"cases/{draft.case_id}/{attachment.pk}"
    head = seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=attachment.file.name)
    assert head["ContentLength"] == len(CONTENT)
    assert head["ContentType"] == "application/pdf"  # what we checked, not what the browser said


def test_refused_upload_puts_nothing_in_storage(draft, cast, seaweedfs):
    before = keys_of(seaweedfs, draft.case_id)
    with pytest.raises(NotAllowed):
        attachment_add(actor=cast.officer, application=draft, uploaded_file=pdf(), kind="lagesbild")
    Application.objects.filter(pk=draft.pk).update(status=Status.SUBMITTED)
    with pytest.raises(TransitionNotAllowed):
        attachment_add(actor=cast.applicant, application=draft, uploaded_file=pdf(), kind="lagesbild")
    assert keys_of(seaweedfs, draft.case_id) == before


def test_failed_record_removes_the_stored_object(draft, cast, seaweedfs):
    before = keys_of(seaweedfs, draft.case_id)
    with pytest.raises(DataError):  # kind is 40 characters at most: the row cannot be written
        attachment_add(actor=cast.applicant, application=draft, uploaded_file=pdf(), kind="x" * 41)
    assert keys_of(seaweedfs, draft.case_id) == before
    assert draft.case.attachments.count() == len(before)


def test_upload_is_streamed_not_read_into_memory(draft, seaweedfs, settings):
    """A large upload (on disk, as Django keeps uploads over 2 MB) is hashed and sent in
    pieces: the process never holds the file, or a multipart part of it, in memory."""
    size = 24 * 1024 * 1024
    settings.ATTACHMENT_MAX_BYTES = 32 * 1024 * 1024
    upload_store(case_id=draft.case_id, uploaded_file=pdf())  # S3 client built before measuring
    digest = hashlib.sha256()
    big = TemporaryUploadedFile("stor.pdf", "application/pdf", size, None)
    block = b"%PDF-1.7\n" + os.urandom(1024 * 1024 - 9)
    for _ in range(size // len(block)):
        big.write(block)
        digest.update(block)
    big.seek(0)

    tracemalloc.start()
    try:
        stored = upload_store(case_id=draft.case_id, uploaded_file=big)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        big.close()

    assert peak < 4 * 1024 * 1024, f"peak {peak / 1_048_576:.1f} MiB for a {size / 1_048_576:.0f} MiB upload"
    assert stored.size == size and stored.sha256 == digest.hexdigest()
    head = seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=stored.key)
    assert head["ContentLength"] == size


# -- orphans -------------------------------------------------------------------------------


def test_rolled_back_upload_is_an_orphan_that_cleanup_removes(draft, cast, seaweedfs):
    kept = attachment_add(actor=cast.applicant, application=draft, uploaded_file=pdf(), kind="lagesbild")
    stored = upload_store(case_id=draft.case_id, uploaded_file=pdf(name="rullas-tillbaka.pdf"))
    with pytest.raises(Rollback):
        with transaction.atomic():
            attachment_record(actor=cast.applicant, case=draft.case, stored=stored, kind="lagesbild")
            raise Rollback  # e.g. the process died before upload_discard could run
    assert object_exists(seaweedfs, stored.key)
    assert not Attachment.objects.filter(file=stored.key).exists()

    checked, removed = orphans_remove(older_than=timedelta(0))

    assert not object_exists(seaweedfs, stored.key)
    assert removed >= 1 and checked >= removed + draft.case.attachments.count()
    for attachment in draft.case.attachments.all():  # the draft's own and `kept`
        assert object_exists(seaweedfs, attachment.file.name), attachment.original_name
    assert object_exists(seaweedfs, kept.file.name)


def test_young_orphan_is_kept_for_the_default_grace_period(draft, seaweedfs, settings):
    stored = upload_store(case_id=draft.case_id, uploaded_file=pdf())
    assert settings.ATTACHMENT_ORPHAN_GRACE_HOURS == 24

    out = io.StringIO()
    call_command("attachments_cleanup", stdout=out)
    assert object_exists(seaweedfs, stored.key)
    assert "checked" in out.getvalue()

    out = io.StringIO()
    call_command("attachments_cleanup", "--grace-hours", "0", "--dry-run", stdout=out)
    assert object_exists(seaweedfs, stored.key), "a dry run removed an object"
    assert "would remove" in out.getvalue()

    call_command("attachments_cleanup", "--grace-hours", "0", stdout=io.StringIO())
    assert not object_exists(seaweedfs, stored.key)


def test_cleanup_of_local_files_keeps_referenced_and_young_ones(draft, cast, settings, tmp_path):
    """The quick start keeps attachments in MEDIA_ROOT; the same sweep applies there."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    assert Attachment._meta.get_field("file").storage.location == str(tmp_path)
    referenced = attachment_add(actor=cast.applicant, application=draft, uploaded_file=pdf(), kind="lagesbild")
    old_orphan = upload_store(case_id=draft.case_id, uploaded_file=pdf())
    young_orphan = upload_store(case_id=draft.case_id, uploaded_file=pdf())
    two_days_ago = time.time() - 48 * 3600
    for key in (referenced.file.name, old_orphan.key):
        os.utime(tmp_path / key, (two_days_ago, two_days_ago))

    checked, removed = orphans_remove(older_than=timedelta(hours=24))

    assert (checked, removed) == (3, 1)
    assert not (tmp_path / old_orphan.key).exists()
    assert (tmp_path / referenced.file.name).exists() and (tmp_path / young_orphan.key).exists()


def test_an_answer_with_a_file_during_an_s3_outage_answers_503_and_changes_nothing(
    make_application, cast, failing_s3, storage_at
):
    """Through the door: the file is stored before any lock; when S3 is down the applicant
    is told to try again (503) and the case still waits for the answer."""
    from bidrag.models import Application
    from bidrag.models.application import Status

    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    events = application.case.journal.count()
    storage_at(failing_s3.url)
    response = client_for(cast.applicant).post(
        reverse("workflows:task_action", args=[application.pk, "await_supplement", "receive_supplement"]),
        {"answer": "Här är lägesbilden", "file": pdf()},
    )
    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()
    assert Application.objects.get(pk=application.pk).status == Status.AWAITING_SUPPLEMENT
    assert application.case.journal.count() == events


def test_a_file_from_someone_who_may_not_answer_is_never_stored(make_application, cast, seaweedfs):
    from bidrag.models.application import Status
    from tests.domain import perform

    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    before = keys_of(seaweedfs, application.case_id)
    with pytest.raises(NotAllowed):
        perform(actor=cast.officer, application=application, node="await_supplement", action="receive_supplement",
                data={"answer": "x", "file": pdf()})
    assert keys_of(seaweedfs, application.case_id) == before
