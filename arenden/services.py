"""Writes for generic case handling. Keyword-only, the acting user first, one transaction each."""

from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .actors import Actor
from .errors import TransitionNotAllowed, ValidationFailed
from .journal import CaseEvent, journal_append
from .models import Attachment, Case, ConflictOfInterest, ConflictRuling, DiarieSerial, DiariumEntry
from .storage import ALLOWED_TYPES, StoredUpload, _check_upload, attachment_record

# Re-exported: forms and template tags import ALLOWED_TYPES from here.
__all__ = ["ALLOWED_TYPES", "_check_upload"]


def format_diarienummer(*, year: int, serial: int) -> str:
    return str(settings.DIARIENUMMER_FORMAT).format(year=year, serial=serial)


def case_create(*, actor: Actor, title: str, counterpart: str) -> Case:
    with transaction.atomic():
        return Case.objects.create(title=title, counterpart=counterpart)


def case_assign_diarienummer(*, actor: Actor, case: Case) -> Case:
    """Give the case the next gap-free serial of the current year.

    The year's serial row is locked for the rest of the caller's transaction, so parallel
    registrations queue on it and a rolled-back one leaves no gap.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        if case.diarienummer:
            return case
        now = timezone.now()
        year = timezone.localtime(now).year
        try:
            with transaction.atomic():
                DiarieSerial.objects.get_or_create(year=year)
        except IntegrityError:
            pass  # created by a parallel transaction meanwhile; lock it below
        serial_row = DiarieSerial.objects.select_for_update(of=("self",)).get(year=year)
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
    actor: Actor | None,
    case: Case,
    direction: str,
    counterpart: str,
    description: str,
    attachment: Attachment | None = None,
    kind: str = DiariumEntry.Kind.OTHER,
    public_description: str = "",
) -> DiariumEntry:
    with transaction.atomic():
        return DiariumEntry.objects.create(
            case=case,
            entry_date=timezone.localdate(),
            direction=direction,
            kind=kind,
            counterpart=counterpart[:300],
            description=description[:300],
            public_description=public_description[:300],
            attachment=attachment,
            created_by=actor,
        )


def diarium_register(
    *,
    actor: Actor,
    case: Case,
    kind: str,
    direction: str,
    entry_date: date,
    counterpart: str,
    description: str,
    counterpart_private: bool = False,
    secrecy: str = "",
    note: str = "",
    stored: StoredUpload | None = None,
    attachment_kind: str = "ovrigt",
) -> DiariumEntry:
    """Register an item of any kind on a case by hand (OSL 5 kap. 1 §: without delay, with
    date, sender or recipient and a short description), journaled. A tjänsteanteckning
    (FL 27 §) carries what was said in `note`.

    Who may is checked by the caller (the domain's policy); this refuses a case without a
    diarienummer (a draft is no official document yet). An attachment is already in
    storage (`upload_store`, before any lock): here only its row is written.
    """
    counterpart, description, secrecy, note = counterpart.strip(), description.strip(), secrecy.strip(), note.strip()
    problems: dict[str, list] = {}
    if kind not in DiariumEntry.Kind.values:
        problems["kind"] = [_("Välj vilken typ av handling det är.")]
    if direction not in DiariumEntry.Direction.values:
        problems["direction"] = [_("Välj om handlingen är inkommande, utgående eller upprättad.")]
    if entry_date is None or entry_date > timezone.localdate():
        problems["entry_date"] = [_("Datumet kan inte ligga i framtiden.")]
    if not counterpart:
        problems["counterpart"] = [_("Ange avsändare eller mottagare.")]
    if not description:
        problems["description"] = [_("Beskriv handlingen kort.")]
    if kind == DiariumEntry.Kind.PHONE_NOTE and not note:
        problems["note"] = [_("Skriv ner vad som sades (FL 27 §).")]
    for name, value, limit in (("counterpart", counterpart, 300), ("description", description, 300),
                               ("secrecy", secrecy, 200)):
        if len(value) > limit:
            problems.setdefault(name, []).append(_("Högst %(limit)s tecken.") % {"limit": limit})
    if problems:
        raise ValidationFailed(_("Handlingen kunde inte diarieföras. Rätta uppgifterna nedan."),
                               details={"fields": problems})
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        if not case.diarienummer:
            raise TransitionNotAllowed(_("Ärendet har inget diarienummer ännu och kan inte ta emot handlingar."))
        attachment = None
        if stored is not None:
            attachment = attachment_record(actor=actor, case=case, stored=stored, kind=attachment_kind)
        entry = DiariumEntry.objects.create(
            case=case, entry_date=entry_date, direction=direction, kind=kind, counterpart=counterpart,
            counterpart_private=counterpart_private, description=description, secrecy=secrecy, note=note,
            attachment=attachment, created_by=actor,
        )
        journal_append(
            actor=actor,
            case=case,
            action=CaseEvent.REGISTER_ITEM,
            payload={
                "entry": entry.pk, "kind": kind, "direction": direction, "entry_date": entry_date,
                "counterpart": counterpart, "counterpart_private": counterpart_private,
                "description": description, "secrecy": secrecy, "note": note,
                **({"attachment": attachment.pk, "sha256": attachment.sha256} if attachment else {}),
            },
        )
        return entry


def case_close(*, actor: Actor | None, case: Case, description: str) -> Case:
    """Close a case: the one place a case ends, journaled, with its diarium entry.

    A draft that never became an official document (no diarienummer) gets no diarium entry.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        if case.closed_at is not None:
            return case
        case.closed_at = timezone.now()
        case.save(update_fields=["closed_at"])
        journal_append(actor=actor, case=case, action=CaseEvent.CLOSE, payload={"description": description})
        if case.diarienummer:
            diarium_entry_add(
                actor=actor,
                case=case,
                direction=DiariumEntry.Direction.INTERNAL,
                counterpart=case.counterpart,
                description=description,
            )
        return case


def case_reopen(*, actor: Actor | None, case: Case, description: str) -> Case:
    """Take a closed case up again (a decision in it is reconsidered): journaled, with its
    diarium entry; `case_close` closes it again. A case that is open stays as it is."""
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        if case.closed_at is None:
            return case
        case.closed_at = None
        case.save(update_fields=["closed_at"])
        journal_append(actor=actor, case=case, action=CaseEvent.REOPEN, payload={"description": description})
        if case.diarienummer:
            diarium_entry_add(actor=actor, case=case, direction=DiariumEntry.Direction.INTERNAL,
                              counterpart=case.counterpart, description=description)
        return case


def conflict_declare(*, actor: Actor, case: Case, reason: str) -> ConflictOfInterest:
    """Record a declared jäv (FL 17 §: the person must report it) and journal it."""
    if not reason.strip():
        raise ValidationFailed(_("Ange skälet till jävet."))
    with transaction.atomic():
        declaration = ConflictOfInterest.objects.create(case=case, user=actor, reason=reason.strip())
        journal_append(
            actor=actor,
            case=case,
            action=CaseEvent.DECLARE_CONFLICT,
            payload={"declaration": declaration.pk, "reason": declaration.reason},
        )
        return declaration


def conflict_rule(*, actor: Actor, declaration: ConflictOfInterest, upheld: bool, reasons: str) -> ConflictRuling:
    """The agency rules on a declared jäv (FL 18 §); journaled on the case."""
    if not reasons.strip():
        raise ValidationFailed(_("Ange skälen för beslutet i jävsfrågan."))
    with transaction.atomic():
        if ConflictRuling.objects.filter(declaration=declaration).exists():
            raise TransitionNotAllowed(_("Jävsfrågan är redan avgjord."))
        ruling = ConflictRuling.objects.create(
            declaration=declaration, upheld=upheld, reasons=reasons.strip(), ruled_by=actor
        )
        journal_append(
            actor=actor,
            case=declaration.case,
            action=CaseEvent.RULE_CONFLICT,
            payload={"declaration": declaration.pk, "declarer": declaration.user_id, "upheld": upheld,
                     "reasons": ruling.reasons},
        )
        return ruling


def conflict_barred_user_ids(*, case: Case) -> set:
    """Who may not take part in the case: declared and not ruled, or ruled to be jäv."""
    return set(
        ConflictOfInterest.objects.filter(case=case)
        .exclude(ruling__upheld=False)
        .values_list("user_id", flat=True)
    )


def has_conflict(*, user, case: Case) -> bool:
    return user is not None and user.pk in conflict_barred_user_ids(case=case)
