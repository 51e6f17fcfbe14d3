"""Writes for generic case handling. Keyword-only, the acting user first, one transaction each."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import ValidationFailed
from .models import Attachment, Case, ConflictOfInterest, DiariumEntry, DiarieSerial
from .storage import ALLOWED_TYPES, _check_upload, attachment_record, upload_discard, upload_store

# Re-exported: forms and template tags import ALLOWED_TYPES from here.
__all__ = ["ALLOWED_TYPES", "_check_upload"]
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


def attachment_store(*, actor, case: Case, uploaded_file, kind: str) -> Attachment:
    """Store an upload and record it: ``upload_store`` then ``attachment_record``.

    The upload waits on the network, so call this only where no row lock is held; a
    caller that must lock stores first (``arenden.storage.upload_store``), then locks and
    records (``attachment_record``), as ``bidrag.services.attachment_add`` does.
    """
    stored = upload_store(case_id=case.pk, uploaded_file=uploaded_file)
    try:
        return attachment_record(actor=actor, case=case, stored=stored, kind=kind)
    except BaseException:
        # Without its row the object would be orphaned: remove it again.
        upload_discard(stored)
        raise


def conflict_declare(*, actor, case: Case, reason: str) -> ConflictOfInterest:
    if not reason.strip():
        raise ValidationFailed(_("Ange skälet till jävet."))
    with transaction.atomic():
        return ConflictOfInterest.objects.create(case=case, user=actor, reason=reason.strip())


def has_conflict(*, user, case: Case) -> bool:
    return ConflictOfInterest.objects.filter(case=case, user=user).exists()
