"""Decision letters (beslutsbrev) as PDF, and the appeal information they and the pages give.

A letter is drawn from its Decision, which the database keeps unchanged (a correction is a
new decision referring to the old one), so the letter read today says what was decided
then. It is in Swedish: it is the agency's document. The pages show the same appeal
information in the reader's language.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# The ordinance says Brå's grant decisions may not be appealed; an appeal lodged anyway is
# registered and passed on to the court (FL 45 §), so the letter says how.
APPEAL_NOTICE = _(
    "Förordningen anger att beslutet inte får överklagas. Om ni ändå vill överklaga, skriv till Brå "
    "inom tre veckor från att ni fick del av beslutet och ange diarienumret; Brå registrerar "
    "överklagandet och lämnar det vidare till domstol för prövning."
)


def appeal_notice(scheme=None, language: str | None = None) -> str:
    """How to appeal, in ``language`` (the active one if None): the scheme's own text where
    it has one (schemes rest on different grounds), else Brå's general notice."""
    language = language or translation.get_language() or "sv"
    if scheme is not None:
        text = scheme.appeal_notice_en if language.startswith("en") else scheme.appeal_notice
        if text.strip():
            return text
        if language.startswith("en") and scheme.appeal_notice.strip() and not scheme.appeal_notice_en.strip():
            # Only the Swedish text is configured: the Swedish is what applies.
            return scheme.appeal_notice
    with translation.override(language):
        return str(APPEAL_NOTICE)


def _repayment_instructions(decision) -> str:
    """How to pay back what a repayment decision claims (its Repayment, made with it)."""
    if decision.outcome != decision.Outcome.REPAYMENT_CLAIMED:
        return ""
    from .services.followup import repayment_instructions

    repayment = decision.application.repayments.filter(claimed_at__gte=decision.decided_at).order_by("claimed_at").first()
    return repayment_instructions(repayment) if repayment is not None else ""


def decision_letter_html(decision) -> str:
    application = decision.application
    with translation.override("sv"):
        return render_to_string(
            "bidrag/decision_letter.html",
            {
                "decision": decision,
                "application": application,
                "case": application.case,
                "appeal": appeal_notice(application.call.scheme, "sv"),
                "participants": list(decision.participants.order_by("last_name", "first_name", "username")),
                "repayment_instructions": _repayment_instructions(decision),
            },
        )


def decision_letter_pdf(decision) -> bytes:
    """The letter as PDF/A-3b (WeasyPrint), in Swedish: an archival format (fonts embedded,
    no external references) for a document the agency keeps."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s, only letters need it

    # The document title comes from the template's <title>.
    return HTML(string=decision_letter_html(decision)).write_pdf(pdf_variant="pdf/a-3b")
