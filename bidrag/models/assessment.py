"""Assessment (bedömning): each assessor's score per criterion, with a written reason.

The criteria are the scheme's (GrantScheme.assessment_criteria), the scale the call's
(Call.score_scale_max): data, never constants in code. One assessment per assessor per
application, editable by its author while the application is in assessment; every change
is journaled (bidrag.services.assessments), so the history is in the journal and the rows
hold the latest word. Each score keeps the criterion's name and the scale as they were
when it was given, so a later change of the scheme does not rewrite what was assessed.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _


def criteria_of(call) -> list[dict]:
    """The call's criteria as [{"code", "name", "description"}]: the scheme's list, each
    entry's `code` if given, else its name as a slug (stable while the name stands)."""
    found = []
    for entry in call.scheme.assessment_criteria or []:
        name = str(entry.get("name", "")).strip() if isinstance(entry, dict) else str(entry).strip()
        if not name:
            continue
        code = (entry.get("code") if isinstance(entry, dict) else "") or slugify(name)
        found.append({"code": code[:60], "name": name,
                      "description": entry.get("description", "") if isinstance(entry, dict) else ""})
    return found


class Assessment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey("bidrag.Application", on_delete=models.PROTECT, related_name="assessments")
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("bedömare"))
    # The sum of the scores, kept with them so a ranking of thousands reads one number per row.
    total = models.PositiveIntegerField(_("summa"), default=0)
    created_at = models.DateTimeField(_("bedömd"), auto_now_add=True)
    updated_at = models.DateTimeField(_("ändrad"), auto_now=True)

    class Meta:
        verbose_name = _("bedömning")
        verbose_name_plural = _("bedömningar")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "assessor"], name="assessment_one_per_assessor"),
        ]

    def __str__(self):
        return f"{self.assessor} – {self.total}"


class Score(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    criterion = models.CharField(_("bedömningsgrund"), max_length=60)
    criterion_name = models.CharField(_("bedömningsgrund (namn)"), max_length=200)
    value = models.PositiveSmallIntegerField(_("poäng"))
    scale_max = models.PositiveSmallIntegerField(_("skalans högsta poäng"))
    reason = models.TextField(_("motivering"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("poäng")
        verbose_name_plural = _("poäng")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "criterion"], name="score_once_per_criterion"),
            models.CheckConstraint(
                condition=models.Q(value__gte=1) & models.Q(value__lte=models.F("scale_max")), name="score_on_scale"
            ),
        ]

    def __str__(self):
        return f"{self.criterion_name}: {self.value}/{self.scale_max}"
