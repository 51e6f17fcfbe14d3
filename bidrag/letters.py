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


def appeal_notice(language: str | None = None) -> str:
    """How to appeal, in ``language`` (the active one if None)."""
    if language is None:
        return str(APPEAL_NOTICE)
    with translation.override(language):
        return str(APPEAL_NOTICE)


def decision_letter_html(decision) -> str:
    application = decision.application
    with translation.override("sv"):
        return render_to_string(
            "bidrag/decision_letter.html",
            {"decision": decision, "application": application, "case": application.case, "appeal": appeal_notice("sv")},
        )


def decision_letter_pdf(decision) -> bytes:
    """The letter as PDF (WeasyPrint), in Swedish."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s, only letters need it

    return HTML(string=decision_letter_html(decision)).write_pdf(
        metadata={"title": f"Beslut {decision.application.case.diarienummer or ''}"},
    )
