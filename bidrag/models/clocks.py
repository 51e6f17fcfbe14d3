import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DecisionDemand(models.Model):
    """FL 12 §: a case the applicant started and Brå has not decided within six months; the
    applicant demands in writing that it be decided, and within four weeks Brå either
    decides the case or refuses the demand by a decision of its own (which may be appealed)."""

    class Answer(models.TextChoices):
        OPEN = "", _("Väntar på svar")
        DECIDED = "decided", _("Ärendet avgjordes")
        REFUSED = "refused", _("Begäran avslogs")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey("bidrag.Application", on_delete=models.PROTECT, related_name="decision_demands")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField(_("begäran kom in"), auto_now_add=True)
    due_on = models.DateField(_("ska besvaras senast"))
    answer = models.CharField(_("svar"), max_length=10, choices=Answer.choices, blank=True, default=Answer.OPEN)
    answered_at = models.DateTimeField(null=True, blank=True)
    refusal = models.OneToOneField(
        "bidrag.Decision", on_delete=models.PROTECT, null=True, blank=True, related_name="refused_demand"
    )

    class Meta:
        verbose_name = _("begäran om avgörande")
        verbose_name_plural = _("begäranden om avgörande")
        ordering = ["made_at"]
        constraints = [
            models.UniqueConstraint(fields=["application"], condition=models.Q(answer=""),
                                    name="decision_demand_one_open")
        ]

    def __str__(self):
        return f"{self.made_at:%Y-%m-%d} {self.get_answer_display()}"


class DelayNotice(models.Model):
    """FL 11 §: Brå tells the applicant that the decision will be considerably delayed,
    why, and when it is now expected."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey("bidrag.Application", on_delete=models.PROTECT, related_name="delay_notices")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(_("anledning till förseningen"))
    expected_by = models.DateField(_("beslut väntas senast"))

    class Meta:
        verbose_name = _("underrättelse om försening")
        verbose_name_plural = _("underrättelser om försening")
        ordering = ["sent_at"]

    def __str__(self):
        return f"{self.sent_at:%Y-%m-%d} → {self.expected_by}"
