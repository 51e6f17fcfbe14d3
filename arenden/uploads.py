"""Uploads streamed straight from the request body into S3, in bounded memory.

Django's default upload handlers spool a file over FILE_UPLOAD_MAX_MEMORY_SIZE to a
temporary file, which upload_store then reads twice more (checks and hash, then the PUT).
``streamed_uploads`` instead installs ``StreamToStorage`` for a view: each file of the
multipart body goes through UploadInspector (arenden.storage: the one copy of the rules
and the SHA-256) and into one part buffer of ATTACHMENT_UPLOAD_PART_BYTES; a full buffer
becomes a part of an S3 multipart upload under a fresh key ``cases/<case id>/<uuid>``, a
file that fits in one buffer a single PUT. Nothing touches the database and no row is
locked meanwhile (DESIGN.md §3): the view records the attachment afterwards.

A refused file (a rule broken, the limit passed, S3 down) stops being stored at once; its
multipart upload is aborted and the rest of its bytes are only counted, so the message can
name the size. The view gets a StreamedUpload either way and ``upload_store`` hands over
the stored object or raises the refusal. Whatever the view did not hand over (a form
error, a refusal under the lock, a CSRF failure, an exception) is removed when it returns.

Storage other than S3 (the quick start's local files) keeps Django's handlers.

``store_request_body`` is the other way in, the one the page's script takes: the request
body is the file itself (``Content-Length`` its exact size, the name and kind in headers),
so it goes on to S3 as one PUT of that length while it arrives, judged and hashed on the
way, without the multipart upload's extra requests or its wait for a first full part.

Both ways sign S3 requests without hashing the body (UNSIGNED-PAYLOAD, as botocore already
does for streamed bodies over HTTPS): the body is hashed once, by UploadInspector, for the
attachment's SHA-256, and TLS protects it on the way in production.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from .errors import ErrorCode, ServiceError, ValidationFailed
from .storage import (
    PREFIX,
    StoredUpload,
    StreamedUpload,
    UploadInspector,
    _unavailable_on_failure,
    is_s3,
    upload_discard,
)

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
# The multipart parser hands a handler chunks of this size: larger ones mean fewer
# Python-level steps per MiB, and each is let go as soon as it is copied.
CHUNK_BYTES = 256 * 1024
# A body that is the file itself is read in steps of this size (store_request_body): fewer
# Python-level turns per MiB; one step is all that is held besides botocore's send buffer.
BODY_CHUNK_BYTES = 1024 * 1024
# Files up to this size never take the part buffer.
SMALL_BYTES = 1024 * 1024


class _Body:
    """A file-like view of a filled part buffer for botocore: length, seek, and reads that
    are views of the buffer (hashlib and the socket take them), never copies."""

    def __init__(self, view: memoryview):
        self._view = view
        self._pos = 0

    def __len__(self) -> int:
        return len(self._view)

    def read(self, size: int = -1) -> memoryview:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        data = self._view[self._pos : end]
        self._pos = end
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        self._pos = max(0, min(len(self._view), base + offset))
        return self._pos

    def tell(self) -> int:
        return self._pos


_buffers = threading.local()
# Parts go to S3 from here while the request thread goes on reading the body into another
# buffer: receiving and sending overlap, and two parts travel at once (one PUT of a part
# is slower than reading one from the request).
IN_FLIGHT = 2
_senders = ThreadPoolExecutor(max_workers=4 * IN_FLIGHT, thread_name_prefix="s3-part")


def _part_buffers(size: int) -> list[bytearray]:
    """This thread's part buffers (IN_FLIGHT being sent, one filling), made once and reused
    by every upload it serves: the process's memory stays as it is from one upload to the
    next, whatever their size."""
    buffers = getattr(_buffers, "parts", None)
    if buffers is None or len(buffers[0]) != size:
        buffers = _buffers.parts = [bytearray(size) for _ in range(IN_FLIGHT + 1)]
    return buffers


def part_buffer_release() -> None:
    """Let this thread's part buffers go (the next upload makes new ones)."""
    _buffers.__dict__.pop("parts", None)


_client_lock = threading.Lock()


