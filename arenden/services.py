"""Writes for generic case handling. Keyword-only, the acting user first, one transaction each."""

import hashlib
from pathlib import PurePath

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import ErrorCode, ValidationFailed
from .models import Attachment, Case, ConflictOfInterest, DiariumEntry, DiarieSerial

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


def format_diarienummer(*, year: int, serial: int) -> str:
    return settings.DIARIENUMMER_FORMAT.format(year=year, serial=serial)


def case_create(*, actor, title: str, counterpart: str) -> Case:
    with transaction.atomic():
        return Case.objects.create(title=title, counterpart=counterpart)


def case_assign_diarienummer(*, actor, case: Case) -> Case:
    """Give the case the next gap-free serial of the current year.

    The year's serial row is locked for the rest of the caller's transaction, so parallel
    registrations queue on it and a rolled-back one leaves no gap.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.diarienummer:
            return case
        now = timezone.now()
        year = timezone.localtime(now).year
        try:
            with transaction.atomic():
                DiarieSerial.objects.get_or_create(year=year)
        except IntegrityError:
            pass  # created by a parallel transaction meanwhile; lock it below
        serial_row = DiarieSerial.objects.select_for_update().get(year=year)
        serial_row.last_serial += 1
        serial_row.save(update_fields=["last_serial"])
        case.diarie_year = year
        case.diarie_serial = serial_row.last_serial
        case.diarienummer = format_diarienummer(year=year, serial=serial_row.last_serial)
        case.registered_at = now
        case.save(update_fields=["diarie_year", "diarie_serial", "diarienummer", "registered_at"])
        return case


def diarium_entry_add(
    *,
    actor,
    case: Case,
    direction: str,
    counterpart: str,
    description: str,
    attachment: Attachment | None = None,
) -> DiariumEntry:
    with transaction.atomic():
        return DiariumEntry.objects.create(
            case=case,
            entry_date=timezone.localdate(),
            direction=direction,
            counterpart=counterpart[:300],
            description=description[:300],
            attachment=attachment,
            created_by=actor,
        )


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


def attachment_store(*, actor, case: Case, uploaded_file, kind: str) -> Attachment:
    """Check, hash and store an upload in the default storage (S3 outside the quick start)."""
    original_name, content_type = _check_upload(uploaded_file)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    with transaction.atomic():
        attachment = Attachment(
            case=case,
            kind=kind,
            original_name=original_name,
            content_type=content_type,
            size=uploaded_file.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        # upload_to ignores this name: objects are stored under the attachment's UUID.
        attachment.file.save(original_name, uploaded_file, save=False)
        try:
            attachment.save()
        except Exception:
            # Without its row the object would be orphaned: remove it again.
            attachment.file.storage.delete(attachment.file.name)
            raise
        return attachment


def conflict_declare(*, actor, case: Case, reason: str) -> ConflictOfInterest:
    if not reason.strip():
        raise ValidationFailed(_("Ange skälet till jävet."))
    with transaction.atomic():
        return ConflictOfInterest.objects.create(case=case, user=actor, reason=reason.strip())


def has_conflict(*, user, case: Case) -> bool:
    return ConflictOfInterest.objects.filter(case=case, user=user).exists()
