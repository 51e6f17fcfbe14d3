"""Attachment objects in storage (S3 outside the quick start), kept apart from row locks.

DESIGN.md §3: no network I/O while a row lock is held. An upload is therefore stored
first, under a fresh key and outside any transaction (``upload_store``); then the caller
locks its rows and records the attachment (``attachment_record``); if that part fails,
the object is removed again (``upload_discard``). Objects that lose their row anyway
(a rolled-back transaction, a process killed in between) are swept by
``orphans_remove`` (``manage.py attachments_cleanup``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import ErrorCode, ServiceError, ValidationFailed
from .models import Attachment, Case

logger = logging.getLogger(__name__)

# Every attachment object lives under this prefix: cases/<case id>/<attachment id>.
PREFIX = "cases"
# list_objects_v2 and delete_objects take at most 1000 keys; also the size of one
# `file__in` query.
_BATCH = 1000

# Accepted attachment types: the extension names the type, and the file's first bytes must
# agree with it. ZIP covers the Office Open XML and OpenDocument formats.
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


def _check_upload(uploaded_file) -> tuple[str, str]:
    """Return (original name, content type) or raise with a message the uploader can act on."""
    name = PurePath(uploaded_file.name or "").name[:255]
    if not name:
        raise ValidationFailed(_("Filen saknar namn."), code=ErrorCode.UPLOAD_REJECTED)
    if uploaded_file.size == 0:
        raise ValidationFailed(_("Filen är tom."), code=ErrorCode.UPLOAD_REJECTED)
    limit = settings.ATTACHMENT_MAX_BYTES
    if uploaded_file.size > limit:
        raise ValidationFailed(
            _("Filen är för stor (%(size)s MB). Största tillåtna storlek är %(limit)s MB.")
            % {"size": round(uploaded_file.size / 1_048_576, 1), "limit": limit // 1_048_576},
            code=ErrorCode.UPLOAD_REJECTED,
        )
    extension = PurePath(name).suffix.lower()
    if extension not in ALLOWED_TYPES:
        raise ValidationFailed(
            _("Filtypen %(ext)s tas inte emot. Tillåtna typer: %(allowed)s.")
            % {"ext": extension or "?", "allowed": ", ".join(sorted(ALLOWED_TYPES))},
            code=ErrorCode.UPLOAD_REJECTED,
        )
    content_type, magic = ALLOWED_TYPES[extension]
    uploaded_file.seek(0)
    head = uploaded_file.read(4096)
    uploaded_file.seek(0)
    if magic is not None and not head.startswith(magic):
        raise ValidationFailed(
            _("Filens innehåll stämmer inte med filtypen %(ext)s.") % {"ext": extension},
            code=ErrorCode.UPLOAD_REJECTED,
        )
    if magic is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            # A multi-byte character may be cut at 4096 bytes; only reject clearly binary data.
            if b"\x00" in head:
                raise ValidationFailed(
                    _("Filens innehåll stämmer inte med filtypen %(ext)s.") % {"ext": extension},
                    code=ErrorCode.UPLOAD_REJECTED,
                ) from None
    return name, content_type


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
    not answer (within AWS_S3_CONNECT_TIMEOUT / AWS_S3_READ_TIMEOUT per attempt).
    """
    original_name, content_type = _check_upload(uploaded_file)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    key = f"{PREFIX}/{case_id}/{uuid.uuid4()}"
    # The object's Content-Type is the checked one, not what the browser claimed.
    content = File(uploaded_file, name=key)
    content.content_type = content_type  # type: ignore[attr-defined]
    with _unavailable_on_failure("upload", key):
        stored_name = default_storage.save(key, content, max_length=_field_max_length())
    if stored_name != key:
        # file_overwrite=False renames on a collision; with a fresh UUID that means
        # something else wrote into our prefix. Refuse rather than record a stranger.
        upload_discard(StoredUpload(stored_name, original_name, content_type, uploaded_file.size, ""))
        raise RuntimeError(f"storage renamed {key} to {stored_name}")
    return StoredUpload(
        key=key,
        original_name=original_name,
        content_type=content_type,
        size=uploaded_file.size,
        sha256=digest.hexdigest(),
    )


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


# -- orphans -------------------------------------------------------------------------


def _s3_objects(storage) -> Iterator[tuple[str, datetime]]:
    """(name as Attachment.file stores it, last modified) of every object under PREFIX."""
    location = storage.location.strip("/")
    root = f"{location}/" if location else ""
    client = storage.connection.meta.client
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=storage.bucket_name, Prefix=f"{root}{PREFIX}/"):
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


def _local_objects(storage: FileSystemStorage) -> Iterator[tuple[str, datetime]]:
    base = Path(storage.location)
    for directory, _subdirs, files in os.walk(base / PREFIX):
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
    """Remove objects under cases/ older than ``older_than`` that no Attachment refers to.

    The grace period keeps an upload whose row is still being written (upload_store
    runs before the transaction that records it). Returns (objects checked, objects
    removed, or that would be with ``dry_run``).
    """
    objects, delete = _backend(default_storage)
    cutoff = timezone.now() - older_than
    checked = removed = 0
    batch: list[str] = []

    def sweep() -> int:
        referenced = set(Attachment.objects.filter(file__in=batch).values_list("file", flat=True))
        orphans = [name for name in batch if name not in referenced]
        batch.clear()
        for name in orphans:
            logger.info("%s orphaned object %s", "would remove" if dry_run else "removing", name)
        if not orphans or dry_run:
            return len(orphans)
        return delete(default_storage, orphans)

    for name, modified in objects(default_storage):
        checked += 1
        if modified < cutoff:
            batch.append(name)
            if len(batch) >= _BATCH:
                removed += sweep()
    if batch:
        removed += sweep()
    return checked, removed
