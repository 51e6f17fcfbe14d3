"""The letter (översändelse) that forwards a timely appeal to the court (FL 45 §), as PDF/A.

Drawn from the appeal, its decision, the decision a reconsideration put in its place
(FL 39 §), their letters and the case's diarium, as they are when the letter is written; in
Swedish, as every document the agency sends. Stored and journaled by
bidrag.services.appeals.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from arenden.calendar import stockholm_today
from arenden.formatting import day

from .letters import appeal_notice
from .models import DecisionLetter


def forwarding_documents(appeal, covers) -> list[dict]:
    """What goes to the court with the letter: the appeal, the appealed decision and its
    letter, the new decision where the appeal covers one, and the case's diarium list."""
    decision = appeal.decision
    documents = [{"title": f"Överklagandet, inkommet till Brå {day(appeal.received_on, language='sv')}: "
                           f"{appeal.summary}", "sha256": ""}]
    for item, what in ((decision, "Det överklagade beslutet"), (covers, "Beslutet efter omprövning")):
        if item is None:
            continue
        letter = DecisionLetter.objects.filter(decision=item).first()
        documents.append({
            "title": f"{what} {day(item.decided_at, language='sv')}"
                     + (" med beslutsbrevet" if letter is not None else " (beslutsbrevet är ännu inte upprättat)"),
            "sha256": letter.sha256 if letter is not None else "",
        })
    documents.append({"title": "Ärendets diarieblad (nedan)", "sha256": ""})
    return documents


def forwarding_letter_html(*, appeal, court: str, actor, covers, kept: bool, diarium) -> str:
    application = appeal.decision.application
    with translation.override("sv"):
        return render_to_string("bidrag/appeal_forwarding_letter.html", {
            "appeal": appeal, "decision": appeal.decision, "application": application, "case": application.case,
            "court": court, "actor": actor, "covers": covers, "kept": kept, "diarium": diarium,
            "documents": forwarding_documents(appeal, covers), "today": stockholm_today(),
            "appeal_notice": appeal_notice(application.call.scheme, "sv"),
        })


def forwarding_letter_pdf(**context) -> bytes:
    """The letter as PDF/A-3b (WeasyPrint), as the decision letters are."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s, only letters need it

    return HTML(string=forwarding_letter_html(**context)).write_pdf(pdf_variant="pdf/a-3b")