def upload_client(storage):
    """An S3 client like the storage's own that sends bodies unsigned (UNSIGNED-PAYLOAD):
    botocore would otherwise hash every body once more for the signature over plain HTTP,
    and cannot hash a body that is still arriving at all. Made once per storage instance and
    kept on it (a client takes tens of milliseconds to build and is safe to share between
    threads); storage made anew from other settings gets its own."""
    from botocore.config import Config

    client = getattr(storage, "_unsigned_payload_client", None)
    if client is None:
        with _client_lock:
            client = getattr(storage, "_unsigned_payload_client", None)
            if client is None:
                config = storage.client_config
                s3 = {**(getattr(config, "s3", None) or {}), "payload_signing_enabled": False}
                client = storage._create_session().client(
                    "s3",
                    region_name=storage.region_name,
                    use_ssl=storage.use_ssl,
                    endpoint_url=storage.endpoint_url,
                    config=config.merge(Config(s3=s3)),
                    verify=storage.verify,
                )
                storage._unsigned_payload_client = client
    return client


def _object_target(storage, key: str, content_type: str) -> tuple[str, str, dict]:
    """(bucket, object name, PUT parameters) of a new attachment object at ``key``."""
    from storages.utils import clean_name

    params = {**storage.get_object_parameters(key), "ContentType": content_type}
    if storage.default_acl:
        params["ACL"] = storage.default_acl
    return storage.bucket_name, storage._normalize_name(clean_name(key)), params


class S3Writer:
    """One object written in parts of ``part_size`` as its bytes come: a single PUT if it
    fits in one part, else an S3 multipart upload whose parts are sent in the background
    while the next one fills (IN_FLIGHT + 1 buffers, each reused; IN_FLIGHT parts at once)."""

    def __init__(self, storage, key: str, content_type: str, part_size: int):
        self.key = key
        self._client = upload_client(storage)
        self._bucket, self._name, self._params = _object_target(storage, key, content_type)
        self._part_size = part_size
        self._buffer: bytearray | None = None
        self._free: list[bytearray] = []
        self._small = bytearray()
        self._filled = 0
        self._upload_id: str | None = None
        self._parts: list[dict] = []
        self._in_flight: deque[tuple[Future, bytearray]] = deque()

    def write(self, data: bytes) -> None:
        if self._buffer is None and self._filled + len(data) <= SMALL_BYTES:
            # A small file is kept in its own bytes: the thread's part buffer is made for
            # files that need it, not for every thread that ever took an upload.
            self._small += data
            self._filled += len(data)
            return
        view = memoryview(data)
        while view:
            if self._buffer is None:
                self._buffer, *self._free = _part_buffers(self._part_size)
                self._buffer[: self._filled] = self._small
                self._small = bytearray()
            elif self._filled == self._part_size:
                self._send_part()  # only once more bytes follow: a file of one part is one PUT
            take = min(len(view), self._part_size - self._filled)
            self._buffer[self._filled : self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]

    def _body(self) -> _Body:
        return _Body(memoryview(self._small if self._buffer is None else self._buffer)[: self._filled])

    def _send_part(self, *, wait: bool = False) -> None:
        """Hand the full buffer to a sender and go on filling a free one."""
        with _unavailable_on_failure("upload", self.key):
            if self._upload_id is None:
                created = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._name, **self._params)
                self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        self._parts.append({"PartNumber": number})
        sent = self._buffer
        assert sent is not None
        self._in_flight.append((_senders.submit(self._upload_part, number, self._body()), sent))
        if not self._free:
            self._settle(one=True)  # the oldest part's buffer is free again; a failure is told here
        self._buffer = self._free.pop()
        self._filled = 0
        if wait:
            self._settle()

    def _upload_part(self, number: int, body: _Body) -> None:
        with _unavailable_on_failure("upload", self.key):
            sent = self._client.upload_part(
                Bucket=self._bucket, Key=self._name, UploadId=self._upload_id, PartNumber=number, Body=body
            )
        self._parts[number - 1]["ETag"] = sent["ETag"]

    def _settle(self, *, one: bool = False) -> None:
        """Wait for the parts in flight (the oldest only, with `one`); their buffers are free
        again and a failure (StorageUnavailable) is raised here, after all have stopped."""
        failure = None
        while self._in_flight:
            future, buffer = self._in_flight.popleft()
            try:
                future.result()
            except BaseException as exc:  # the others still read their buffers: wait for them too
                failure = failure or exc
            self._free.append(buffer)
            if one and failure is None:
                break
        if failure is not None:
            raise failure

    def close(self) -> None:
        """Send what is left and make the object whole."""
        try:
            if self._upload_id is None:
                with _unavailable_on_failure("upload", self.key):
                    self._client.put_object(Bucket=self._bucket, Key=self._name, Body=self._body(), **self._params)
                return
            if self._filled:
                self._send_part(wait=True)
            self._settle()
            with _unavailable_on_failure("upload", self.key):
                self._client.complete_multipart_upload(
                    Bucket=self._bucket, Key=self._name, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
                )
            self._upload_id = None
        finally:
            self._buffer, self._free, self._small = None, [], bytearray()

    def abort(self) -> None:
        """Drop what was sent; best effort (S3 lifecycle rules clear what this cannot)."""
        try:
            self._settle()  # a part still being sent reads from a buffer: let it finish first
        except Exception:
            logger.info("part of %s failed while its upload was aborted", self.key, exc_info=True)
        self._buffer, self._free, self._small = None, [], bytearray()
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is None:
            return
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._name, UploadId=upload_id)
        except Exception:
            logger.warning("could not abort multipart upload of %s", self.key, exc_info=True)


