"""Attachment objects in storage (S3 outside the quick start), kept apart from row locks.

DESIGN.md §3: no network I/O while a row lock is held. An upload is therefore stored
first, under a fresh key and outside any transaction (``upload_store``); then the caller
locks its rows and records the attachment (``attachment_record``); if that part fails,
the object is removed again (``upload_discard``). Objects that lose their row anyway
(a rolled-back transaction, a process killed in between) are swept by
``orphans_remove`` (``manage.py attachments_cleanup``).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .errors import ErrorCode, ServiceError, ValidationFailed
from .formatting import megabytes
from .models import Attachment, Case

logger = logging.getLogger(__name__)

# Every attachment object lives under this prefix: cases/<case id>/<attachment id>.
PREFIX = "cases"
# list_objects_v2 and delete_objects take at most 1000 keys; also the size of one
# `file__in` query.
_BATCH = 1000

# Accepted attachment types: the extension names the type, and the file's bytes must
# agree with it (UploadInspector). ZIP covers the Office Open XML and OpenDocument formats.
_PDF, _PNG, _JPEG, _ZIP = b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"PK\x03\x04"
ALLOWED_TYPES: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", _PDF),
    ".png": ("image/png", _PNG),
    ".jpg": ("image/jpeg", _JPEG),
    ".jpeg": ("image/jpeg", _JPEG),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    ".odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    ".txt": ("text/plain", None),
    ".csv": ("text/csv", None),
}
# What the uploader is told a file of each type is.
_TYPE_NAMES = {
    ".pdf": _("en PDF"),
    ".png": _("en PNG-bild"),
    ".jpg": _("en JPEG-bild"),
    ".jpeg": _("en JPEG-bild"),
    ".docx": _("ett Word-dokument"),
    ".xlsx": _("en Excel-arbetsbok"),
    ".odt": _("ett OpenDocument-textdokument"),
    ".ods": _("ett OpenDocument-kalkylblad"),
    ".txt": _("en textfil"),
    ".csv": _("en CSV-fil"),
}
# Office Open XML: a zip holding [Content_Types].xml and the part folder of its application.
_OOXML_FOLDER = {".docx": "word/", ".xlsx": "xl/"}
# OpenDocument: a zip whose first entry, stored uncompressed, is "mimetype" with the type.
_ODF = {".odt", ".ods"}
# Programs, whatever they are called: Windows PE (with a NUL in its header), ELF, Mach-O, scripts.
_EXECUTABLES = (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
                b"\xca\xfe\xba\xbe", b"#!")
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<svg", b"<?xml")
_HTML_INSIDE = (b"<html", b"<script", b"<iframe", b"<body")
_HEAD_BYTES = 4096  # the first bytes every type is judged by
_TAIL_BYTES = 256 * 1024  # the end of a zip: its central directory, the list of entries


class StorageUnavailable(ServiceError):
    """The object storage did not answer, or answered with a server error (503)."""

    code = ErrorCode.STORAGE_UNAVAILABLE
    http_status = 503

    def __init__(self, message=None, **kwargs):
        super().__init__(
            message
            or _(
                "Filen kunde inte sparas just nu eftersom lagringstjänsten inte svarar. "
                "Ditt utkast är oförändrat – försök igen om en stund."
            ),
            **kwargs,
        )


@dataclass(frozen=True)
class StoredUpload:
    """An object already in storage that no row refers to yet."""

    key: str  # the object's name in storage: cases/<case id>/<attachment id>
    original_name: str
    content_type: str
    size: int
    sha256: str


class TooLarge(ValidationFailed):
    """A file over ATTACHMENT_MAX_BYTES (413 Content Too Large)."""

    http_status = 413


def _rejected(message) -> ValidationFailed:
    return ValidationFailed(message, code=ErrorCode.UPLOAD_REJECTED)


def safe_name(name: str | None) -> str:
    """The file's own name: the last segment of whatever path the browser sent, in either
    separator ("../../etc/x.pdf", "C:\\temp\\x.pdf" → "x.pdf"), without control characters."""
    last = re.split(r"[/\\]", name or "")[-1]
    last = "".join(char for char in last if char.isprintable()).strip()
    if last in {"", ".", ".."}:
        raise _rejected(_("Filen saknar namn."))
    return last[:255]


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n\x0c").lower()
    return start.startswith(_HTML_STARTS) or any(tag in head[:_HEAD_BYTES].lower() for tag in _HTML_INSIDE)


def _is_executable(head: bytes) -> bool:
    return head.startswith(_EXECUTABLES) or (head.startswith(b"MZ") and b"\x00" in head[:64])


def _zip_names(head: bytes, tail: bytes) -> set[str] | None:
    """The entry names of a zip: from its central directory at the end if the tail holds it,
    else from the local headers at the start (as far as the head reaches). None: not a zip."""
    eocd = tail.rfind(b"PK\x05\x06")
    if eocd >= 0 and len(tail) - eocd >= 22:
        cd_size = int.from_bytes(tail[eocd + 12 : eocd + 16], "little")
        pos = eocd - cd_size
        if pos >= 0 and tail[pos : pos + 4] == b"PK\x01\x02":
            names = set()
            while tail[pos : pos + 4] == b"PK\x01\x02" and pos + 46 <= eocd:
                name_len, extra_len, comment_len = (int.from_bytes(tail[pos + i : pos + i + 2], "little") for i in (28, 30, 32))
                names.add(tail[pos + 46 : pos + 46 + name_len].decode("utf-8", "replace"))
                pos += 46 + name_len + extra_len + comment_len
            return names
    if not head.startswith(_ZIP):
        return None
    names, pos = set(), 0
    while head[pos : pos + 4] == _ZIP and pos + 30 <= len(head):
        flags = int.from_bytes(head[pos + 6 : pos + 8], "little")
        size = int.from_bytes(head[pos + 18 : pos + 22], "little")
        name_len, extra_len = (int.from_bytes(head[pos + i : pos + i + 2], "little") for i in (26, 28))
        names.add(head[pos + 30 : pos + 30 + name_len].decode("utf-8", "replace"))
        if flags & 0x08 and not size:
            break  # sizes follow the data: the next header cannot be found without inflating
        pos += 30 + name_len + extra_len + size
    return names


class UploadInspector:
    """The checks of one upload, fed its bytes as they arrive (by upload_store from a file,
    by arenden.uploads straight from the request body), and its SHA-256 on the way.

    The name and type are judged at once, the size with every chunk, the first bytes as soon
    as there are enough of them (before anything is stored), the rest at ``finish()``: a
    text must be UTF-8 throughout, an Office file's entry list is at the end of its zip.
    Each refusal is a ValidationFailed whose message names the rule.
    """

    def __init__(self, name: str | None):
        self.name = safe_name(name)
        self.extension = PurePath(self.name).suffix.lower()
        if self.extension not in ALLOWED_TYPES:
            raise _rejected(
                _("Filtypen %(ext)s tas inte emot. Tillåtna typer: %(allowed)s.")
                % {"ext": self.extension or "?", "allowed": ", ".join(sorted(ALLOWED_TYPES))}
            )
        self.content_type, self._magic = ALLOWED_TYPES[self.extension]
        self.limit: int = settings.ATTACHMENT_MAX_BYTES
        self.size = 0
        self.digest = hashlib.sha256()
        self._head = b""
        self._head_checked = False
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self._text = codecs.getincrementaldecoder("utf-8")() if self._magic is None else None

    @property
    def too_large(self) -> bool:
        return self.size > self.limit

    def too_large_error(self, size: int) -> ValidationFailed:
        return TooLarge(
            _("Filen är för stor (%(size)s). Största tillåtna storlek är %(limit)s.")
            % {"size": megabytes(size), "limit": megabytes(self.limit)},
            code=ErrorCode.UPLOAD_REJECTED,
        )

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes; raises as soon as they break a rule (the size, the first bytes)."""
        self.size += len(chunk)
        if self.too_large:
            raise self.too_large_error(self.size)
        self.digest.update(chunk)
        if not self._head_checked:
            self._head += chunk[: _HEAD_BYTES - len(self._head)]
            if len(self._head) >= _HEAD_BYTES:
                self._check_head()
        if self._text is not None:
            if b"\x00" in chunk:
                raise self._mismatch()
            self._decode(chunk)
        elif self._magic == _ZIP:
            self._tail.append(chunk)
            self._tail_size += len(chunk)
            while self._tail_size - len(self._tail[0]) >= _TAIL_BYTES:
                self._tail_size -= len(self._tail.popleft())

    def finish(self) -> None:
        """The whole file has been fed: the checks that need all of it."""
        if self.size == 0:
            raise _rejected(_("Filen är tom."))
        if not self._head_checked:
            self._check_head()
        if self._text is not None:
            self._decode(b"", final=True)
        elif self.extension in _OOXML_FOLDER:
            names = _zip_names(self._head, b"".join(self._tail)) or set()
            folder = _OOXML_FOLDER[self.extension]
            if "[Content_Types].xml" not in names or not any(n.startswith(folder) for n in names):
                raise _rejected(
                    _("Filen är ett zip-arkiv men inte %(type)s: det saknar [Content_Types].xml och "
                      "mappen %(folder)s som en %(ext)s-fil har.")
                    % {"type": _TYPE_NAMES[self.extension], "folder": folder, "ext": self.extension}
                )

    def _decode(self, chunk: bytes, final: bool = False) -> None:
        assert self._text is not None
        try:
            self._text.decode(chunk, final)
        except UnicodeDecodeError:
            raise _rejected(
                _("%(type)s ska vara sparad som UTF-8, och den här är det inte. Spara den som UTF-8 "
                  "(i Excel: ”CSV UTF-8”) och ladda upp den igen.")
                % {"type": capfirst(_TYPE_NAMES[self.extension])}
            ) from None

    def _check_head(self) -> None:
        self._head_checked = True
        head = self._head
        if _is_executable(head):
            raise _rejected(
                _("Filen är ett program, inte %(type)s. Program tas inte emot, vad filen än heter.")
                % {"type": _TYPE_NAMES[self.extension]}
            )
        if (self._magic is None or not head.startswith(self._magic)) and _looks_like_html(head):
            raise _rejected(
                _("Filen är en webbsida (HTML), inte %(type)s. Webbsidor tas inte emot: spara sidan "
                  "som PDF och ladda upp den igen.")
                % {"type": _TYPE_NAMES[self.extension]}
            )
        if self._magic is not None and not head.startswith(self._magic):
            raise self._mismatch()
        if self.extension in _ODF:
            mimetype = self.content_type.encode()
            if head[30:38] != b"mimetype" or head[38 : 38 + len(mimetype)] != mimetype:
                raise _rejected(
                    _("Filen är ett zip-arkiv men inte %(type)s: en %(ext)s-fil börjar med posten "
                      "”mimetype” och sin typ.")
                    % {"type": _TYPE_NAMES[self.extension], "ext": self.extension}
                )

    def _mismatch(self) -> ValidationFailed:
        return _rejected(
            _("Filens innehåll stämmer inte med filtypen %(ext)s: den är inte %(type)s.")
            % {"ext": self.extension, "type": _TYPE_NAMES[self.extension]}
        )


