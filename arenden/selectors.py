"""Reads of generic case handling. The public diarium is read by anyone, logged in or not:
what it returns is already what may be shown (OSL 5 kap.), so no page can show more."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import DiariumEntry

# Newest first; the index diarium_entry_date_order serves it in both directions (keyset).
PUBLIC_DIARIUM_ORDER = ("-entry_date", "-created_at", "-id")
SECRET = _("Uppgift omfattas av sekretess")
PRIVATE_PERSON = _("Privatperson")


@dataclass(frozen=True)
class PublicDiariumEntry:
    """An entry as the public diarium shows it. A marked entry (sekretessmarkering) shows
    that the item exists, its date, diarienummer, direction and kind; never its sender or
    recipient or its description. A private person is never named."""

    diarienummer: str
    entry_date: date
    direction: str
    kind: str
    counterpart: str
    description: str
    secret: bool


def public_diarium_entries(
    *, diarienummer: str = "", date_from: date | None = None, date_to: date | None = None, counterpart: str = ""
) -> QuerySet[DiariumEntry]:
    """The entries of cases that have a diarienummer (a draft is no official document and
    never appears), filtered; in PUBLIC_DIARIUM_ORDER for arenden.keyset. The search by
    sender/recipient looks only at what would be shown: a marked entry, or one from a
    private person, is never found by the name it hides."""
    entries = DiariumEntry.objects.filter(case__diarienummer__isnull=False)
    if diarienummer.strip():
        entries = entries.filter(case__diarienummer=diarienummer.strip())
    if date_from is not None:
        entries = entries.filter(entry_date__gte=date_from)
    if date_to is not None:
        entries = entries.filter(entry_date__lte=date_to)
    if counterpart.strip():
        entries = entries.filter(Q(secrecy="") & Q(counterpart_private=False), counterpart__icontains=counterpart.strip())
    return entries.select_related("case").only(
        "id", "entry_date", "created_at", "direction", "kind", "counterpart", "counterpart_private", "description",
        "public_description", "secrecy", "case__diarienummer",
    )


def public_diarium_rows(entries) -> list[PublicDiariumEntry]:
    """The page's entries with what may not be shown left out, before any template sees them."""
    rows = []
    for entry in entries:
        secret = bool(entry.secrecy)
        if secret:
            counterpart, description = str(SECRET), str(SECRET)
        else:
            counterpart = str(PRIVATE_PERSON) if entry.counterpart_private else entry.counterpart
            description = entry.public_description or entry.description
        rows.append(PublicDiariumEntry(
            diarienummer=entry.case.diarienummer or "", entry_date=entry.entry_date,
            direction=entry.get_direction_display(), kind=entry.get_kind_display(), counterpart=counterpart,
            description=description, secret=secret,
        ))
    return rows
