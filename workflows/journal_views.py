"""The auditor's pages of a case's history (issue 9): the case journal with every event's
hash checked, and who read the case.

The journal page recomputes each event's hash from its stored fields with the journal's
own digest (arenden.journal.digest_of) and holds it against its predecessor's; the
case's whole chain is scanned as verify_journal scans it (arenden.verification), so the
page can say whether the chain is unbroken up to it and mark the first event that is not.
Pages by keyset on the gap-free sequence number: a page costs the same queries whatever
its size and wherever it is in the chain.

Every page here is a read of the case, recorded as such (arenden.reads).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from arenden.formatting import money
from arenden.journal import GENESIS_HASH, digest_of
from arenden.keyset import AFTER, BEFORE, LAST, KeysetPage, keyset_page
from arenden.models import CaseRead, JournalEvent
from arenden.reads import READ_ORDER, by_readers, case_read_record, case_reads, reads_in_period
from arenden.verification import chain_findings, chains_scan
from bidrag import selectors as bidrag_selectors
from bidrag.roles import Role, is_staff_reader, user_roles
from konton.personnummer import PersonnummerError, personnummer_parse

from . import policy

JOURNAL_PAGE_SIZES = (100, 25, 500)
READS_PAGE_SIZE = 50
# Readers an all-reads search names at most (each is read from its own index).
READERS_MATCHED = 20


# -- who may read ----------------------------------------------------------------------


def _case_for_staff(request, application_id):
    """The case for a staff reader who takes part in it; 404 for anyone else, as for a
    missing case (a jäv-barred person sees only the case page's diarium entry, FL 16 §)."""
    if not is_staff_reader(request.user):
        raise Http404
    application = bidrag_selectors.application_get(actor=request.user, application_id=application_id)
    if policy.is_barred(request.user, application):
        raise Http404
    return application


def _auditor(request) -> None:
    """Reads of cases are the auditor's to see: anyone else is answered as if there were none."""
    if Role.AUDITOR not in user_roles(request.user):
        raise Http404


# -- the journal -----------------------------------------------------------------------


@dataclass(frozen=True)
class JournalRow:
    event: JournalEvent
    payload: list[tuple[str, str]]
    hash_checks: bool  # the stored hash is the digest of the stored fields
    link_checks: bool | None  # prev_hash is the predecessor's hash (None: predecessor not on hand)
    gap_before: bool  # a sequence number is missing just before this event
    first_broken: bool  # the first event of the chain that does not check

    @property
    def locally_sound(self) -> bool:
        """Nothing wrong to be seen on this page: the hash, the link to the event before."""
        return self.hash_checks and self.link_checks is not False and not self.gap_before

    @property
    def checks(self) -> bool:
        return self.locally_sound and not self.first_broken


def _journal_size(request) -> int:
    try:
        size = int(request.GET.get("antal", JOURNAL_PAGE_SIZES[0]))
    except ValueError:
        return JOURNAL_PAGE_SIZES[0]
    return size if size in JOURNAL_PAGE_SIZES else JOURNAL_PAGE_SIZES[0]


def _seq(raw: str | None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if value >= 0 else None


def _journal_window(case, params, size: int) -> tuple[list[JournalEvent], JournalEvent | None, bool, bool]:
    """The page's events in order, the event just before them (to check the first one's
    link), and whether there are later and earlier ones: one query of size + 2 rows."""
    events = JournalEvent.objects.filter(case=case).select_related("actor")
    after, before = _seq(params.get(AFTER)), _seq(params.get(BEFORE))
    if after is not None or (before is None and params.get(LAST) != "1"):
        after = after or 0
        fetched = list(events.filter(seq__gte=after).order_by("seq")[: size + 2])
        predecessor = fetched.pop(0) if fetched and fetched[0].seq == after else None
        rows = fetched[:size]
        return rows, predecessor, len(fetched) > size, after > 0
    fetched = list(events.filter(**({"seq__lt": before} if before is not None else {})).order_by("-seq")[: size + 1])
    rows = fetched[:size][::-1]
    predecessor = fetched[size] if len(fetched) > size else None
    return rows, predecessor, before is not None, predecessor is not None


def _journal_rows(rows: list[JournalEvent], predecessor: JournalEvent | None, first_broken: int | None,
                  first_page: bool) -> list[JournalRow]:
    checked = []
    previous = predecessor
    for event in rows:
        if previous is not None:
            link: bool | None = event.prev_hash == previous.hash
            gap = event.seq != previous.seq + 1
        elif first_page:
            link, gap = event.prev_hash == GENESIS_HASH, event.seq != 1
        else:
            link, gap = None, False  # its predecessor is missing: the chain's scan says more
        checked.append(JournalRow(
            event=event, payload=payload_items(event.payload), hash_checks=digest_of(event) == event.hash,
            link_checks=link, gap_before=gap, first_broken=event.seq == first_broken,
        ))
        previous = event
    return checked


@login_required
@require_safe
def case_journal(request, application_id):
    """Every event of the case in order, with who, in which role, when, from and to which
    state, what it carried, and whether its hash and the chain up to it check."""
    application = _case_for_staff(request, application_id)
    case = application.case
    case_read_record(actor=request.user, case_id=case.pk, kind=CaseRead.Kind.JOURNAL)
    size = _journal_size(request)
    rows, predecessor, has_next, has_previous = _journal_window(case, request.GET, size)
    # The whole chain, scanned as verify_journal scans it: one streamed query.
    scan = chains_scan(case_ids=[case.pk])
    heads = {str(case.pk): (case.diarienummer, case.journal_seq, case.journal_head)}
    findings = chain_findings(scan, heads)
    first_broken = min((link.seq for link in scan.broken), default=None)
    head_findings = findings[len(scan.broken):]  # chain_findings lists the chain's breaks first
    page = KeysetPage(
        rows=rows,
        next_cursor=str(rows[-1].seq) if has_next and rows else "",
        previous_cursor=str(rows[0].seq) if has_previous and rows else "",
        has_next=has_next and bool(rows),
        has_previous=has_previous,
    )
    first_seq, last_seq = (rows[0].seq, rows[-1].seq) if rows else (0, 0)
    return render(
        request,
        "workflows/case_journal.html",
        {
            "application": application,
            "case": case,
            "page": page,
            "rows": _journal_rows(rows, predecessor, first_broken, first_page=not has_previous),
            "first_seq": first_seq,
            "last_seq": last_seq,
            "first_broken": first_broken,
            "broken_before_page": first_broken is not None and rows and first_broken < first_seq,
            "broken_on_page": first_broken is not None and rows and first_seq <= first_broken <= last_seq,
            "broken_after_page": first_broken is not None and rows and first_broken > last_seq,
            "head_broken": bool(head_findings),
            "per_page": size,
            "page_sizes": sorted(JOURNAL_PAGE_SIZES),
            "is_auditor": Role.AUDITOR in user_roles(request.user),
        },
    )


# A personnummer or samordningsnummer as it may stand in a text: shown only up to its date
# of birth. Organisationsnummer (month 20 or more) are no dates and stay as they are.
_IDENTITY_NUMBER = re.compile(r"(?<!\d)(\d{6}|\d{8})([-+]?)(\d{4})(?!\d)")


def mask_identity_numbers(text: str) -> str:
    def masked(match: re.Match) -> str:
        try:
            personnummer_parse(match.group(0))
        except PersonnummerError:
            return match.group(0)
        return f"{match.group(1)}{match.group(2) or '-'}****"

    return _IDENTITY_NUMBER.sub(masked, text)


def _readable(key: str, value) -> str:
    if isinstance(value, str):
        text = value
        if key == "amount" or key.endswith("_amount"):
            text = money(value) or value
    elif value is None:
        text = "–"
    elif isinstance(value, bool):
        text = _("ja") if value else _("nej")
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return mask_identity_numbers(text)


def payload_items(payload) -> list[tuple[str, str]]:
    """An event's payload as (key, text) pairs, readable, with every personal identity
    number cut off after the date of birth."""
    if not isinstance(payload, dict):
        return [("", _readable("", payload))] if payload not in (None, "") else []
    return [(mask_identity_numbers(str(key)), _readable(str(key), value)) for key, value in sorted(payload.items())]


# -- reads -----------------------------------------------------------------------------


@login_required
@require_safe
def case_reads_list(request, application_id):
    """Who read the case, and what of it, newest first (Läsningar)."""
    _auditor(request)
    application = _case_for_staff(request, application_id)
    case_read_record(actor=request.user, case_id=application.case_id, kind=CaseRead.Kind.READS)
    page = keyset_page(case_reads(case_id=application.case_id), ordering=READ_ORDER, params=request.GET,
                       size=READS_PAGE_SIZE)
    return render(request, "workflows/case_reads.html", {"application": application, "case": application.case,
                                                         "page": page})


class ReadsFilterForm(forms.Form):
    """The all-reads page's filter (GET): every field optional."""

    anvandare = forms.CharField(label=gettext_lazy("Användare"), required=False, max_length=150,
                                help_text=gettext_lazy("Användarnamn, eller en del av namnet."))
    fran = forms.DateField(label=gettext_lazy("Från och med"), required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))
    till = forms.DateField(label=gettext_lazy("Till och med"), required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("fran") and data.get("till") and data["fran"] > data["till"]:
            self.add_error("till", _("Slutdatumet ligger före startdatumet."))
        return data


def _readers(query: str) -> list[int]:
    """The users a search names: by username exactly, or by a part of their name."""
    users = get_user_model().objects.filter(
        Q(username__iexact=query) | Q(first_name__icontains=query) | Q(last_name__icontains=query)
    )
    return list(users.order_by("pk").values_list("pk", flat=True)[:READERS_MATCHED])


@login_required
@require_safe
def all_reads(request):
    """Every read of every case, by one reader or all, in a period; newest first."""
    _auditor(request)
    form = ReadsFilterForm(request.GET or None)
    filtered = form.is_bound and form.is_valid()
    criteria = form.cleaned_data if filtered else {}
    valid = not form.is_bound or filtered
    reads = reads_in_period(date_from=criteria.get("fran"), date_to=criteria.get("till")).select_related(
        "case__application"
    ).only(
        "id", "case_id", "reader_id", "reader_label", "reader_roles", "read_at", "kind", "object_id", "detail",
        "case__diarienummer", "case__application__id",
    )
    query = (criteria.get("anvandare") or "").strip()
    any_of = None
    if query:
        readers = _readers(query)
        any_of = by_readers(readers)
        if not readers:
            reads = reads.none()
    page = keyset_page(reads, ordering=READ_ORDER, params=request.GET, size=READS_PAGE_SIZE, any_of=any_of) \
        if valid else None
    return render(request, "workflows/all_reads.html", {"form": form, "page": page, "valid": valid},
                  status=200 if valid else 400)