def _inspect(uploaded_file) -> UploadInspector:
    """Run every check over a file at hand (read once, in chunks); its SHA-256 with it."""
    inspector = UploadInspector(uploaded_file.name)
    if uploaded_file.size is not None and uploaded_file.size > inspector.limit:
        raise inspector.too_large_error(uploaded_file.size)
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        inspector.feed(chunk)
    uploaded_file.seek(0)
    inspector.finish()
    return inspector


def _check_upload(uploaded_file) -> tuple[str, str]:
    """Return (original name, content type) or raise with a message the uploader can act on."""
    inspector = _inspect(uploaded_file)
    return inspector.name, inspector.content_type


class StreamedUpload(UploadedFile):
    """A file arenden.uploads put in storage while the request body arrived, or refused on
    the way. It has no bytes here; ``upload_store`` hands over its StoredUpload or raises
    its refusal. One the view never hands over is removed when the request ends."""

    def __init__(self, *, name: str, size: int, content_type: str, stored: StoredUpload | None = None,
                 error: ServiceError | None = None):
        super().__init__(file=None, name=name, content_type=content_type, size=size)
        self.stored = stored
        self.error = error
        self.claimed = False

    def claim(self, *, case_id) -> StoredUpload:
        if self.error is not None:
            raise self.error
        assert self.stored is not None
        if PurePosixPath(self.stored.key).parent != PurePosixPath(PREFIX, str(case_id)):
            raise ValueError(f"{self.stored.key} was streamed for another case than {case_id}")
        self.claimed = True
        return self.stored


