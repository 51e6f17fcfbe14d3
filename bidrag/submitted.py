"""The application as submitted: frozen content, its digest, and the PDF receipt.

At submission (bidrag.services.applications.application_submit) the content is frozen into
a SubmittedVersion: every field the applicant filled in, the budget lines, the attachments
with their SHA-256, the organisation and the call, the diarienummer and the time. The
receipt (kvitto) is rendered from that frozen content, never from the live rows, so it and
the "as sent" page show exactly what was sent, whatever happens to the case later.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Application
from .models.submitted import SubmittedVersion
from .steps import DECLARATIONS

FORMAT = 2  # bump when the shape of the content changes; old versions keep their own
# 2: the steps' answers (track, goals, target group, method, evaluator, other state grants'
#    answer and amount, the declarations) and each budget line's year


def _canonical(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(content: dict) -> str:
    """SHA-256 over the canonical JSON of the frozen content (sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(_canonical(content).encode("utf-8")).hexdigest()


def frozen_content(application: Application, *, submitted_at, submitted_by) -> dict:
    """What the applicant signed, as plain JSON values (amounts as strings of kronor).

    The diarienummer is Brå's registration of it, not part of it: it is given after (last in
    the submission, see application_submit) and printed beside the digest on the receipt.
    """
    lines = list(application.budget_lines.order_by("category", "description", "pk"))
    attachments = list(application.case.attachments.order_by("uploaded_at", "pk"))
    content = {
        "format": FORMAT,
        "submitted_at": timezone.localtime(submitted_at).isoformat(timespec="seconds"),
        "submitted_by": submitted_by.get_full_name() or submitted_by.get_username(),
        "organisation": {"name": application.organisation.name, "orgnr": application.organisation.orgnr_display},
        "call": {"id": str(application.call_id), "title": application.call.title,
                 "scheme": application.call.scheme.name},
        "application": {
            "id": str(application.pk),
            "title": application.title,
            **{name: getattr(application, name) for name in (
                "purpose", "need", "goals", "target_group", "method", "plan", "partners", "evaluator",
                "evaluator_has_phd", "other_state_grants_any", "other_state_grants", "evaluation")},
            "track": application.track.name if application.track is not None else None,
            "other_state_grants_amount": (str(application.other_state_grants_amount)
                                          if application.other_state_grants_amount is not None else None),
            "declarations": {name: getattr(application, name) for name in DECLARATIONS},
            "start_date": application.start_date.isoformat() if application.start_date else None,
            "end_date": application.end_date.isoformat() if application.end_date else None,
        },
        "budget": [
            {"category": line.category, "category_label": str(line.get_category_display()),
             "description": line.description, "amount": str(line.amount), "year": line.year}
            for line in lines
        ],
        "total": str(sum((line.amount for line in lines), Decimal("0"))),
        "attachments": [
            {"kind": a.kind, "name": a.original_name, "size": a.size, "sha256": a.sha256} for a in attachments
        ],
    }
    return json.loads(_canonical(content))  # as it will read back from the database


def freeze(application: Application, *, submitted_at, submitted_by) -> SubmittedVersion:
    content = frozen_content(application, submitted_at=submitted_at, submitted_by=submitted_by)
    return SubmittedVersion.objects.create(application=application, content=content, sha256=digest(content))


def receipt_pdf(version: SubmittedVersion) -> bytes:
    """The mottagningskvitto as PDF, in Swedish: it is the agency's record of receipt."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s, only receipts need it

    with translation.override("sv"):
        html = render_to_string("bidrag/receipt.html", {"version": version, "content": version.content})
    return HTML(string=html).write_pdf(
        metadata={"title": f"Mottagningskvitto {version.application.case.diarienummer or ''}"},
    )