class StreamToStorage(FileUploadHandler):
    """Upload handler: every file of the request into storage under ``cases/<case_id>/``."""

    chunk_size = CHUNK_BYTES

    def __init__(self, request=None, *, case_id, storage=None):
        super().__init__(request)
        self.case_id = case_id
        self.storage = storage if storage is not None else default_storage
        self.part_size = max(5 * MiB, int(settings.ATTACHMENT_UPLOAD_PART_BYTES))
        self.files: list[StreamedUpload] = []
        self._inspector: UploadInspector | None = None
        self._writer: S3Writer | None = None
        self._error: ServiceError | None = None
        self._too_large = False

    # -- Django's handler protocol ---------------------------------------------------

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self._inspector, self._writer, self._error, self._too_large = None, None, None, False
        try:
            self._inspector = UploadInspector(file_name)
        except ValidationFailed as refused:
            self._error = refused
        raise StopFutureHandlers

    def receive_data_chunk(self, raw_data, start):
        if self._error is not None or self._too_large:
            return None  # refused: only counted from here on (file_complete gets the size)
        inspector = self._inspector
        assert inspector is not None
        try:
            inspector.feed(raw_data)
            if self._writer is None:
                key = f"{PREFIX}/{self.case_id}/{uuid.uuid4()}"
                self._writer = S3Writer(self.storage, key, inspector.content_type, self.part_size)
            self._writer.write(raw_data)
        except ServiceError as refused:
            if inspector.too_large:
                self._too_large = True  # the message waits for the whole size
            else:
                self._error = refused
            self._abort()
        return None

    def file_complete(self, file_size):
        inspector, writer = self._inspector, self._writer
        name = inspector.name if inspector is not None else (self.file_name or "")
        if self._too_large and inspector is not None:
            self._error = inspector.too_large_error(file_size)
        if self._error is None and inspector is not None:
            try:
                inspector.finish()
                if writer is None:  # an empty file: finish() has refused it
                    raise AssertionError("no bytes and no refusal")
                writer.close()
            except ServiceError as refused:
                self._error = refused
                self._abort()
        if self._error is not None:
            upload = StreamedUpload(name=name, size=file_size, content_type=self.content_type or "", error=self._error)
        else:
            assert inspector is not None and writer is not None
            stored = StoredUpload(
                key=writer.key,
                original_name=inspector.name,
                content_type=inspector.content_type,
                size=inspector.size,
                sha256=inspector.digest.hexdigest(),
            )
            upload = StreamedUpload(name=name, size=file_size, content_type=inspector.content_type, stored=stored)
        self.files.append(upload)
        self._inspector, self._writer = None, None
        return upload

    def upload_interrupted(self):
        self._abort()

    # -- after the view ----------------------------------------------------------------

    def _abort(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.abort()

    def release(self) -> None:
        """Abort an unfinished upload and remove every stored file the view did not hand over."""
        self._abort()
        for upload in self.files:
            if upload.stored is not None and not upload.claimed:
                upload_discard(upload.stored)


def streamed_uploads(*, case_id: Callable[..., object]):
    """View decorator: the view's uploaded files go straight to S3 while the body arrives.

    ``case_id(request, *args, **kwargs)`` names the case the files belong to; it runs
    before a byte of the body is read, so it is the place to refuse (Http404) someone who
    may not upload there at all. CSRF is checked as usual, after the handler is in place
    (Django reads the token from the body): the view is csrf_exempt outside and
    csrf_protect inside. Outside login_required and require_POST, inside nothing that
    reads request.POST.
    """

    def decorate(view):
        protected = csrf_protect(view)

        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method != "POST" or not is_s3(default_storage):
                return protected(request, *args, **kwargs)
            handler = StreamToStorage(request, case_id=case_id(request, *args, **kwargs))
            request.upload_handlers = [handler]
            try:
                return protected(request, *args, **kwargs)
            finally:
                handler.release()

        return csrf_exempt(wrapper)

    return decorate


# -- the page's script: the request body is the file ------------------------------------


class LengthRequired(ServiceError):
    """A body of unknown length (411): it cannot go on to S3 as it arrives."""

    http_status = 411


class _ClientGone(Exception):
    """The body ended before its Content-Length (the person closed the page, the line broke)."""


class RequestBody:
    """The request body as the body of botocore's PUT: ``length`` bytes read from the client
    in BODY_CHUNK_BYTES steps, each judged and hashed by the inspector before any of it is handed
    on, and the last step only after the inspector's final checks (``finish()``), so a file
    refused at its end is never a whole object. botocore reads it in small pieces: they are
    views of the step just received, never copies. It cannot be rewound once read: a failed
    PUT is not retried with half a body (the person tries again)."""

    def __init__(self, stream, length: int, inspector: UploadInspector):
        self._stream = stream
        self._length = length
        self._inspector = inspector
        self._chunk = memoryview(b"")
        self._received = 0
        self._served = 0
        self.error: ServiceError | None = None
        self.client_gone = False

    def __len__(self) -> int:
        return self._length

    @property
    def received(self) -> int:
        return self._received

    def _next_chunk(self) -> None:
        want = min(BODY_CHUNK_BYTES, self._length - self._received)
        pieces, got = [], 0
        while got < want:  # a read may return less than asked before the body ends
            piece = self._stream.read(want - got)
            if not piece:
                self.client_gone = True
                raise _ClientGone(f"body ended after {self._received + got} of {self._length} bytes")
            pieces.append(piece)
            got += len(piece)
        chunk = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        try:
            self._inspector.feed(chunk)
            self._received += len(chunk)
            if self._received == self._length:
                self._inspector.finish()
        except ServiceError as refused:
            self.error = refused
            raise
        self._chunk = memoryview(chunk)

    def read(self, size: int = -1) -> memoryview | bytes:
        if not self._chunk:
            if self._received == self._length:
                return b""
            self._next_chunk()
        take = len(self._chunk) if size is None or size < 0 else min(size, len(self._chunk))
        data, self._chunk = self._chunk[:take], self._chunk[take:]
        self._served += take
        return data

    def tell(self) -> int:
        return self._served

    def seek(self, offset: int, whence: int = 0) -> int:
        # botocore rewinds before it retries a PUT. Only one that took nothing from the
        # client may go again: after a refusal (or the body ending early) a retry would
        # send a short body under the full Content-Length and wait out the read timeout.
        taken = self._received or self._served or self.error is not None or self.client_gone
        if (offset, whence) == (0, 0) and not taken:
            return 0
        raise io.UnsupportedOperation("a request body cannot be read twice")

    def drain(self) -> None:
        """Read what the client still sends of a refused file, so it gets its answer."""
        try:
            while self._received < self._length:
                piece = self._stream.read(min(CHUNK_BYTES, self._length - self._received))
                if not piece:
                    return
                self._received += len(piece)
        except OSError:
            return


def drain_request_body(request) -> None:
    """Read and drop a body that is not taken, so the client, which may still be sending,
    gets the answer; one over the attachment limit is left unread (the server closes the
    connection after answering: the page's script checks the size before it sends)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if length > settings.ATTACHMENT_MAX_BYTES:
        return
    try:
        while request.read(CHUNK_BYTES):
            pass
    except OSError:
        return


def _declared_length(request) -> int:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        length = -1
    if length < 0:
        raise LengthRequired(
            _("Filens storlek saknas i förfrågan. Ladda upp filen med formuläret på sidan.")
        )
    return length


def store_request_body(request, *, case_id, name: str) -> UploadedFile:
    """Put the file that is the request body into storage as it arrives: one PUT of the
    body's exact length (``Content-Length``) under ``cases/<case_id>/<uuid>``, checked and
    hashed on the way. Touches no database row. Returns a StreamedUpload for upload_store,
    holding the stored object or the refusal; use it through ``request_body_upload``,
    which removes an object the view does not hand over.

    The name and the size are judged before a byte of the body is read: a file over the
    limit is refused from its Content-Length alone. Storage other than S3 (the quick
    start) gets the body through a temporary file, checked by upload_store as usual.
    """
    length = _declared_length(request)
    try:
        inspector = UploadInspector(name)
    except ValidationFailed as refused:
        drain_request_body(request)
        # The refused name itself may be no file name at all ("", ".."): the message says why.
        return StreamedUpload(name="namnlos", size=length, content_type="", error=refused)
    if length > inspector.limit:
        return StreamedUpload(name=inspector.name, size=length, content_type=inspector.content_type,
                              error=inspector.too_large_error(length))
    if length == 0:
        return StreamedUpload(name=inspector.name, size=0, content_type=inspector.content_type,
                              error=ValidationFailed(_("Filen är tom."), code=ErrorCode.UPLOAD_REJECTED))
    if not is_s3(default_storage):
        return _spooled(request, inspector, length)

    key = f"{PREFIX}/{case_id}/{uuid.uuid4()}"
    body = RequestBody(request, length, inspector)
    bucket, object_name, params = _object_target(default_storage, key, inspector.content_type)
    error: ServiceError | None = None
    try:
        with _unavailable_on_failure("upload", key):
            upload_client(default_storage).put_object(
                Bucket=bucket, Key=object_name, Body=body, ContentLength=length, **params
            )
    except Exception as failed:
        # The inspector's refusal, raised from within botocore's send, comes back as it is
        # or wrapped; a client that went away is no storage failure.
        if body.error is not None:
            error = body.error
        elif body.client_gone:
            error = ValidationFailed(
                _("Filen kom inte fram hela. Försök igen."), code=ErrorCode.UPLOAD_REJECTED
            )
        elif isinstance(failed, ServiceError):
            error = failed
        else:
            raise
        body.drain()
        return StreamedUpload(name=inspector.name, size=max(length, body.received),
                              content_type=inspector.content_type, error=error)
    stored = StoredUpload(
        key=key,
        original_name=inspector.name,
        content_type=inspector.content_type,
        size=inspector.size,
        sha256=inspector.digest.hexdigest(),
    )
    return StreamedUpload(name=inspector.name, size=length, content_type=inspector.content_type, stored=stored)


def _spooled(request, inspector: UploadInspector, length: int) -> UploadedFile:
    """The quick start's local storage: the body into a temporary file for upload_store."""
    from django.core.files.uploadedfile import TemporaryUploadedFile

    spooled = TemporaryUploadedFile(inspector.name, inspector.content_type, length, None)
    remaining = length
    while remaining:
        piece = request.read(min(CHUNK_BYTES, remaining))
        if not piece:
            spooled.close()
            return StreamedUpload(name=inspector.name, size=length, content_type=inspector.content_type,
                                  error=ValidationFailed(_("Filen kom inte fram hela. Försök igen."),
                                                         code=ErrorCode.UPLOAD_REJECTED))
        spooled.write(piece)
        remaining -= len(piece)
    spooled.seek(0)
    return spooled  # an UploadedFile at hand: upload_store checks it as any other


@contextmanager
def request_body_upload(request, *, case_id, name: str) -> Iterator[UploadedFile]:
    """``store_request_body`` for a view: whatever the view does not hand over to
    upload_store (a refusal under the lock, an exception) is removed when the block ends."""
    upload = store_request_body(request, case_id=case_id, name=name)
    try:
        yield upload
    finally:
        if isinstance(upload, StreamedUpload) and upload.stored is not None and not upload.claimed:
            upload_discard(upload.stored)
        elif not isinstance(upload, StreamedUpload):
            upload.close()
