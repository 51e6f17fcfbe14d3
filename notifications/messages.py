"""The messages the system sends people: template files per message and language, rendered in
the recipient's language, written to the outbox (e-mail) and as notices (in the service).

A message kind is a folder ``templates/notifications/<kind>/`` with one file per language,
``sv.txt`` and ``en.txt``. The file's first line is the subject, the rest (after a blank
line) the body; both are plain text, so nothing is HTML-escaped. Money and dates go through
the pages' own filters (``{% load bidrag_tags %}``: ``sek``, ``day``, ``moment``), which
write in the language being rendered: "250 000 kr", "1 december 2026".

Callers give a kind and a context, never a subject or a body (``notify``). The recipient's
language is their ``MessageLanguage``, else Swedish (an organisation's own address has no
person behind it, so Swedish).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.template import Context, engines
from django.utils import translation
from django.utils.functional import lazy

from .models import MessageLanguage, Notice
from .services import outbox_enqueue

DEFAULT_LANGUAGE = "sv"
LANGUAGES = ("sv", "en")


@dataclass(frozen=True)
class Recipient:
    """Someone a message goes to: a person (``user_id``, with their e-mail if they have one)
    or an address with nobody behind it (an organisation's own e-mail)."""

    email: str = ""
    user_id: int | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def template_name(kind: str, language: str) -> str:
    return f"notifications/{kind}/{language}.txt"


def site_url() -> str:
    """Where this site is, as people reach it (``SITE_URL``, e.g. https://bidrag.bra.se)."""
    return settings.SITE_URL.rstrip("/")


def absolute_url(path: str) -> str:
    """The address of a page of this site, for an e-mail (SITE_URL and the path). A page that
    needs a login sends an anonymous visitor to it with ``?next=``, and back here after."""
    if not path:
        return ""
    return site_url() + path


def message_render(*, kind: str, context: Mapping[str, Any], language: str) -> Rendered:
    """The subject and body of ``kind`` in ``language``, from its template file."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    template = engines["django"].engine.get_template(template_name(kind, language))  # type: ignore[attr-defined]
    with translation.override(language):
        text = template.render(Context(dict(context), autoescape=False))
    subject, _blank, body = text.strip().partition("\n")
    subject = re.sub(r"\s+–\s*$", "", subject)  # a message of a case without a diarienummer yet
    # Template tags on lines of their own leave empty lines and trailing blanks behind.
    body = re.sub(r"[ \t]+\n", "\n", body.strip())
    body = re.sub(r"\n{3,}", "\n\n", body)
    return Rendered(subject=re.sub(r"[ \t]+", " ", subject).strip()[:300], body=body + "\n")


def recipient_languages(user_ids: Iterable[int]) -> dict[int, str]:
    ids = [pk for pk in user_ids if pk is not None]
    if not ids:
        return {}
    return dict(MessageLanguage.objects.filter(user_id__in=ids).values_list("user_id", "language"))


def language_of(user) -> str:
    """The language ``user``'s messages are written in."""
    if user is None or not getattr(user, "pk", None):
        return DEFAULT_LANGUAGE
    return recipient_languages([user.pk]).get(user.pk, DEFAULT_LANGUAGE)


def message_language_set(*, user, language: str) -> None:
    """Remember the language a person chose (the language switch), for their messages."""
    if language not in LANGUAGES or user is None or not getattr(user, "pk", None):
        return
    MessageLanguage.objects.update_or_create(user_id=user.pk, defaults={"language": language})


def notify(
    *, kind: str, reference: str, recipients: Iterable[Recipient], context: Mapping[str, Any], link: str = ""
) -> None:
    """Send message ``kind`` to each recipient in their language: an e-mail through the outbox
    to every address, a notice to every person. Inside the caller's transaction, like the
    change it reports (nothing is sent if that rolls back)."""
    people: dict[int, str] = {}
    addresses: dict[str, int | None] = {}
    for recipient in recipients:
        if recipient.user_id is not None:
            people.setdefault(recipient.user_id, recipient.email)
        # A person's own address takes the person's language, even if also listed bare.
        if recipient.email and addresses.get(recipient.email) is None:
            addresses[recipient.email] = recipient.user_id
    languages = recipient_languages(people)
    context = {**context, "url": absolute_url(link), "site_url": site_url()}
    rendered: dict[str, Rendered] = {}

    def in_language(language: str) -> Rendered:
        if language not in rendered:
            rendered[language] = message_render(kind=kind, context=context, language=language)
        return rendered[language]

    by_language: dict[str, list[str]] = {}
    for email, user_id in addresses.items():
        language = languages.get(user_id, DEFAULT_LANGUAGE) if user_id is not None else DEFAULT_LANGUAGE
        by_language.setdefault(language, []).append(email)
    for language, emails in by_language.items():
        message = in_language(language)
        outbox_enqueue(kind=kind, reference=reference, recipients=emails, subject=message.subject, body=message.body)
    Notice.objects.bulk_create([
        Notice(user_id=user_id, kind=kind, reference=reference[:120], link=link[:500],
               subject=in_language(languages.get(user_id, DEFAULT_LANGUAGE)).subject,
               body=in_language(languages.get(user_id, DEFAULT_LANGUAGE)).body)
        for user_id in people
    ])


# -- the kinds, with sample data for the administrators' preview and the tests ------------------

def _in_language(sv: str, en: str) -> str:
    """A sample value written by people (a reason, a court's name), in the preview's language."""
    return lazy(lambda: en if (translation.get_language() or "").startswith("en") else sv, str)()


_DAY = date(2026, 12, 1)
_MOMENT = datetime(2026, 11, 3, 13, 45, tzinfo=UTC)
_AMOUNT = Decimal("250000.00")
_COMMON = {
    "title": "Trygg i Kvarteret", "diarienummer": "2026-00042", "organisation": "Exempelby kommun",
    "url": "https://bidrag.example.se/ansokningar/0b6f5c0e-0000-4000-8000-000000000042/",
}

KINDS: dict[str, dict[str, Any]] = {
    "submitted_receipt": {"submitted_at": _MOMENT, "requested": Decimal("385000.00")},
    "signature_requested": {"requester": "Anna Andersson", "requested_at": _MOMENT, "call_title": "Utlysning 2027",
                            "requested": Decimal("385000.00"), "closes_at": datetime(2027, 2, 1, 22, 59, tzinfo=UTC)},
    "supplement_requested": {"deadline": _DAY, "request_text": "Följande behöver kompletteras:\n– Budget"},
    "communication": {"deadline": _DAY, "request_text": "Brå överväger att avslå ansökan. Underlaget bifogas."},
    "deadline_reminder": {"deadline": _DAY, "days_left": 7, "comments": False},
    "deadline_passed": {"deadline": _DAY, "comments": False},
    "decision": {"decided_at": _MOMENT, "outcome": _in_language("Beviljad", "Granted"), "granted": True, "amount": _AMOUNT,
                 "conditions": "Slutrapport senast tre månader efter projektets slut.", "reasons": "Väl underbyggd.",
                 "decided_by": "Britt Beslutsfattare", "presented_by": "Hans Handläggare",
                 "appeal_notice": _in_language("Beslutet kan överklagas hos förvaltningsrätten.",
                                               "The decision can be appealed to the administrative court.")},
    "decision_corrected": {"corrected_decided_at": _MOMENT, "note": "Beloppet skrevs fel."},
    "payment": {"amount": _AMOUNT},
    "report_due": {"due": _DAY, "days_left": 30, "overdue": False},
    "report_approved": {},
    "report_returned": {"comment": "Bifoga huvudboksutdraget."},
    "change_decided": {"approved": True, "amount": Decimal("20000.00"), "from_line": "Lokaler",
                       "to_line": "Material", "note": ""},
    "repayment_instructions": {"amount": Decimal("48000.00"), "due_on": _DAY, "bankgiro": "5050-1055",
                               "ocr": "2026000421X"},
    "delay_notice": {"reason": "Fler ansökningar än väntat.", "expected_by": _DAY},
    "decision_demand": {"due_on": _DAY},
    "demand_refused": {"reasons": "Ärendet kan avgöras först när yttrandet kommit in."},
    "appeal_forwarded": {"decided_at": _MOMENT, "court": "Förvaltningsrätten i Stockholm"},
    "appeal_dismissed": {"received_on": _DAY, "deadline": date(2026, 11, 24), "reasons": "Överklagandet kom in för sent."},
    "reconsideration_kept": {"decided_at": _MOMENT, "answer": "Begäran tillför inget nytt om projektets kostnader."},
    # To members of an organisation, about the organisation (no case, no diarienummer).
    "join_requested": {"diarienummer": "", "person": "Nora Nilsson"},
    "join_decided": {"diarienummer": "", "approved": True, "carried": True, "decided_by": "Anna Andersson",
                     "proof_sent": True},
    "invitation": {"diarienummer": "", "url": "", "inviter": "Anna Andersson", "role": _in_language("sökande", "applicant"),
                   "days": 7, "accept_url": "https://bidrag.example.se/inbjudan/exempel/"},
    "mandate_decided": {"diarienummer": "", "confirmed": False, "reasons": "Protokollet är inte justerat."},
    "join_mandate_decided": {"diarienummer": "", "confirmed": True, "reasons": ""},
    "signatory_joined": {"diarienummer": "", "person": "Kerstin Kommunjurist", "contact": "bidrag@bra.se"},
    "payment_account_changed": {"diarienummer": "", "changed_by": "Anna Andersson",
                                "method": _in_language("Bankgiro", "Bankgiro"), "account": "5050-1055",
                                "previous": "123-4567"},
    # To staff (issue 8): the daily digest, and notices of the FL 12 § mark and of dead letters.
    "staff_digest": {
        "diarienummer": "", "url": "https://bidrag.example.se/handlaggning/", "name": "Hanna Handläggare",
        "day": _DAY, "since": _MOMENT, "new_count": 2, "new_tasks": [
            {"diarienummer": "2026-00042", "title": "Trygg i Kvarteret", "queue": _in_language("Handläggare", "Case officer"),
             "mine": True, "url": "https://bidrag.example.se/arenden/0b6f5c0e-0000-4000-8000-000000000042/"},
            {"diarienummer": "2026-00043", "title": "Nattvandring", "queue": _in_language("Handläggare", "Case officer"),
             "mine": False, "url": "https://bidrag.example.se/arenden/0b6f5c0e-0000-4000-8000-000000000043/"},
        ],
        "queue_url": "https://bidrag.example.se/handlaggning/?ko=handlaggare", "overdue_new_count": 1, "overdue_total": 3,
        "overdue_new": [{"diarienummer": "2026-00017", "title": "Trygga skolvägar",
                         "queue": _in_language("Handläggare", "Case officer"),
                         "url": "https://bidrag.example.se/arenden/0b6f5c0e-0000-4000-8000-000000000017/"}],
        "overdue_url": "https://bidrag.example.se/handlaggning/?ko=handlaggare&vy=forsenade",
        "six_months_count": 1, "six_months": [
            {"diarienummer": "2026-00009", "title": "Lägesbild Norr",
             "url": "https://bidrag.example.se/arenden/0b6f5c0e-0000-4000-8000-000000000009/"}],
        "dead_letters_count": 1, "dead_letters_url": "https://bidrag.example.se/admin/notifications/deadletter/",
        "settings_url": "https://bidrag.example.se/meddelanden/installningar/",
    },
    "fl12_six_months": {"submitted_at": datetime(2026, 6, 1, 9, 30, tzinfo=UTC), "reached_on": _DAY,
                        "url": "https://bidrag.example.se/arenden/0b6f5c0e-0000-4000-8000-000000000042/"},
    "dead_letter": {"diarienummer": "", "message_kind": "decision", "recipient": "registrator@0180.kommun.example.se",
                    "message_subject": "Beslut om ekonomiskt stöd – 2026-00042", "attempts": 5, "unconfirmed_attempts": 1,
                    "last_error": "ConnectionRefusedError: [Errno 111] Connection refused",
                    "url": "https://bidrag.example.se/admin/notifications/deadletter/0b6f5c0e-0000-4000-8000-000000000001/change/"},
}


def sample_context(kind: str) -> dict[str, Any]:
    return {**_COMMON, **KINDS[kind]}
