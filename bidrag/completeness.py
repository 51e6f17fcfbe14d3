"""Completeness (issue 7): what a supplement request may ask for, and by when.

The case officer ticks what is missing from a checklist drawn from the application itself:
the attachments its scheme and track require (those not attached are ticked already), the
budget, the signature, each part of the project description as the scheme's steps name it,
and "other" to describe in words. The request sent to the applicant lists what was ticked.
The deadline proposed is the call's `supplement_days` from today, moved to the next working
day (arenden.calendar); the officer may change it.
"""

from datetime import date, timedelta

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from arenden.calendar import stockholm_today, working_deadline
from arenden.errors import ValidationFailed

from .models import Application, Call
from .models.application import AttachmentKind
from .steps import FIELDS, facts_for, steps_for

BUDGET, SIGNATURE, OTHER = "budget", "underskrift", "annat"
_ATTACHMENT, _PART = "bilaga:", "del:"


def supplement_checklist(application: Application) -> list[tuple[str, str]]:
    """(code, label) for each thing a supplement request may name, in the active language."""
    facts = facts_for(application)
    items = []
    for kind in facts.required_attachments():
        label = _label(AttachmentKind, kind)
        if kind not in facts.attachment_kinds:
            label = _("%(attachment)s (saknas)") % {"attachment": label}
        items.append((f"{_ATTACHMENT}{kind}", str(_("Bilaga: %(attachment)s") % {"attachment": label})))
    items.append((BUDGET, str(_("Budget"))))
    items.append((SIGNATURE, str(_("Underskrift av behörig firmatecknare"))))
    for step in steps_for(application.call.scheme):
        if step.kind == FIELDS and step.fields:
            items.append((f"{_PART}{step.slug}", str(_("Projektbeskrivning: %(part)s") % {"part": step.title})))
    items.append((OTHER, str(_("Annat (beskriv nedan)"))))
    return items


def missing_attachments(application: Application) -> list[str]:
    """The codes of the required attachments the application lacks: ticked from the start."""
    facts = facts_for(application)
    return [f"{_ATTACHMENT}{kind}" for kind in facts.required_attachments() if kind not in facts.attachment_kinds]


def checklist_labels(application: Application, codes) -> list[str]:
    """The ticked items in Swedish, for the request to the applicant and the journal; "other"
    is left to the request's own words. Unknown codes are refused."""
    with translation.override("sv"):
        known = dict(supplement_checklist(application))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationFailed(_("Välj bara sådant som finns i listan."), details={"fields": {"missing": [
            _("Välj bara sådant som finns i listan.")]}})
    return [known[code] for code in known if code in codes and code != OTHER]


def supplement_deadline(call: Call, *, today: date | None = None) -> date:
    """The deadline proposed for a supplement: the call's supplement_days, on a working day."""
    return working_deadline((today or stockholm_today()) + timedelta(days=call.supplement_days))


def _label(choices, code: str) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code