def _is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the storage is unreachable or failing, not that we erred."""
    import urllib3.exceptions
    from botocore.exceptions import ClientError, ConnectionClosedError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return status >= 500
    # EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError, SSLError are
    # botocore ConnectionErrors; ReadTimeoutError and ConnectionClosedError are
    # HTTPClientErrors. OSError covers a local disk (FileSystemStorage) as well.
    return isinstance(
        exc,
        BotoConnectionError | HTTPClientError | ConnectionClosedError | urllib3.exceptions.HTTPError | OSError,
    )


@contextmanager
def _unavailable_on_failure(action: str, key: str) -> Iterator[None]:
    try:
        yield
    except ServiceError:
        raise
    except Exception as exc:
        if not _is_unavailable(exc):
            raise
        logger.warning("storage unavailable during %s of %s: %s: %s", action, key, type(exc).__name__, exc)
        raise StorageUnavailable(details={"action": action}) from exc


def _field_max_length() -> int | None:
    return getattr(Attachment._meta.get_field("file"), "max_length", None)


def upload_store(*, case_id, uploaded_file) -> StoredUpload:
    """Check, hash and store an upload under a fresh key; touches no database row.

    Call it outside any transaction that holds a lock: it waits on the network. Raises
    ValidationFailed for a file we do not take, StorageUnavailable when the storage does
    not answer (within AWS_S3_CONNECT_TIMEOUT / AWS_S3_READ_TIMEOUT per attempt). A file
    arenden.uploads already streamed to storage is handed over as it is.
    """
    if isinstance(uploaded_file, StreamedUpload):
        return uploaded_file.claim(case_id=case_id)
    inspector = _inspect(uploaded_file)
    key = f"{PREFIX}/{case_id}/{uuid.uuid4()}"
    # The object's Content-Type is the checked one, not what the browser claimed.
    content = File(uploaded_file, name=key)
    content.content_type = inspector.content_type  # type: ignore[attr-defined]
    with _unavailable_on_failure("upload", key):
        if is_s3(default_storage):
            # Straight to the PUT: save() would first ask S3 whether the fresh key exists
            # (a HEAD per upload, as file_overwrite is off) to find a free name.
            stored_name = default_storage._save(key, content)  # type: ignore[attr-defined]
        else:
            stored_name = default_storage.save(key, content, max_length=_field_max_length())
    if stored_name != key:
        # A local storage renames on a collision; with a fresh UUID that means something
        # else wrote into our prefix. Refuse rather than record a stranger.
        upload_discard(StoredUpload(stored_name, inspector.name, inspector.content_type, inspector.size, ""))
        raise RuntimeError(f"storage renamed {key} to {stored_name}")
    return StoredUpload(
        key=key,
        original_name=inspector.name,
        content_type=inspector.content_type,
        size=inspector.size,
        sha256=inspector.digest.hexdigest(),
    )


class DocumentExists(RuntimeError):
    """An object is already stored under the key: a stored document is never overwritten."""


def document_put(*, key: str, content: bytes, content_type: str) -> None:
    """Store a document the agency produced (a decision letter) under ``key``, never over an
    object already there; touches no database row, so call it before taking any lock.

    S3 is asked to refuse an existing key (``If-None-Match: *``); a local storage that would
    rename the file on a collision is refused instead. Raises StorageUnavailable when the
    storage does not answer.
    """
    with _unavailable_on_failure("document", key):
        if is_s3(default_storage):
            from botocore.exceptions import ClientError

            client = default_storage.connection.meta.client  # type: ignore[attr-defined]
            try:
                client.put_object(
                    Bucket=default_storage.bucket_name,  # type: ignore[attr-defined]
                    Key=default_storage._normalize_name(key),  # type: ignore[attr-defined]
                    Body=content,
                    ContentType=content_type,
                    IfNoneMatch="*",
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "PreconditionFailed":
                    raise DocumentExists(f"{key} exists already: a stored document is never overwritten") from exc
                raise
            return
        from django.core.files.base import ContentFile

        if default_storage.exists(key):
            raise DocumentExists(f"{key} exists already: a stored document is never overwritten")
        stored_name = default_storage.save(key, ContentFile(content))
    if stored_name != key:
        upload_discard(StoredUpload(stored_name, "", content_type, len(content), ""))
        raise RuntimeError(f"storage renamed {key} to {stored_name}")


def document_read(name: str) -> bytes:
    """The bytes of a stored document; StorageUnavailable when the storage does not answer."""
    with _unavailable_on_failure("download", name), default_storage.open(name, "rb") as handle:
        return handle.read()


def is_s3(storage) -> bool:
    """Whether ``storage`` (default_storage's lazy proxy too) is django-storages' S3."""
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage)


def attachment_record(*, actor, case: Case, stored: StoredUpload, kind: str) -> Attachment:
    """Create the Attachment row for an object ``upload_store`` put in storage.

    Runs inside the caller's transaction (after it has taken its locks); uploads nothing.
    The attachment's id is the UUID in the key, so row and object name each other.
    """
    key = PurePosixPath(stored.key)
    if key.parent != PurePosixPath(PREFIX, str(case.pk)):
        raise ValueError(f"{stored.key} is not an object of case {case.pk}")
    with transaction.atomic():
        attachment = Attachment(
            id=uuid.UUID(key.name),
            case=case,
            kind=kind,
            original_name=stored.original_name,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by=actor,
        )
        # A name alone is a committed file: save() stores no content.
        attachment.file.name = stored.key
        attachment.save(force_insert=True)
        return attachment


def upload_discard(stored: StoredUpload) -> None:
    """Remove an object whose row was never written; best effort, never raises.

    Call it after the transaction has ended. What it cannot remove, orphans_remove will.
    """
    try:
        default_storage.delete(stored.key)
    except Exception:
        logger.warning("could not remove orphaned upload %s; attachments_cleanup will", stored.key, exc_info=True)


def object_chunks(name: str, *, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """A stored object in pieces, never whole in memory (django-storages' S3File would
    spool it all first); StorageUnavailable when the storage does not answer."""
    with _unavailable_on_failure("download", name):
        if is_s3(default_storage):
            client = default_storage.connection.meta.client  # type: ignore[attr-defined]
            body = client.get_object(
                Bucket=default_storage.bucket_name,  # type: ignore[attr-defined]
                Key=default_storage._normalize_name(name),  # type: ignore[attr-defined]
            )["Body"]
            try:
                yield from body.iter_chunks(chunk_size)
            finally:
                body.close()
            return
        with default_storage.open(name, "rb") as handle:
            while chunk := handle.read(chunk_size):
                yield chunk


# -- orphans -------------------------------------------------------------------------


# Besides the attachments under PREFIX, the documents other apps store before they record
# them (a decision letter, an översändelse): their prefix and which of a batch of names
# their table records. Registered in the app's ready() (documents_recorded_in).
_RECORDED: dict[str, Callable[[list[str]], set[str]]] = {}


def documents_recorded_in(prefix: str, recorded: Callable[[list[str]], set[str]]) -> None:
    """Objects under `prefix`/ that `recorded` does not name are orphans for orphans_remove."""
    _RECORDED[prefix] = recorded


def _attachments_recorded(names: list[str]) -> set[str]:
    return set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))


def _s3_objects(storage, prefix: str) -> Iterator[tuple[str, datetime]]:
    """(name as a FileField stores it, last modified) of every object under `prefix`/."""
    location = storage.location.strip("/")
    root = f"{location}/" if location else ""
    client = storage.connection.meta.client
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=storage.bucket_name, Prefix=f"{root}{prefix}/"):
        for entry in page.get("Contents", ()):
            yield entry["Key"][len(root) :], entry["LastModified"]


def _s3_delete(storage, names: list[str]) -> int:
    location = storage.location.strip("/")
    root = f"{location}/" if location else ""
    client = storage.connection.meta.client
    response = client.delete_objects(
        Bucket=storage.bucket_name,
        Delete={"Objects": [{"Key": f"{root}{name}"} for name in names], "Quiet": True},
    )
    errors = response.get("Errors", [])
    for error in errors:
        logger.warning("could not remove %s: %s %s", error.get("Key"), error.get("Code"), error.get("Message"))
    return len(names) - len(errors)


def _local_objects(storage: FileSystemStorage, prefix: str) -> Iterator[tuple[str, datetime]]:
    base = Path(storage.location)
    for directory, _subdirs, files in os.walk(base / prefix):
        for filename in files:
            path = Path(directory, filename)
            modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
            yield path.relative_to(base).as_posix(), modified


def _local_delete(storage: FileSystemStorage, names: list[str]) -> int:
    for name in names:
        storage.delete(name)
    return len(names)


def _backend(storage):
    from storages.backends.s3 import S3Storage

    if isinstance(storage, S3Storage):
        return _s3_objects, _s3_delete
    if isinstance(storage, FileSystemStorage):
        return _local_objects, _local_delete
    raise NotImplementedError(f"cannot list objects of {type(storage).__name__}")


def orphans_remove(*, older_than: timedelta, dry_run: bool = False) -> tuple[int, int]:
    """Remove objects under cases/ older than ``older_than`` that no Attachment refers to,
    and under each registered document prefix (documents_recorded_in) those its table does
    not record.

    The grace period keeps an upload whose row is still being written (upload_store
    runs before the transaction that records it). Returns (objects checked, objects
    removed, or that would be with ``dry_run``).
    """
    checked = removed = 0
    for prefix, recorded in {PREFIX: _attachments_recorded, **_RECORDED}.items():
        seen, gone = _orphans_remove_under(prefix, recorded, older_than=older_than, dry_run=dry_run)
        checked, removed = checked + seen, removed + gone
    return checked, removed


def _orphans_remove_under(prefix: str, recorded, *, older_than: timedelta, dry_run: bool) -> tuple[int, int]:
    objects, delete = _backend(default_storage)
    cutoff = timezone.now() - older_than
    checked = removed = 0
    batch: list[str] = []

    def sweep() -> int:
        referenced = recorded(batch)
        orphans = [name for name in batch if name not in referenced]
        batch.clear()
        for name in orphans:
            logger.info("%s orphaned object %s", "would remove" if dry_run else "removing", name)
        if not orphans or dry_run:
            return len(orphans)
        return delete(default_storage, orphans)

    for name, modified in objects(default_storage, prefix):
        checked += 1
        if modified < cutoff:
            batch.append(name)
            if len(batch) >= _BATCH:
                removed += sweep()
    if batch:
        removed += sweep()
    return checked, removed
